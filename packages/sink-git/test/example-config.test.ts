import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelMetrics, Runtime, loadConfigFile, silentLogger } from '@gitops-reverser/kernel';
import { controlPlaneBinaries, until } from '@gitops-reverser/testkit';
import { parseAllDocuments } from 'yaml';
import { expect, it } from 'vitest';
import { git, log } from './helpers.js';

it('examples/manifests-to-git.yaml (the README snippet) writes the sample manifests as one commit', async () => {
  const examples = resolve(dirname(fileURLToPath(import.meta.url)), '../../../examples');
  // A copy beside the examples' packages, so its relative paths and package names resolve, writing elsewhere.
  const dir = mkdtempSync(join(examples, '.test-m2g-'));
  cpSync(join(examples, 'manifests-to-git.yaml'), join(dir, 'config.yaml'));
  cpSync(join(examples, 'source-manifests/sample'), join(dir, 'source-manifests/sample'), { recursive: true });
  const repo = join(mkdtempSync(join(tmpdir(), 'gr-m2g-')), 'state-repo');
  const config = loadConfigFile(join(dir, 'config.yaml'));
  const sinkWith = { ...config.sink.with, providers: [{ name: 'local', url: repo, allowedBranches: ['main'] }] };
  const runtime = await Runtime.create({ ...config, sink: { ...config.sink, with: sinkWith } }, { logger: silentLogger(), metrics: new KernelMetrics() });
  await runtime.start();
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      if (log(repo, 'main', '%s').length > 0) break;
    } catch {
      // no branch yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
  expect(log(repo, 'main', '%s')).toEqual(['reconciled 2 resources']);
  expect(git(repo, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n')).toEqual(['clusters/demo/_cluster/namespaces/shop.yaml', 'clusters/demo/shop/configmaps/app-settings.yaml']);
  git(repo, 'fsck', '--strict');
});

it('examples/shared-repo: every folder gets a kustomization, and `kubectl kustomize` renders the sample objects with their namespaces', async () => {
  const examples = resolve(dirname(fileURLToPath(import.meta.url)), '../../../examples');
  const repo = join(mkdtempSync(join(tmpdir(), 'gr-shared-example-')), 'shared-repo');
  const config = loadConfigFile(join(examples, 'shared-repo/config.yaml'));
  const sinkWith = { ...config.sink.with, providers: [{ name: 'local', url: repo, allowedBranches: ['main'] }] };
  const runtime = await Runtime.create({ ...config, sink: { ...config.sink, with: sinkWith } }, { logger: silentLogger(), metrics: new KernelMetrics() });
  await runtime.start();
  await until(() => {
    try {
      return log(repo, 'main', '%s').length > 0 || undefined;
    } catch {
      return undefined;
    }
  }, 'the seed commit');
  await runtime.stop();
  expect(git(repo, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n')).toEqual([
    'clusters/demo/_cluster/kustomization.yaml',
    'clusters/demo/_cluster/namespaces/kustomization.yaml',
    'clusters/demo/_cluster/namespaces/shop.yaml',
    'clusters/demo/kustomization.yaml',
    'clusters/demo/shop/configmaps/app-settings.yaml',
    'clusters/demo/shop/configmaps/kustomization.yaml',
    'clusters/demo/shop/kustomization.yaml',
  ]);
  const checkout = join(dirname(repo), 'checkout');
  execFileSync('git', ['clone', '--quiet', repo, checkout]);
  const rendered = parseAllDocuments(execFileSync(controlPlaneBinaries().kubectl, ['kustomize', join(checkout, 'clusters/demo')], { encoding: 'utf8' })).map(
    (d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } },
  );
  expect(rendered.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort()).toEqual(['ConfigMap shop/app-settings', 'Namespace /shop']);
  expect(git(repo, 'show', 'main:clusters/demo/shop/configmaps/app-settings.yaml')).not.toContain('namespace:');
});
