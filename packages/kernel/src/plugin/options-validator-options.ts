import type { Options } from 'ajv';

// The ajv options adapters' option schemas are compiled with: by load-adapters.ts at run time, and
// by scripts/generate-adapter-validators.mjs at build time for the first-party adapters (ajv's
// standalone code of the same compile, so the errors are the same).

/** Options are validated with defaults applied (`useDefaults`), so adapters see complete options; errors carry the failing schema (its `x-fix`). */
export const OPTIONS_PLAIN: Options = { allErrors: true, verbose: true, useDefaults: true, allowUnionTypes: true, strict: false };

/** The validator run on a copy to convert values from `${VAR}` to the schema's types (expanded-coercion.ts). */
export const OPTIONS_COERCING: Options = { allErrors: true, allowUnionTypes: true, strict: false, coerceTypes: true };
