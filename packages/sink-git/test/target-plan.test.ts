import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigValidationError, KernelMetrics, Runtime, parseConfig, silentLogger } from '@gitops-reverser/kernel';
import { contextFor, tempDir } from './helpers.js';

/** Target problems as `validate` reports them: the kernel asks the sink to plan, with key paths and lines. */
async function problemsOf(targets: string, providers = '[ { name: origin, url: ./state-repo, allowedBranches: [main, "release/*"] } ]'): Promise<ConfigValidationError> {
  const dir = tempDir();
  const text = `apiVersion: gitops-reverser/v1alpha2
sources: [ { use: "@gitops-reverser/source-informer", cluster: dev } ]
sink: { use: "@gitops-reverser/sink-git", with: { providers: ${providers} } }
targets:
${targets}
rules: []
`;
  try {
    await Runtime.create(parseConfig(text, join(dir, 'config.yaml')), { logger: silentLogger(), metrics: new KernelMetrics() });
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
      ['GR_ERR_GIT_TARGET_PATH', 'targets[2].with.path', '".GIT/hooks" must not point into ".git"'],
    ]);
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
