import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeNormalizerConformance } from '@gitops-reverser/contract/conformance';
import { KernelMetrics, Runtime, loadConfigFile, silentLogger } from '@gitops-reverser/kernel';
import { describe, expect, it } from 'vitest';
import { IgnoreMarked } from '../src/index.js';

// 1. The slot's conformance suite, shipped with the contract.
describeNormalizerConformance('normalizer-template', {
  create: () => new IgnoreMarked({ annotation: 'gitops-reverser.io/ignore' }),
  samples: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'skip', namespace: 'ns', annotations: { 'gitops-reverser.io/ignore': 'true' } } }],
});

// 2. Unit tests of its own logic.
describe('IgnoreMarked', () => {
  const normalizer = new IgnoreMarked({ annotation: 'a/ignore', label: 'l/ignore' });
  const object = (annotations: Record<string, string> = {}, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', annotations, labels } });

  it('drops objects marked by annotation or label, keeps the rest unchanged', () => {
    expect(normalizer.normalize(object({ 'a/ignore': 'true' }))).toBeNull();
    expect(normalizer.normalize(object({}, { 'l/ignore': 'true' }))).toBeNull();
    const kept = object({ 'a/ignore': 'false' });
    expect(normalizer.normalize(kept)).toBe(kept);
  });
});

// 3. End to end through the kernel, configured by file only.
it('example.yaml: the marked manifest never reaches the sink', async () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const config = loadConfigFile(resolve(here, '../example.yaml'));
  const out = join(mkdtempSync(join(tmpdir(), 'gr-template-')), 'changes.jsonl');
  const runtime = await Runtime.create({ ...config, sink: { ...config.sink, with: { file: out } } }, { logger: silentLogger(), metrics: new KernelMetrics() });
  await runtime.start();
  const deadline = Date.now() + 10_000;
  while (!(existsSync(out) && readFileSync(out, 'utf8').includes('"snapshot"')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await runtime.stop();
  const keys = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { key?: string }).key)
    .filter(Boolean);
  expect(keys).toContain('demo/_core/configmaps/shop/app-settings');
  expect(keys).not.toContain('demo/_core/configmaps/shop/scratch');
});
