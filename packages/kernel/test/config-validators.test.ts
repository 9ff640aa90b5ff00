import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Ajv, type Options } from 'ajv';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/config-schema.js';
import { COERCING_OPTIONS, PLAIN_OPTIONS, SCHEMA_VOCABULARY } from '../src/config/config-validator-options.js';
import { coercingConfigValidator, configValidator, generatedConfigValidator } from '../src/config/config-validators.js';

const require = createRequire(import.meta.url);
/** A generated validator as its file holds it, whatever the schema. */
const generatedFile = (kind: 'plain' | 'coercing') => require(`../src/config/config-validator-${kind}.generated.cjs`) as ReturnType<typeof compiled> & { GENERATED_FROM_SCHEMA_SHA256: string };
const generatedPlain = () => generatedFile('plain');
const generatedCoercing = () => generatedFile('coercing');

/** The validator ajv compiles from the schema now: what the generated one must behave like. */
function compiled(options: Options) {
  const ajv = new Ajv(options);
  ajv.addVocabulary([...SCHEMA_VOCABULARY]);
  return ajv.compile(configSchema);
}

const valid = {
  apiVersion: 'gitops-reverser/v1alpha2',
  server: { port: 8080 },
  sources: [{ use: '@gitops-reverser/source-informer', cluster: 'dev', with: { kubeconfig: './kubeconfig' } }],
  targets: [{ name: 'live', with: { provider: 'origin', branch: 'main' } }],
  rules: [{ target: 'live', scope: 'Namespaced', namespaces: ['default'], resources: ['configmaps'] }],
};

// Wrong types, unknown keys, patterns, bounds, enums, missing required keys, a wrong apiVersion: each
// kind of error the schema has, at the top and nested.
const invalid: Record<string, unknown> = {
  'not an object': 'apiVersion: v1',
  'a wrong apiVersion, no targets or rules': { apiVersion: 'gitops-reverser/v1alpha1' },
  'unknown keys and a port out of range': { ...valid, serverr: {}, server: { port: 70000, hots: 'x' } },
  'a port as a string': { ...valid, server: { port: '8080' } },
  'a target name that is not a DNS label': { ...valid, targets: [{ name: 'Live_1', with: {} }] },
  'a rule with a wrong scope and no target': { ...valid, rules: [{ scope: 'Everywhere', resources: 'configmaps' }] },
  'a log level and format not known': { ...valid, log: { level: 'loud', format: 'xml' } },
  'sources that are not a list': { ...valid, sources: { use: 'x' } },
};

describe('the config validators generated at build time (ajv standalone code)', () => {
  it('were generated from the schema in the sources (otherwise: npm run build)', () => {
    const hash = createHash('sha256').update(JSON.stringify(configSchema)).digest('hex');
    for (const kind of ['plain', 'coercing'] as const) {
      expect(generatedFile(kind).GENERATED_FROM_SCHEMA_SHA256 === hash, `src/config/config-validator-${kind}.generated.cjs is stale or missing: run \`npm run build\``).toBe(true);
      expect(generatedConfigValidator(kind)).toBe(generatedFile(kind));
    }
  });

  it('are the ones load-config uses', () => {
    expect(configValidator()(valid)).toBe(true);
    expect(configValidator()).toBe(generatedPlain());
    expect(coercingConfigValidator()).toBe(generatedCoercing());
  });

  it.each(Object.entries(invalid))('give the errors a compiled validator gives: %s', (_, config) => {
    const generated = generatedPlain();
    const reference = compiled(PLAIN_OPTIONS);
    expect(generated(config)).toBe(false);
    expect(reference(config)).toBe(false);
    expect(generated.errors).toEqual(reference.errors);
  });

  it('coerce values as the compiled coercing validator does', () => {
    const generated = generatedCoercing();
    const reference = compiled(COERCING_OPTIONS);
    const config = () => ({ ...valid, server: { port: '9090', enabled: 'true' }, startup: { timeoutSeconds: '30' } });
    const [a, b] = [config(), config()];
    expect(generated(a)).toBe(reference(b));
    expect(a).toEqual(b);
    expect(a.server).toEqual({ port: 9090, enabled: true });
  });
});
