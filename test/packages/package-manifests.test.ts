import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Manifest {
  name: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  exports?: Record<string, unknown>;
}

const workspaces = ['packages', 'examples'].flatMap((folder) =>
  readdirSync(join(repoRoot, folder), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(repoRoot, folder, entry.name, 'package.json')))
    .map((entry) => ({ dir: join(repoRoot, folder, entry.name), manifest: JSON.parse(readFileSync(join(repoRoot, folder, entry.name, 'package.json'), 'utf8')) as Manifest })),
);

describe('package manifests', () => {
  // One kernel and one DI container at run time: adapters must not bring their own copy.
  it.each(workspaces.filter((w) => w.manifest.name !== '@gitops-reverser/kernel').map((w) => [w.manifest.name, w] as const))(
    '%s lists the kernel as a peer dependency, never a plain one',
    (_name, { manifest }) => {
      expect(manifest.dependencies?.['@gitops-reverser/kernel']).toBeUndefined();
      expect(manifest.dependencies?.['tsyringe']).toBeUndefined();
      if (manifest.name !== '@gitops-reverser/testkit') expect(manifest.peerDependencies?.['@gitops-reverser/kernel']).toBeDefined();
    },
  );

  it.each(workspaces.filter((w) => w.dir.includes('/packages/') && !w.manifest.private).map((w) => [w.manifest.name, w] as const))(
    '%s has an explicit exports map, a README whose first code block is a config, src/ and test/',
    (_name, { dir, manifest }) => {
      expect(manifest.exports?.['.']).toBeDefined();
      expect(existsSync(join(dir, 'src/index.ts'))).toBe(true);
      expect(existsSync(join(dir, 'test'))).toBe(true);
      const readme = readFileSync(join(dir, 'README.md'), 'utf8');
      const firstBlock = readme.match(/```(\w+)\n/);
      expect(firstBlock?.[1]).toBe('yaml');
    },
  );

  it('index.ts files export explicitly (no export *)', () => {
    for (const { dir } of workspaces) {
      const index = join(dir, 'src/index.ts');
      if (existsSync(index)) expect(readFileSync(index, 'utf8')).not.toMatch(/export \* from/);
    }
  });
});
