import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeSinkConformance } from '@gitops-reverser/contract/conformance';
import { KernelMetrics, Runtime, loadConfigFile, silentLogger } from '@gitops-reverser/kernel';
import { expect, it } from 'vitest';
import { JsonlSink } from '../src/index.js';

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);

describeSinkConformance('example sink-jsonl', {
  async setup() {
    const file = join(mkdtempSync(join(tmpdir(), 'gr-jsonl-')), 'out.jsonl');
    return {
      sink: new JsonlSink(file, 0),
      target: { name: 'live', with: {}, keyPath: 'targets[0]' },
      // One line per write: a redelivery must not add lines.
      countWrites: async () => lines(file).length,
      teardown: async () => {
        expect(lines(file).every((line) => JSON.parse(line))).toBeTruthy();
      },
    };
  },
});

it('runs example.yaml with no git in it; the manifests source gives each line its file through DI', async () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const config = loadConfigFile(resolve(here, '../example.yaml'));
  const out = join(mkdtempSync(join(tmpdir(), 'gr-jsonl-e2e-')), 'changes.jsonl');
  const runtime = await Runtime.create({ ...config, sink: { ...config.sink, with: { file: out } } }, { logger: silentLogger(), metrics: new KernelMetrics() });
  await runtime.start();
  const deadline = Date.now() + 10_000;
  while (!lines(out).some((l) => l.includes('"snapshot"')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await runtime.stop();
  const written = lines(out).map((l) => JSON.parse(l) as { key?: string; sourceFile?: string; partition: string });
  const configMap = written.find((l) => l.key?.includes('configmaps'));
  expect(configMap?.sourceFile).toBe(resolve(here, '../../source-manifests/sample/app.yaml'));
  expect(written.every((l) => l.partition === `jsonl:${out}`)).toBe(true);
});
