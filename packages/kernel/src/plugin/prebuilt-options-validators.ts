import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';

// The first-party adapters' option schemas are compiled at build time (ajv's standalone code, by
// scripts/generate-adapter-validators.mjs, into dist/plugin/options-validators/), so that a config
// naming only them does not load ajv's compiler, whose code and compile V8 keeps for the life of
// the process (docs/adr/0043-small-install-memory.md). A validator is found by the SHA-256 of the
// schema as JSON.stringify writes it: a schema that differs from the one built (a third-party
// adapter, another version of a first-party one, a run from the sources) has none and is compiled.

const require = createRequire(import.meta.url);
const folder = new URL('./options-validators/', import.meta.url);

/** Which of the two compiles (options-validator-options.ts): plain or coercing. */
export type OptionsValidatorKind = 'plain' | 'coercing';

/** The file name a validator of `schema` is generated under. */
export function prebuiltValidatorFile(schema: Readonly<Record<string, unknown>>, kind: OptionsValidatorKind): string {
  return `${kind}-${createHash('sha256').update(JSON.stringify(schema)).digest('hex')}.cjs`;
}

/** The validator generated at build time for exactly this schema, or undefined when there is none. */
export function prebuiltOptionsValidator(schema: Readonly<Record<string, unknown>>, kind: OptionsValidatorKind): ValidateFunction | undefined {
  const file = new URL(prebuiltValidatorFile(schema, kind), folder);
  if (!existsSync(file)) return undefined;
  return require(fileURLToPath(file)) as ValidateFunction;
}
