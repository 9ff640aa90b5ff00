import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigValidationError, defineConfig, loadConfigFile, parseConfig } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gr-config-'));
const file = join(dir, 'config.yaml');

const VALID = `
apiVersion: gitops-reverser/v1alpha2
server: { port: 8080 }
sources:    [ { use: "@gitops-reverser/source-informer", cluster: dev, with: { kubeconfig: ./kubeconfig } } ]
normalizers: []
bus:  { use: "@gitops-reverser/bus-memory" }
sink:
  use: "@gitops-reverser/sink-git"
  with: { providers: [ { name: origin, url: ./state-repo, auth: { username: git, password: "\${GIT_TOKEN}" } } ] }
targets:
  - { name: live, with: { provider: origin, branch: main, path: clusters/dev } }
rules:
  - { target: live, scope: Namespaced, namespaces: [default], apiGroups: [""], resources: [configmaps] }
  - { target: live, scope: Cluster, apiGroups: [apiextensions.k8s.io], resources: [customresourcedefinitions] }
`;

function problemsOf(text: string, env: Record<string, string> = { GIT_TOKEN: 't0ken' }): ConfigValidationError {
  try {
    parseConfig(text, file, { env });
  } catch (error) {
    if (error instanceof ConfigValidationError) return error;
    throw error;
  }
  throw new Error('expected the config to be refused');
}

describe('config: the documented shape', () => {
  it('accepts the contract example and fills defaults', () => {
    const config = parseConfig(VALID, file, { env: { GIT_TOKEN: 't0ken' } });
    expect(config.apiVersion).toBe('gitops-reverser/v1alpha2');
    expect(config.sources[0]).toEqual({ use: '@gitops-reverser/source-informer', cluster: 'dev', with: { kubeconfig: './kubeconfig' }, keyPath: 'sources[0]' });
    // Adapter options pass through as written (expanded); the adapter's schema checks them at load.
    expect(config.sink.with).toMatchObject({ providers: [{ name: 'origin', url: './state-repo', auth: { username: 'git', password: 't0ken' } }] });
    expect(config.targets[0]).toEqual({ name: 'live', with: { provider: 'origin', branch: 'main', path: 'clusters/dev' }, keyPath: 'targets[0]' });
    expect(config.rules[1]).toMatchObject({ scope: 'Cluster', clusters: [], namespaces: [], operations: [], apiVersions: [] });
    expect(config.bus).toEqual({ use: '@gitops-reverser/bus-memory', with: {}, keyPath: 'bus' });
    expect(config.server).toEqual({ port: 8080, host: '127.0.0.1' });
    expect(config.shutdown.timeoutSeconds).toBe(25);
    expect(config.startup.timeoutSeconds).toBe(600);
  });

  it('defaults the bus and sink when their keys are omitted', () => {
    const config = parseConfig(VALID.replace(/^bus:.*$/m, ''), file, { env: { GIT_TOKEN: 'x' } });
    expect(config.bus.use).toBe('@gitops-reverser/bus-memory');
    expect(config.sink.use).toBe('@gitops-reverser/sink-git');
  });

  it('a sink: or bus: written without use: names the package leaving the key out would load', () => {
    const error = problemsOf(VALID.replace('  use: "@gitops-reverser/sink-git"\n', '').replace('bus:  { use: "@gitops-reverser/bus-memory" }', 'bus: { with: {} }'));
    expect(error.problems.find((p) => p.keyPath === 'sink.use')).toMatchObject({
      code: 'GR_ERR_CONFIG_INVALID',
      message: 'is required',
      fix: expect.stringContaining('use: "@gitops-reverser/sink-git"'),
    });
    expect(error.problems.find((p) => p.keyPath === 'bus.use')?.fix).toContain('use: "@gitops-reverser/bus-memory"');
  });

  it('expands ${VAR}, ${VAR:-default} and $$ in values only', () => {
    const config = parseConfig(VALID.replace('path: clusters/dev', 'path: "clusters/${CLUSTER:-fallback}"'), file, { env: { GIT_TOKEN: 'a$b' } });
    expect(config.targets[0]?.with['path']).toBe('clusters/fallback');
    expect(JSON.stringify(config.sink.with)).toContain('"password":"a$b"');
    const dollars = parseConfig(VALID.replace('clusters/dev', 'clusters/$$x'), file, { env: { GIT_TOKEN: 'x' } });
    expect(dollars.targets[0]?.with['path']).toBe('clusters/$x');
  });

  it('builds the same config from an object in code (defineConfig), with the same errors', () => {
    const config = defineConfig(
      { sources: [{ use: './source.js', cluster: 'dev' }], sink: { use: './sink.js' }, targets: [{ name: 'live' }], rules: [{ target: 'live', resources: ['configmaps'] }] },
      { baseDir: dir },
    );
    expect(config).toMatchObject({ apiVersion: 'gitops-reverser/v1alpha2', configFile: '<inline>', baseDir: dir, server: { port: 8080, host: '127.0.0.1' } });
    expect(config.server.enabled).toBeUndefined();
    expect(() => defineConfig({ targets: [{ name: 'live' }], rules: [{ target: 'nope', resources: ['x'] }] })).toThrow(
      /rules\[0\]\.target: target "nope" is not defined \[GR_ERR_CONFIG_DANGLING_REF\]/,
    );
  });
});

describe('config: the 0.1 shape is refused with a way to move each key', () => {
  const OLD = `
cluster: { id: dev, kubeconfig: ./kubeconfig }
providers: [ { name: origin, url: ./state-repo } ]
targets: [ { name: live, provider: origin, branch: main, path: clusters/dev } ]
rules: [ { target: live, resources: [configmaps] } ]
`;
  it('says where cluster, providers and the git keys of targets go', () => {
    const error = problemsOf(OLD);
    expect(error.problems.every((p) => p.code === 'GR_ERR_CONFIG_VERSION')).toBe(true);
    const byKey = Object.fromEntries(error.problems.map((p) => [p.keyPath, p]));
    expect(byKey['']?.fix).toContain('add apiVersion: gitops-reverser/v1alpha2');
    expect(byKey['cluster']?.fix).toMatch(/write cluster: dev on each entry of sources:.*sources\[\]\.with\.kubeconfig/);
    expect(byKey['providers']?.fix).toContain('sink.with.providers');
    expect(byKey['targets[0]']?.message).toBe('provider, branch, path are options of the git sink now');
    expect(byKey['targets[0]']?.fix).toContain('under targets[0].with');
    expect(error.message).toMatch(/config\.yaml:2:\d+: cluster:/);
  });

  it('an unknown apiVersion', () => {
    const error = problemsOf(VALID.replace('gitops-reverser/v1alpha2', 'gitops-reverser/v9'));
    expect(error.problems).toEqual([expect.objectContaining({ code: 'GR_ERR_CONFIG_VERSION', keyPath: 'apiVersion' })]);
  });
});

describe('config errors: each names the file, the key path and the fix', () => {
  it('a missing file', () => {
    expect(() => loadConfigFile(join(dir, 'nope.yaml'))).toThrow(/nope\.yaml: cannot read config: file not found \[GR_ERR_CONFIG_READ\]\n\s+fix: pass the path of an existing YAML file/);
    expect(() => loadConfigFile(dir)).toThrow(/cannot read config: it is a folder, not a file \[GR_ERR_CONFIG_READ\]/);
  });

  it('broken YAML, with line and column', () => {
    const error = problemsOf('cluster: { id: dev\nproviders: []\n');
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_CONFIG_YAML' });
    expect(error.message).toMatch(new RegExp(`${file}:\\d+:\\d+: not valid YAML`));
  });

  it('an unknown key, with "did you mean"', () => {
    const error = problemsOf(VALID.replace('targets:\n  - { name: live,', 'targets:\n  - { nmae: x, name: live,'));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_CONFIG_UNKNOWN_KEY', keyPath: 'targets[0].nmae', message: 'unknown key "nmae"' });
    expect(error.problems[0]?.fix).toMatch(/did you mean "name"\?/);
    expect(error.message).toContain(`${file}:11:`);
    expect(error.message).toContain('targets[0].nmae: unknown key "nmae"');
  });

  it('converts a ${VAR} value to the type of its key (environment values are strings)', () => {
    const config = parseConfig(VALID.replace('server: { port: 8080 }', 'server: { port: "${PORT}" }'), file, { env: { GIT_TOKEN: 'x', PORT: '9090' } });
    expect(config.server.port).toBe(9090);
    expect(problemsOf(VALID.replace('server: { port: 8080 }', 'server: { port: "${PORT}" }'), { GIT_TOKEN: 'x', PORT: 'eighty' }).problems[0]).toMatchObject({
      keyPath: 'server.port',
      message: 'must be integer',
    });
  });

  it('refuses a literal of the wrong type instead of converting it, with the key path, the type and how to write it', () => {
    const error = problemsOf(
      VALID.replace('server: { port: 8080 }', 'server: { port: "8080", enabled: "true", host: 127 }').replace('cluster: dev,', 'cluster: 42,').replace('resources: [configmaps]', 'resources: [42]'),
    );
    expect(error.problems.map((p) => [p.keyPath, p.message, p.fix])).toEqual([
      ['server.port', 'must be integer, not a string', 'write it without quotes: port: 8080; use a TCP port number (0 picks a free one)'],
      ['server.host', 'must be string, not a number', 'quote it: host: "127"'],
      ['server.enabled', 'must be boolean, not a string', 'write it without quotes: enabled: true'],
      ['sources[0].cluster', 'must be string, not a number', 'quote it: cluster: "42"; give the cluster this source observes a short DNS-label id, e.g. "dev"; it is part of every event identity'],
      ['rules[0].resources[0]', 'must be string, not a number', 'quote it: "42"'],
    ]);
    expect(error.message).toMatch(/config\.yaml:3:\d+: server\.port: must be integer, not a string \[GR_ERR_CONFIG_INVALID\]/);
    // The same values from ${VAR} are what the environment can only give: strings, converted.
    const fromEnv = parseConfig(VALID.replace('server: { port: 8080 }', 'server: { port: "${PORT}", enabled: "${SERVE}" }'), file, { env: { GIT_TOKEN: 'x', PORT: '8080', SERVE: 'true' } });
    expect(fromEnv.server).toMatchObject({ port: 8080, enabled: true });
  });

  it('an unknown top-level key', () => {
    const error = problemsOf(`${VALID}\nrulez: []\n`);
    expect(error.problems[0]).toMatchObject({ keyPath: 'rulez', code: 'GR_ERR_CONFIG_UNKNOWN_KEY' });
    expect(error.problems[0]?.fix).toMatch(/did you mean "rules"/);
  });

  it("a missing required key and a wrong type, each with its key's x-fix", () => {
    const error = problemsOf(VALID.replace('cluster: dev, with:', 'name: [a, b], with:'));
    expect(error.problems.map((p) => [p.keyPath, p.message, p.fix])).toEqual([
      ['sources[0].cluster', 'is required', 'add cluster: to sources[0] (give the cluster this source observes a short DNS-label id, e.g. "dev"; it is part of every event identity)'],
      ['sources[0].name', 'must be string, not a list', 'an instance name is a DNS label, e.g. "prod-informer"'],
    ]);
    // A key without x-fix points to the example config.
    expect(problemsOf(VALID.replace('{ target: live, scope: Cluster,', '{ scope: Cluster,')).problems[0]).toMatchObject({
      keyPath: 'rules[1].target',
      fix: 'add target: to rules[1] (see examples/quickstart.yaml)',
    });
  });

  it('a value outside an enum', () => {
    const error = problemsOf(VALID.replace('scope: Namespaced', 'scope: Namespace'));
    expect(error.problems[0]).toMatchObject({ keyPath: 'rules[0].scope', message: 'must be one of "Namespaced", "Cluster"' });
  });

  it('an unset environment variable', () => {
    const error = problemsOf(VALID, {});
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_CONFIG_ENV', keyPath: 'sink.with.providers[0].auth.password', message: 'environment variable GIT_TOKEN is not set' });
    expect(error.problems[0]?.fix).toContain('export GIT_TOKEN=');
  });

  it('an empty environment variable is said to be empty (an empty token is no token)', () => {
    const error = problemsOf(VALID, { GIT_TOKEN: '' });
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_CONFIG_ENV', keyPath: 'sink.with.providers[0].auth.password', message: 'environment variable GIT_TOKEN is empty' });
  });

  it('a ${ that starts no reference is refused, never passed on as text; $${ is the literal', () => {
    const withPassword = (password: string) => VALID.replace('"${GIT_TOKEN}"', () => `"${password}"`);
    for (const written of ['${GIT_TOKEN', '${1TOKEN}', 'x${}']) {
      const error = problemsOf(withPassword(written));
      expect(error.problems.map((p) => [p.code, p.keyPath])).toEqual([['GR_ERR_CONFIG_ENV', 'sink.with.providers[0].auth.password']]);
      expect(error.problems[0]?.fix).toContain('$${');
    }
    const literal = parseConfig(withPassword('a$${b'), file, { env: {} });
    expect(JSON.stringify(literal.sink.with)).toContain('"password":"a${b"');
  });

  it('a rule naming a target that does not exist', () => {
    const error = problemsOf(VALID.replace('{ target: live, scope: Cluster', '{ target: lve, scope: Cluster'));
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_CONFIG_DANGLING_REF', keyPath: 'rules[1].target', message: 'target "lve" is not defined' });
    expect(error.problems[0]?.fix).toMatch(/did you mean "live"/);
    expect(error.message).toMatch(/config\.yaml:14:\d+: rules\[1\]\.target/);
  });

  it('a rule naming a cluster no source observes', () => {
    const error = problemsOf(VALID.replace('{ target: live, scope: Cluster,', '{ target: live, clusters: [prod], scope: Cluster,'));
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_CONFIG_DANGLING_REF', keyPath: 'rules[1].clusters[0]', message: 'no source observes cluster "prod"' });
  });

  it('two targets with one name', () => {
    const error = problemsOf(VALID.replace('targets:\n', 'targets:\n  - { name: live }\n'));
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_CONFIG_DUPLICATE', keyPath: 'targets[1].name', message: 'target "live" is defined twice' });
  });

  it('namespaces on a Cluster rule, and a subresource', () => {
    const error = problemsOf(VALID.replace('scope: Cluster,', 'scope: Cluster, namespaces: [x],').replace('resources: [configmaps]', 'resources: [pods/status]'));
    expect(error.problems.map((p) => p.keyPath).sort()).toEqual(['rules[0].resources[0]', 'rules[1].namespaces']);
    expect(error.problems.find((p) => p.keyPath === 'rules[0].resources[0]')?.fix).toBe('use "pods"');
  });

  it('reports every problem of a file at once', () => {
    const error = problemsOf(
      VALID.replace('scope: Cluster,', 'scope: Cluster, namespaces: [x],').replace('target: live, scope: Cluster', 'target: nope, scope: Cluster').replace('port: 8080', 'port: 99999'),
    );
    expect(error.problems.map((p) => p.code).sort()).toEqual(['GR_ERR_CONFIG_INVALID']);
    const later = problemsOf(VALID.replace('scope: Cluster,', 'scope: Cluster, namespaces: [x],').replace('target: live, scope: Cluster', 'target: nope, scope: Cluster'));
    expect(later.problems.map((p) => p.code).sort()).toEqual(['GR_ERR_CONFIG_DANGLING_REF', 'GR_ERR_CONFIG_INVALID']);
    expect(later.message).toMatch(/^invalid config \(2 problems\)/);
  });
});

describe('config errors never echo secrets or blow up', () => {
  it('a value from ${VAR} is shown as written, not expanded', () => {
    const error = problemsOf(VALID.replace('cluster: dev,', 'cluster: "${CLUSTER_ID}",'), { GIT_TOKEN: 'x', CLUSTER_ID: 'Sup3r_Secret_Value' });
    expect(error.problems[0]).toMatchObject({ keyPath: 'sources[0].cluster', message: '"${CLUSTER_ID}" has the wrong form' });
    expect(error.message).not.toContain('Sup3r_Secret_Value');
  });

  it('a YAML alias bomb is refused with a code', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((name, i) => `${name}: &${name} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)].join('\n');
    const error = problemsOf(`${bomb}\n`);
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_CONFIG_YAML', message: expect.stringContaining('cannot be read') });
  });
});

it('reads a config file from disk', () => {
  writeFileSync(file, VALID);
  expect(loadConfigFile(file, { env: { GIT_TOKEN: 'x' } }).configFile).toBe(file);
});
