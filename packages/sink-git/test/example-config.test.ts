import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelMetrics, Runtime, loadConfigFile, silentLogger } from '@gitops-reverser/kernel';
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
