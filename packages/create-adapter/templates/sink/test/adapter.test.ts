import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSinkConformance, numberedChange } from '@gitops-reverser/contract/conformance';
import { describe, expect, it } from 'vitest';
import { FileTreeSink } from '../src/index.js';

// 1. The slot's conformance suite, shipped with the contract: what every sink must do.
describeSinkConformance('__PACKAGE_NAME__', {
  setup: async () => {
    const sink = new FileTreeSink(mkdtempSync(join(tmpdir(), 'sink-')));
    return { sink, target: { name: 'conformance', with: {}, clusters: [] }, countWrites: async () => sink.writes };
  },
});

// 2. Tests of its own behaviour.
describe('FileTreeSink', () => {
  it('writes an object as YAML under its target folder, and refuses a path out of the directory', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'sink-'));
    const sink = new FileTreeSink(directory);
    const plan = sink.planTargets([
      { name: 'live', with: { path: 'clusters/dev' }, clusters: [] },
      { name: 'bad', with: { path: '../elsewhere' }, clusters: [] },
    ]);
    expect(plan.problems.map((p) => p.code)).toEqual(['__ERROR_PREFIX___ERR_TARGET_PATH']);
    const partition = plan.partitions.get('live');
    if (!partition) throw new Error('no partition for target live');
    await sink.start();
    expect(await sink.apply({ partition, items: [{ message: numberedChange(1, 'live'), attempt: 1 }] })).toEqual([{ status: 'applied' }]);
    const file = join(directory, 'clusters/dev/_core/configmaps/ns/cm-1.yaml');
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('name: cm-1');
    await sink.stop();
  });
});
