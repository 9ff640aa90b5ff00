import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigValidationError, loadConfigFile, parseConfig } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gr-config-'));
const file = join(dir, 'config.yaml');

const VALID = `
cluster: { id: dev, kubeconfig: ./kubeconfig }
server: { port: 8080 }
sources:    [ { use: "@gitops-reverser/source-informer" } ]
normalizers: []
bus:  { use: "@gitops-reverser/bus-memory" }
sink: { use: "@gitops-reverser/sink-git" }
providers:
  - { name: origin, url: ./state-repo, allowedBranches: [main],
      auth: { username: git, password: "\${GIT_TOKEN}" } }
targets:
  - { name: live, provider: origin, branch: main, path: clusters/dev }
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
    expect(config.cluster).toEqual({ id: 'dev', kubeconfig: join(dir, 'kubeconfig') });
    expect(config.providers[0]).toMatchObject({ url: join(dir, 'state-repo'), auth: { username: 'git', password: 't0ken' } });
    expect(config.targets[0]).toMatchObject({ path: 'clusters/dev', prune: 'OnEvent' });
    expect(config.rules[1]).toMatchObject({ scope: 'Cluster', namespaces: [], operations: [], apiVersions: [] });
    expect(config.bus).toEqual({ use: '@gitops-reverser/bus-memory', with: {}, keyPath: 'bus' });
    expect(config.shutdown.timeoutSeconds).toBe(25);
  });

  it('defaults the adapters when their keys are omitted', () => {
    const config = parseConfig(VALID.replace(/^(sources|bus|sink):.*$/gm, ''), file, { env: { GIT_TOKEN: 'x' } });
    expect(config.sources.map((s) => s.use)).toEqual(['@gitops-reverser/source-informer']);
    expect(config.bus.use).toBe('@gitops-reverser/bus-memory');
    expect(config.sink.use).toBe('@gitops-reverser/sink-git');
  });

  it('expands ${VAR}, ${VAR:-default} and $$ in values only', () => {
    const config = parseConfig(
      VALID.replace('path: clusters/dev', 'path: "clusters/${CLUSTER:-fallback}"'),
      file,
      { env: { GIT_TOKEN: 'a$b' } },
    );
    expect(config.targets[0]?.path).toBe('clusters/fallback');
    expect(config.providers[0]?.auth?.password).toBe('a$b');
    const dollars = parseConfig(VALID.replace('clusters/dev', 'clusters/$$x'), file, { env: { GIT_TOKEN: 'x' } });
    expect(dollars.targets[0]?.path).toBe('clusters/$x');
  });

  it('normalizes target paths', () => {
    const config = parseConfig(VALID.replace('path: clusters/dev', 'path: ./clusters//dev/'), file, { env: { GIT_TOKEN: 'x' } });
    expect(config.targets[0]?.path).toBe('clusters/dev');
  });
});

describe('config errors: each names the file, the key path and the fix', () => {
  it('a missing file', () => {
    expect(() => loadConfigFile(join(dir, 'nope.yaml'))).toThrow(/nope\.yaml: cannot read config: file not found \[GR_ERR_CONFIG_READ\]\n\s+fix: pass the path of an existing YAML file/);
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
    expect(error.message).toContain(`${file}:12:`);
    expect(error.message).toContain('targets[0].nmae: unknown key "nmae"');
  });

  it('accepts a number written as a string (as ${VAR} expansion produces)', () => {
    const config = parseConfig(VALID.replace('server: { port: 8080 }', 'server: { port: "${PORT}" }'), file, { env: { GIT_TOKEN: 'x', PORT: '9090' } });
    expect(config.server.port).toBe(9090);
    expect(problemsOf(VALID.replace('server: { port: 8080 }', 'server: { port: "${PORT}" }'), { GIT_TOKEN: 'x', PORT: 'eighty' }).problems[0]).toMatchObject({ keyPath: 'server.port', message: 'must be integer' });
  });

  it('an unknown top-level key', () => {
    const error = problemsOf(`${VALID}\nrulez: []\n`);
    expect(error.problems[0]).toMatchObject({ keyPath: 'rulez', code: 'GR_ERR_CONFIG_UNKNOWN_KEY' });
    expect(error.problems[0]?.fix).toMatch(/did you mean "rules"/);
  });

  it('a missing required key and a wrong type', () => {
    const error = problemsOf(VALID.replace('cluster: { id: dev, kubeconfig: ./kubeconfig }', 'cluster: { kubeconfig: [a, b] }'));
    expect(error.problems.map((p) => [p.keyPath, p.message])).toEqual([
      ['cluster.id', 'is required'],
      ['cluster.kubeconfig', 'must be string'],
    ]);
  });

  it('a value outside an enum', () => {
    const error = problemsOf(VALID.replace('scope: Namespaced', 'scope: Namespace'));
    expect(error.problems[0]).toMatchObject({ keyPath: 'rules[0].scope', message: 'must be one of "Namespaced", "Cluster"' });
  });

  it('an unset environment variable', () => {
    const error = problemsOf(VALID, {});
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_CONFIG_ENV', keyPath: 'providers[0].auth.password', message: 'environment variable GIT_TOKEN is not set' });
    expect(error.problems[0]?.fix).toContain('export GIT_TOKEN=');
  });

  it('a rule naming a target that does not exist', () => {
    const error = problemsOf(VALID.replace('{ target: live, scope: Cluster', '{ target: lve, scope: Cluster'));
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_CONFIG_DANGLING_REF', keyPath: 'rules[1].target', message: 'target "lve" is not defined' });
    expect(error.problems[0]?.fix).toMatch(/did you mean "live"/);
    expect(error.message).toMatch(/config\.yaml:15:\d+: rules\[1\]\.target/);
  });

  it('a target naming a provider that does not exist', () => {
    const error = problemsOf(VALID.replace('provider: origin', 'provider: upstream'));
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_CONFIG_DANGLING_REF', keyPath: 'targets[0].provider', message: 'provider "upstream" is not defined' });
  });

  it('a branch outside allowedBranches', () => {
    const error = problemsOf(VALID.replace('branch: main', 'branch: develop'));
    expect(error.problems[0]).toMatchObject({
      code: 'GR_ERR_CONFIG_BRANCH_NOT_ALLOWED',
      keyPath: 'targets[0].branch',
      message: 'branch "develop" is not in allowedBranches [main] of provider "origin"',
    });
    expect(error.problems[0]?.fix).toContain('add "develop" to providers[0].allowedBranches');
  });

  it('accepts a branch matching an allowedBranches glob', () => {
    expect(() => parseConfig(VALID.replace('branch: main', 'branch: release/1.2').replace('allowedBranches: [main]', 'allowedBranches: ["release/*"]'), file, { env: { GIT_TOKEN: 'x' } })).not.toThrow();
  });

  it('an absolute target path', () => {
    const error = problemsOf(VALID.replace('path: clusters/dev', 'path: /etc/clusters'));
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_CONFIG_PATH', keyPath: 'targets[0].path', message: '"/etc/clusters" must be relative to the repository root, not absolute' });
  });

  it('a target path with ".."', () => {
    const error = problemsOf(VALID.replace('path: clusters/dev', 'path: clusters/../../outside'));
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_CONFIG_PATH', keyPath: 'targets[0].path', message: '"clusters/../../outside" must not contain ".."' });
  });

  it('two targets on one branch with nested paths', () => {
    const error = problemsOf(VALID.replace('targets:\n', 'targets:\n  - { name: all, provider: origin, branch: main, path: clusters }\n'));
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_CONFIG_OVERLAP', keyPath: 'targets[1].path' });
    expect(error.problems[0]?.message).toContain('overlaps targets[0] "all"');
  });

  it('two targets with one name', () => {
    const error = problemsOf(VALID.replace('targets:\n', 'targets:\n  - { name: live, provider: origin, branch: main, path: other }\n'));
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_CONFIG_DUPLICATE', keyPath: 'targets[1].name', message: 'target "live" is defined twice' });
  });

  it('namespaces on a Cluster rule, and a subresource', () => {
    const error = problemsOf(VALID.replace('scope: Cluster,', 'scope: Cluster, namespaces: [x],').replace('resources: [configmaps]', 'resources: [pods/status]'));
    expect(error.problems.map((p) => p.keyPath).sort()).toEqual(["rules[0].resources[0]", "rules[1].namespaces"]);
    expect(error.problems.find((p) => p.keyPath === 'rules[0].resources[0]')?.fix).toBe('use "pods"');
  });

  it('reports every problem of a file at once', () => {
    const error = problemsOf(VALID.replace('branch: main', 'branch: dev').replace('path: clusters/dev', 'path: /abs').replace('target: live, scope: Cluster', 'target: nope, scope: Cluster'));
    expect(error.problems.map((p) => p.code).sort()).toEqual(['GR_ERR_CONFIG_BRANCH_NOT_ALLOWED', 'GR_ERR_CONFIG_DANGLING_REF', 'GR_ERR_CONFIG_PATH']);
    expect(error.message).toMatch(/^invalid config \(3 problems\)/);
  });
});

it('reads a config file from disk', () => {
  writeFileSync(file, VALID);
  expect(loadConfigFile(file, { env: { GIT_TOKEN: 'x' } }).configFile).toBe(file);
});
