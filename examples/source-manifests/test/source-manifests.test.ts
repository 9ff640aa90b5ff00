import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeSourceConformance } from '@gitops-reverser/contract/conformance';
import { ManifestSource } from '../src/index.js';

const sample = resolve(dirname(fileURLToPath(import.meta.url)), '../sample');

describeSourceConformance('example source-manifests', {
  settleMs: 600,
  async setup() {
    const directory = mkdtempSync(join(tmpdir(), 'gr-manifests-'));
    cpSync(sample, directory, { recursive: true });
    return {
      source: new ManifestSource({ directory, pollMs: 100, resources: {} }),
      // A new file appears: the next poll must emit it.
      produceChange: async () => writeFileSync(join(directory, 'new.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: added, namespace: shop }\ndata: { a: b }\n'),
    };
  },
});
