import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryLogger } from '@gitops-reverser/contract/conformance';
import { createRuntime, KernelMetrics } from '@gitops-reverser/kernel';
import { describe, expect, it } from 'vitest';
import { ageKey, tempDir } from './helpers.js';

// The identities file holds private keys: a copy readable by everyone on the machine (mode 0644, a
// Secret mounted without defaultMode) is said at start, with the fix.
async function warningsFor(mode: number): Promise<string[]> {
  const dir = tempDir();
  const key = ageKey(dir);
  chmodSync(key.file, mode);
  writeFileSync(join(dir, 'empty.yaml'), '');
  const logger = memoryLogger();
  await createRuntime({
    config: {
      sources: [{ use: 'gitops-reverser-source-manifests', cluster: 'dev', with: { directory: dir, pollMs: 0 } }],
      normalizers: [{ use: '@gitops-reverser/sanitizer-sops', with: { identitiesFile: key.file } }],
      sink: { use: 'gitops-reverser-sink-jsonl', with: { file: join(dir, 'out.jsonl') } },
      targets: [{ name: 'live' }],
      rules: [{ target: 'live', resources: ['secrets'] }],
    },
    baseDir: process.cwd(),
    logger,
    metrics: new KernelMetrics(),
  });
  return logger.lines.filter((line) => line.level === 'warn' && line.message.includes('identities file')).map((line) => line.message);
}

describe('sanitizer-sops identitiesFile permissions', () => {
  it('warns when others can read the private keys, naming the file, its mode and the fix', async () => {
    const [warning] = await warningsFor(0o644);
    expect(warning).toContain('has mode 0644: any local user can read its private keys');
    expect(warning).toContain('chmod 600');
  });

  it('says nothing for 0600 or 0440 (a Secret mounted with defaultMode 0400 and an fsGroup)', async () => {
    expect(await warningsFor(0o600)).toEqual([]);
    expect(await warningsFor(0o440)).toEqual([]);
  });
});
