import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every package that defines error codes exports them as `<Something>ErrorCodes` (the kernel: `ErrorCodes`). */
const PACKAGES = [
  '@gitops-reverser/contract',
  '@gitops-reverser/kernel',
  '@gitops-reverser/sink-git',
  '@gitops-reverser/source-informer',
  '@gitops-reverser/sanitizer-sops',
  '@gitops-reverser/webhook-server',
  '@gitops-reverser/bus-nats',
  '@gitops-reverser/create-adapter',
];

it('docs/errors.md lists exactly the error codes the packages define', async () => {
  const defined = new Set<string>();
  for (const name of PACKAGES) {
    const module = (await import(name)) as Record<string, unknown>;
    for (const [exported, value] of Object.entries(module)) {
      if (!exported.endsWith('ErrorCodes') || typeof value !== 'object' || value === null) continue;
      for (const code of Object.values(value)) defined.add(String(code));
    }
  }
  const table = readFileSync(join(repoRoot, 'docs/errors.md'), 'utf8');
  const documented = new Set([...table.matchAll(/^\| `(GR_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1] as string));
  const undocumented = [...defined].filter((code) => !documented.has(code));
  const stale = [...documented].filter((code) => !defined.has(code));
  expect({ undocumented, stale }).toEqual({ undocumented: [], stale: [] });
  expect(defined.size).toBeGreaterThan(10);
});
