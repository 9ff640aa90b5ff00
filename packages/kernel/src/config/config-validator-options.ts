import type { Options } from 'ajv';

// The ajv options of the config schema's two validators, shared by the build step that generates
// them (scripts/generate-config-validators.mjs) and load-config.ts, which compiles them itself only
// when the generated ones were made from another schema (an edit not yet built).

/** The validator whose errors become config problems: all of them, with the failing schema (its `x-fix`). */
export const PLAIN_OPTIONS: Options = { allErrors: true, verbose: true, allowUnionTypes: true };

/** The validator run on a copy to convert values from `${VAR}` to the schema's types (expanded-coercion.ts). */
export const COERCING_OPTIONS: Options = { allErrors: true, allowUnionTypes: true, coerceTypes: true };

/** Keywords of the schema that are not JSON Schema: `x-fix`, the hint shown when a value fails. */
export const SCHEMA_VOCABULARY: readonly string[] = ['x-fix'];
