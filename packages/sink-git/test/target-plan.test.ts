import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigValidationError, KernelMetrics, Runtime, parseConfig, silentLogger } from '@gitops-reverser/kernel';
import { contextFor, tempDir } from './helpers.js';

const PROVIDERS = '[ { name: origin, url: ./state-repo, allowedBranches: [main, "release/*"] } ]';

/** A config as `validate` loads it: the kernel asks the sink to plan, with key paths and lines. */
function configText(targets: string, options: { providers?: string; sources?: string; rules?: string } = {}): string {
  return `apiVersion: gitops-reverser/v1alpha2
sources: ${options.sources ?? '[ { use: "@gitops-reverser/source-informer", cluster: dev } ]'}
sink: { use: "@gitops-reverser/sink-git", with: { providers: ${options.providers ?? PROVIDERS} } }
targets:
${targets}
rules: ${options.rules ?? '[]'}
`;
}

/** Target problems as `validate` reports them. */
async function problemsOf(targets: string, providers = PROVIDERS, options: { sources?: string; rules?: string } = {}): Promise<ConfigValidationError> {
  const dir = tempDir();
  try {
    await Runtime.create(parseConfig(configText(targets, { providers, ...options }), join(dir, 'config.yaml')), { logger: silentLogger(), metrics: new KernelMetrics() });
  } catch (error) {
    if (error instanceof ConfigValidationError) return error;
    throw error;
  }
  throw new Error('expected the config to be refused');
}

describe('git sink: target options checked when the config is loaded', () => {
  it('a target naming a provider that does not exist', async () => {
    const error = await problemsOf('  - { name: live, with: { provider: upstream, branch: main, path: x } }');
    expect(error.problems[0]).toMatchObject({
      code: 'GR_ERR_GIT_PROVIDER',
      keyPath: 'targets[0].with.provider',
      message: 'provider "upstream" is not defined in sink.with.providers',
      fix: 'use one of: origin',
    });
    expect(error.message).toMatch(/config\.yaml:5:\d+: targets\[0\]\.with\.provider/);
  });

  it('a branch outside allowedBranches, and one matching a glob', async () => {
    const error = await problemsOf('  - { name: live, with: { provider: origin, branch: develop, path: x } }\n  - { name: rel, with: { provider: origin, branch: release/1.2, path: y } }');
    expect(error.problems).toEqual([
      expect.objectContaining({
        code: 'GR_ERR_GIT_BRANCH_NOT_ALLOWED',
        keyPath: 'targets[0].with.branch',
        message: 'branch "develop" is not in allowedBranches [main, release/*] of provider "origin"',
      }),
    ]);
  });

  it('absolute folders, "..", and .git', async () => {
    const error = await problemsOf(
      '  - { name: a, with: { provider: origin, branch: main, path: /etc/x } }\n  - { name: b, with: { provider: origin, branch: main, path: "x/../../out" } }\n  - { name: c, with: { provider: origin, branch: main, path: .GIT/hooks } }',
    );
    expect(error.problems.map((p) => [p.code, p.keyPath, p.message])).toEqual([
      ['GR_ERR_GIT_TARGET_PATH', 'targets[0].with.path', '"/etc/x" must be relative to the repository root, not absolute'],
      ['GR_ERR_GIT_TARGET_PATH', 'targets[1].with.path', '"x/../../out" must not contain ".."'],
      ['GR_ERR_GIT_TARGET_PATH', 'targets[2].with.path', '".GIT/hooks" must not point into ".git" (a checkout treats the segment ".GIT" as .git)'],
    ]);
  });

  it('every spelling of .git a checkout takes for it, in any segment: trailing space or dot, any case, git~1', async () => {
    const paths = ['".git "', '".git."', '".GiT"', 'a/.Git./b', '"x/.git .. /y"', 'GIT~1', '"a/.g\u200cit"'];
    const error = await problemsOf(paths.map((path, i) => `  - { name: t${i}, with: { provider: origin, branch: main, path: ${path} } }`).join('\n'));
    expect(error.problems.map((p) => [p.code, p.keyPath])).toEqual(paths.map((_, i) => ['GR_ERR_GIT_TARGET_PATH', `targets[${i}].with.path`]));
    expect(error.problems[0]?.message).toBe('".git " must not point into ".git" (a checkout treats the segment ".git " as .git)');
  });

  it('two targets on one branch with nested folders', async () => {
    const error = await problemsOf('  - { name: all, with: { provider: origin, branch: main, path: clusters } }\n  - { name: live, with: { provider: origin, branch: main, path: clusters/dev } }');
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_GIT_TARGET_OVERLAP', keyPath: 'targets[1].with.path' });
    expect(error.problems[0]?.message).toContain('overlaps target "all"');
  });

  it('missing target options and unknown ones, with the sink named', async () => {
    const error = await problemsOf('  - { name: live, with: { provider: origin, brnch: main } }');
    expect(error.problems.map((p) => [p.code, p.keyPath]).sort()).toEqual([
      ['GR_ERR_PLUGIN_OPTIONS', 'targets[0].with.branch'],
      ['GR_ERR_PLUGIN_OPTIONS', 'targets[0].with.brnch'],
    ]);
    expect(error.problems.find((p) => p.keyPath === 'targets[0].with.branch')?.message).toBe('is required (target options of @gitops-reverser/sink-git)');
    expect(error.problems.find((p) => p.keyPath === 'targets[0].with.brnch')?.fix).toContain('did you mean "branch"');
  });

  it('provider credentials that would send none, or two: an empty or spaced token, an empty password, a password without a username, a password and a token', async () => {
    const auths = ['{ token: "" }', '{ token: "a b" }', '{ username: u, password: "" }', '{ password: p }', '{ username: u, password: p, token: t }'];
    for (const auth of auths) {
      const error = await problemsOf('  - { name: live, with: { provider: origin, branch: main } }', `[ { name: origin, url: "https://git.example/r.git", auth: ${auth} } ]`);
      expect(
        error.problems.map((p) => [p.code, p.keyPath.startsWith('sink.with.providers[0].auth')]),
        auth,
      ).toEqual([['GR_ERR_PLUGIN_OPTIONS', true]]);
      expect(error.problems[0]?.fix, auth).toBeTruthy();
      expect(error.problems[0]?.message, auth).not.toContain('must NOT be valid');
    }
    for (const auth of ['{ token: t }', '{ username: u, token: t }', '{ username: u, password: p }']) {
      await expect(problemsOf('  - { name: live, with: { provider: origin, branch: main } }', `[ { name: origin, url: "https://git.example/r.git", auth: ${auth} } ]`)).rejects.toThrow(
        'expected the config to be refused',
      );
    }
  });

  describe('a target fed by several clusters', () => {
    const twoClusters = '[ { use: "@gitops-reverser/source-informer", cluster: east }, { use: "@gitops-reverser/source-informer", cluster: west } ]';
    const allClusters = '[ { target: live, resources: [configmaps] } ]';

    it("is refused when its layout has no {cluster} (two clusters' default/configmaps/app would share a file)", async () => {
      const error = await problemsOf('  - { name: live, with: { provider: origin, branch: main, path: clusters } }', PROVIDERS, { sources: twoClusters, rules: allClusters });
      expect(error.problems).toEqual([
        {
          code: 'GR_ERR_GIT_LAYOUT_CLUSTERS',
          keyPath: 'targets[0].with.layout',
          message:
            'the rules route objects of clusters east, west to target "live", and its layout "{namespace}/{groupPath}{resource}/{name}.yaml" has no {cluster}: objects with the same namespace and name in two clusters would write one file',
          fix: 'add {cluster} to the layout, e.g. layout: "{cluster}/{namespace}/{groupPath}{resource}/{name}.yaml", or give each cluster a target of its own (rules[].clusters)',
          line: expect.any(Number),
          column: expect.any(Number),
        },
      ]);
      expect(error.message).toContain('targets[0].with.layout');
    });

    it('is accepted with {cluster} in its layout, and so are targets each fed by one cluster', async () => {
      const dir = tempDir();
      const load = (targets: string, rules: string) =>
        Runtime.create(parseConfig(configText(targets, { sources: twoClusters, rules }), join(dir, 'config.yaml')), { logger: silentLogger(), metrics: new KernelMetrics() });
      await expect(load('  - { name: live, with: { provider: origin, branch: main, layout: "{cluster}/{namespace}/{resource}/{name}.yaml" } }', allClusters)).resolves.toBeInstanceOf(Runtime);
      await expect(
        load(
          '  - { name: east, with: { provider: origin, branch: main, path: east } }\n  - { name: west, with: { provider: origin, branch: main, path: west } }',
          '[ { target: east, clusters: [east], resources: [configmaps] }, { target: west, clusters: [west], resources: [configmaps] } ]',
        ),
      ).resolves.toBeInstanceOf(Runtime);
    });
  });

  it('plans targets on one branch into one partition keyed by repository and branch', () => {
    const dir = tempDir();
    const context = contextFor(
      'providers: [ { name: origin, url: ./repo } ]\ntargets: [ { name: a, provider: origin, branch: main, path: a }, { name: b, provider: origin, branch: main, path: b } ]\n',
      dir,
    );
    expect(context.partition('a')).toEqual(context.partition('b'));
    expect(context.partition('a').key).toBe(`${join(dir, 'repo')}#main`);
  });
});
