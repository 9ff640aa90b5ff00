import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { OPTIONS_COERCING, OPTIONS_PLAIN } from '../src/plugin/options-validator-options.js';
import { prebuiltOptionsValidator } from '../src/plugin/prebuilt-options-validators.js';
import { firstPartyDescriptors } from '../scripts/standalone-validators.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '../bin/gitops-reverser.js');
type Schema = Record<string, unknown> & { properties?: Record<string, Record<string, unknown>> };

/** The first-party adapters' option schemas, found as the build's generator finds them. */
async function firstPartySchemas(): Promise<[string, Schema][]> {
  const schemas: [string, Schema][] = [];
  for (const descriptor of await firstPartyDescriptors()) {
    schemas.push([`${descriptor.meta.name} options`, descriptor.optionsSchema]);
    if (descriptor.targetOptionsSchema) schemas.push([`${descriptor.meta.name} target options`, descriptor.targetOptionsSchema]);
  }
  return schemas;
}

const schemas = await firstPartySchemas();
// Values of every kind, put in place of each option in turn: wrong types, out-of-range and
// malformed values, and strings as `${VAR}` gives them.
const probes: unknown[] = [null, true, 0, -1, 1.5, 70000, '', 'x', '1', 'true', 'a b/c', [], ['x'], [1], {}, { unknown: 1 }];

/** Option sets to validate: empty, with an unknown key, and each option (one level deep too) set to each probe. */
function cases(schema: Schema): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [{}, { notAnOption: 1 }];
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    for (const probe of probes) out.push({ [key]: probe });
    const nested = property['properties'] as Record<string, unknown> | undefined;
    for (const inner of Object.keys(nested ?? {})) for (const probe of probes) out.push({ [key]: { [inner]: probe } });
    const items = (property['items'] as Schema | undefined)?.properties;
    for (const inner of Object.keys(items ?? {})) for (const probe of probes) out.push({ [key]: [{ [inner]: probe }] });
  }
  return out;
}

/** Runs a validator on a copy: its answer, its errors and the copy afterwards (defaults filled in, values coerced). */
function outcome(validate: ValidateFunction, value: Record<string, unknown>) {
  const copy = structuredClone(value);
  const valid = validate(copy);
  return { valid, errors: validate.errors ?? null, value: copy };
}

describe('the first-party adapters’ option validators generated at build time (ajv standalone code)', () => {
  it('exist for every first-party adapter schema', () => {
    expect(schemas.length).toBeGreaterThanOrEqual(7);
    for (const [name, schema] of schemas) {
      expect(prebuiltOptionsValidator(schema, 'plain'), `${name}: no generated plain validator (npm run build)`).toBeTypeOf('function');
      expect(prebuiltOptionsValidator(schema, 'coercing'), `${name}: no generated coercing validator (npm run build)`).toBeTypeOf('function');
    }
  });

  it('are not found for a schema they were not made from', () => {
    expect(prebuiltOptionsValidator({ type: 'object', properties: { other: { type: 'string' } } }, 'plain')).toBeUndefined();
  });

  it.each(schemas)('give the answers, errors and defaults a compiled validator gives: %s', (_, schema) => {
    for (const [kind, options] of [
      ['plain', OPTIONS_PLAIN],
      ['coercing', OPTIONS_COERCING],
    ] as const) {
      const generated = prebuiltOptionsValidator(schema, kind) as ValidateFunction;
      const compiled = new Ajv(options).compile(schema);
      for (const value of cases(schema)) expect(outcome(generated, value), `${kind} ${JSON.stringify(value)}`).toEqual(outcome(compiled, value));
    }
  });
});

describe('a config naming only first-party adapters', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gr-prebuilt-validators-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** `gitops-reverser validate` of `config` (built CLI) with the paths of the ajv modules it loaded. */
  function validate(config: string, env: Record<string, string> = {}) {
    const probe = join(dir, 'loaded-modules.mjs');
    writeFileSync(
      probe,
      `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
process.on('exit', () => process.stderr.write('AJV_MODULES ' + JSON.stringify(Object.keys(require.cache).filter((id) => id.includes('/node_modules/ajv/'))) + '\\n'));
`,
    );
    const file = join(dir, 'config.yaml');
    writeFileSync(file, config);
    const result = spawnSync(process.execPath, ['--import', pathToFileURL(probe).href, cli, 'validate', '--config', file], { encoding: 'utf8', env: { ...process.env, ...env } });
    const line = /^AJV_MODULES (.*)$/m.exec(result.stderr)?.[1];
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, ajv: JSON.parse(line ?? 'null') as string[] | null };
  }

  const config = (bus: string) => `apiVersion: gitops-reverser/v1alpha2
server: { port: "\${GR_TEST_PORT}" }
sources: [ { use: "@gitops-reverser/source-informer", cluster: dev, with: { kubeconfig: ./kubeconfig } } ]
bus: ${bus}
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: origin, url: ./repo } ] } }
targets: [ { name: live, with: { provider: origin, branch: main, path: clusters/dev } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [default], resources: [configmaps] } ]
`;

  it('is validated without loading ajv’s compiler, also with values from ${VAR} (only its runtime helpers)', () => {
    const result = validate(config('{ use: "@gitops-reverser/bus-memory", with: { capacityPerPartition: "${GR_TEST_CAPACITY}" } }'), { GR_TEST_PORT: '8080', GR_TEST_CAPACITY: '500' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('valid');
    expect(result.ajv).not.toBeNull();
    expect(result.ajv?.filter((id) => !id.includes('/node_modules/ajv/dist/runtime/'))).toEqual([]);
  });

  it('gets the same option errors as before, with the key path and the adapter named', () => {
    const result = validate(config('{ use: "@gitops-reverser/bus-memory", with: { capacityPerPartition: 0, extra: 1 } }'), { GR_TEST_PORT: '8080' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('bus.with.capacityPerPartition');
    expect(result.stderr).toContain('bus.with.extra');
    expect(result.stderr).toContain('@gitops-reverser/bus-memory');
    expect(result.ajv?.filter((id) => !id.includes('/node_modules/ajv/dist/runtime/'))).toEqual([]);
  });
});
