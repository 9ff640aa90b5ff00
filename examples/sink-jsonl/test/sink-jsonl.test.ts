import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSinkConformance } from '@gitops-reverser/kernel/conformance';
import { expect } from 'vitest';
import { JsonlSink } from '../src/index.js';

describeSinkConformance('example sink-jsonl', {
  async setup() {
    const file = join(mkdtempSync(join(tmpdir(), 'gr-jsonl-')), 'out.jsonl');
    const sink = new JsonlSink(file, 0);
    await sink.start();
    return {
      sink,
      partitionKey: 'p#main',
      target: 'live',
      teardown: async () => {
        expect(readFileSync(file, 'utf8').trim().split('\n').every((line) => JSON.parse(line))).toBeTruthy();
        await sink.stop();
      },
    };
  },
});
