import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigValidationError, parseConfig } from '../src/index.js';

const file = join(mkdtempSync(join(tmpdir(), 'gr-config-')), 'config.yaml');

const config = (rules: string, extra = '') => `
apiVersion: gitops-reverser/v1alpha2
sources: [ { use: "@gitops-reverser/source-informer", cluster: dev } ]
targets: [ { name: live } ]
rules:
${rules}
${extra}`;

function problemsOf(text: string): ConfigValidationError {
  try {
    parseConfig(text, file);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error;
    throw error;
  }
  throw new Error('expected the config to be refused');
}

describe('config: label selectors on rules', () => {
  it('keeps objectSelector, namespaceSelector and unselected as written', () => {
    const parsed = parseConfig(
      config(`  - target: live
    resources: [configmaps]
    objectSelector: { matchLabels: { app: web }, matchExpressions: [ { key: tier, operator: In, values: [front] } ] }
    namespaceSelector: { matchExpressions: [ { key: team, operator: Exists } ] }
    unselected: keep`),
      file,
    );
    expect(parsed.rules[0]).toMatchObject({
      objectSelector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] },
      namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] },
      unselected: 'keep',
    });
  });

  it('refuses selectors Kubernetes would refuse, a namespaceSelector on a Cluster rule, unselected without a selector', () => {
    const error = problemsOf(
      config(`  - { target: live, resources: [configmaps], objectSelector: { matchExpressions: [ { key: tier, operator: In } ] } }
  - { target: live, scope: Cluster, resources: [namespaces], namespaceSelector: { matchLabels: { a: b } } }
  - { target: live, resources: [configmaps], unselected: keep }`),
    );
    expect(error.problems.map((p) => [p.keyPath, p.code])).toEqual(
      expect.arrayContaining([
        ['rules[0].objectSelector', 'GR_ERR_CONFIG_INVALID'],
        ['rules[1].namespaceSelector', 'GR_ERR_CONFIG_INVALID'],
        ['rules[2].unselected', 'GR_ERR_CONFIG_INVALID'],
      ]),
    );
    expect(error.problems.find((p) => p.keyPath === 'rules[0].objectSelector')?.message).toMatch(/In on "tier" needs at least one value/);
    // An operator outside the four is a schema problem, reported before the rest.
    const schema = problemsOf(config('  - { target: live, resources: [configmaps], objectSelector: { matchExpressions: [ { key: tier, operator: Near } ] } }'));
    expect(schema.problems[0]?.keyPath).toBe('rules[0].objectSelector.matchExpressions[0].operator');
  });
});

describe('config: names a rule can never match', () => {
  it('refuses a Kind where a resource belongs and a namespace that cannot exist, each at its key path', () => {
    const error = problemsOf(config('  - { target: live, namespaces: [shop, Team-A, team_a, "*"], resources: [configmaps, ConfigMap, "*"] }'));
    expect(error.problems.map((p) => p.keyPath).sort()).toEqual(['rules[0].namespaces[1]', 'rules[0].namespaces[2]', 'rules[0].namespaces[3]', 'rules[0].resources[1]']);
    expect(error.problems.find((p) => p.keyPath === 'rules[0].resources[1]')).toMatchObject({ code: 'GR_ERR_CONFIG_INVALID', fix: expect.stringContaining('ConfigMap: configmaps') });
    expect(error.problems.find((p) => p.keyPath === 'rules[0].namespaces[1]')?.fix).toContain('"team-a"?');
    expect(error.problems.find((p) => p.keyPath === 'rules[0].namespaces[2]')?.fix).toBe('write the namespace as it is named in the cluster');
    expect(error.problems.find((p) => p.keyPath === 'rules[0].namespaces[3]')?.fix).toBe('leave namespaces out to select every namespace');
  });
});

describe('config: sanitizer lists and field paths', () => {
  it('fills the built-in list switches, from false or from a mapping', () => {
    const base = config('  - { target: live, resources: [configmaps] }');
    expect(parseConfig(base, file).sanitizer.defaults).toEqual({ status: true, serverOwnedMetadata: true, annotations: true, labels: true, serviceAllocations: true });
    expect(parseConfig(`${base}sanitizer: { defaults: false }\n`, file).sanitizer.defaults).toEqual({
      status: false,
      serverOwnedMetadata: false,
      annotations: false,
      labels: false,
      serviceAllocations: false,
    });
    expect(parseConfig(`${base}sanitizer: { defaults: { labels: false } }\n`, file).sanitizer.defaults).toMatchObject({ labels: false, annotations: true });
  });

  it('refuses field paths it cannot read, paths that name the object, and unknown kept metadata, each at its key path', () => {
    const error = problemsOf(
      config(
        '  - { target: live, resources: [configmaps] }',
        `sanitizer:
  removeFields: [ "spec..replicas", metadata.name, { path: "spec.containers[x]", kinds: [Deployment] }, "spec.template.spec.containers[name=istio-proxy]" ]
  keepMetadata: [finalizers, finalisers]
credentials:
  ignore: [ { paths: ["data["] }, { rules: [jwt, jwts] } ]
`,
      ),
    );
    expect(error.problems.map((p) => p.keyPath).sort()).toEqual([
      'credentials.ignore[0].paths[0]',
      'credentials.ignore[1].rules[1]',
      'sanitizer.keepMetadata[1]',
      'sanitizer.removeFields[0]',
      'sanitizer.removeFields[1]',
      'sanitizer.removeFields[2]',
    ]);
    expect(error.problems.find((p) => p.keyPath === 'sanitizer.removeFields[1]')?.message).toMatch(/names the object itself/);
    // The fix says what to do about it, not how field paths are spelled (the path is well formed).
    expect(error.problems.find((p) => p.keyPath === 'sanitizer.removeFields[1]')?.fix).toMatch(/^remove this entry/);
    expect(error.problems.find((p) => p.keyPath === 'sanitizer.keepMetadata[1]')?.fix).toMatch(/finalizers/);
    // A misspelt rule id would ignore nothing: refused, with the id meant.
    expect(error.problems.find((p) => p.keyPath === 'credentials.ignore[1].rules[1]')).toMatchObject({
      message: '"jwts" is not a rule of the credential gate',
      fix: expect.stringContaining('did you mean "jwt"?'),
    });
  });
});

describe('config: the credential gate', () => {
  it('defaults to warn; rules may set their own mode', () => {
    const parsed = parseConfig(config('  - { target: live, resources: [configmaps], credentials: refuse }'), file);
    expect(parsed.credentials).toEqual({ mode: 'warn', ignore: [] });
    expect(parsed.rules[0]?.credentials).toBe('refuse');
  });

  it('redact needs a redaction key, named at the key that asks for it', () => {
    const error = problemsOf(config('  - { target: live, resources: [configmaps], credentials: redact }'));
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_CONFIG_INVALID', keyPath: 'rules[0].credentials', message: expect.stringContaining('redactionKeyFile') });
    const withKey = parseConfig(config('  - { target: live, resources: [configmaps] }', 'credentials: { mode: redact, redactionKeyFile: ./k }\n'), file);
    expect(withKey.credentials.redactionKeyFile).toBe(join(file, '..', 'k'));
  });
});
