// What the two build-time validator generators share (generate-config-validators.mjs,
// generate-adapter-validators.mjs): ajv's standalone code for a schema, kept to one byte per
// character, and the first-party adapters whose schemas are compiled (also read by the kernel's
// test of the generated validators).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const kernel = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(kernel, 'package.json'));

/**
 * `schema`'s validator compiled with `options` (and `vocabulary`'s keywords) as ajv's standalone
 * code, a CommonJS module (it require()s ajv's small runtime helpers). V8 keeps a module's source
 * in memory, as one byte per character only when all are Latin-1: a schema's hints may have a "≤"
 * or "—", so those are escaped (they occur only in string literals).
 */
export function standaloneModule(schema, options, vocabulary = []) {
  const { Ajv } = require('ajv');
  const standaloneCode = require('ajv/dist/standalone').default;
  const ajv = new Ajv({ ...options, code: { source: true } });
  ajv.addVocabulary([...vocabulary]);
  return latin1(standaloneCode(ajv, ajv.compile(schema)));
}

/** `text` with every character above Latin-1's ASCII half written as a `\uXXXX` escape. */
export function latin1(text) {
  return text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The descriptors of the adapters in packages/*: a package whose built entry's default export has meta.slot and optionsSchema. */
export async function firstPartyDescriptors() {
  const packages = join(kernel, '..');
  const found = [];
  for (const name of readdirSync(packages).sort()) {
    const manifest = join(packages, name, 'package.json');
    if (!existsSync(manifest)) continue;
    const main = JSON.parse(readFileSync(manifest, 'utf8')).main;
    if (typeof main !== 'string' || !existsSync(join(packages, name, main))) continue;
    const descriptor = (await import(pathToFileURL(join(packages, name, main)).href)).default;
    if (descriptor?.meta?.slot && descriptor.optionsSchema) found.push(descriptor);
  }
  return found;
}
