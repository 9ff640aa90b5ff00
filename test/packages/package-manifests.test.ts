import { execFileSync } from 'node:child_process';
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
  bin?: Record<string, string>;
}

const workspaces = ['packages', 'examples'].flatMap((folder) =>
  readdirSync(join(repoRoot, folder), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(repoRoot, folder, entry.name, 'package.json')))
    .map((entry) => ({ dir: join(repoRoot, folder, entry.name), manifest: JSON.parse(readFileSync(join(repoRoot, folder, entry.name, 'package.json'), 'utf8')) as Manifest })),
);

describe('package manifests', () => {
  // One contract at run time: adapters build on it as a peer and never bring their own copy of it or
  // of the kernel (which owns the DI container).
  // The kernel, the contract, the test kit and the two command packages (the CLI with its default
  // adapters, the adapter generator) are not adapters.
  const adapters = workspaces.filter(
    (w) => !['@gitops-reverser/kernel', '@gitops-reverser/contract', '@gitops-reverser/testkit', 'gitops-reverser', '@gitops-reverser/create-adapter'].includes(w.manifest.name),
  );
  it.each(adapters.map((w) => [w.manifest.name, w] as const))('%s lists the contract as a peer dependency, and neither the contract nor the kernel as a plain one', (_name, { manifest }) => {
    expect(manifest.dependencies?.['@gitops-reverser/kernel']).toBeUndefined();
    expect(manifest.dependencies?.['@gitops-reverser/contract']).toBeUndefined();
    expect(manifest.dependencies?.['tsyringe']).toBeUndefined();
    expect(manifest.peerDependencies?.['@gitops-reverser/kernel']).toBeUndefined();
    expect(manifest.peerDependencies?.['@gitops-reverser/contract']).toBeDefined();
  });

  it('the contract has no runtime dependencies', () => {
    const contract = workspaces.find((w) => w.manifest.name === '@gitops-reverser/contract');
    expect(contract?.manifest.dependencies ?? {}).toEqual({});
  });

  // A command package (a bin and no library entry: `gitops-reverser`) has its bin files instead of src/index.ts.
  it.each(workspaces.filter((w) => w.dir.includes('/packages/') && !w.manifest.private).map((w) => [w.manifest.name, w] as const))(
    '%s has an explicit exports map, a README whose first code block is a config, src/ and test/',
    (_name, { dir, manifest }) => {
      expect(manifest.exports).toBeDefined();
      if (manifest.exports?.['.'] === undefined) {
        expect(Object.keys(manifest.bin ?? {}).length).toBeGreaterThan(0);
        for (const file of Object.values(manifest.bin ?? {})) expect(existsSync(join(dir, file))).toBe(true);
      } else expect(existsSync(join(dir, 'src/index.ts'))).toBe(true);
      expect(existsSync(join(dir, 'test'))).toBe(true);
      const readme = readFileSync(join(dir, 'README.md'), 'utf8');
      const firstBlock = readme.match(/```(\w+)\n/);
      expect(firstBlock?.[1]).toBe('yaml');
    },
  );

  // An export pointing at nothing fails only for the user who imports it; after `npm run build`
  // every file an exports map names must exist.
  it.each(workspaces.map((w) => [w.manifest.name, w] as const))('%s exports only files that exist after the build', (_name, { dir, manifest }) => {
    const targets = (value: unknown): string[] => (typeof value === 'string' ? [value] : value !== null && typeof value === 'object' ? Object.values(value).flatMap(targets) : []);
    const missing = targets(manifest.exports ?? {}).filter((target) => !existsSync(join(dir, target)));
    expect(missing).toEqual([]);
  });

  it('index.ts files export explicitly (no export *)', () => {
    for (const { dir } of workspaces) {
      const index = join(dir, 'src/index.ts');
      if (existsSync(index)) expect(readFileSync(index, 'utf8')).not.toMatch(/export \* from/);
    }
  });
});

describe('the gitops-reverser bin', () => {
  // README's `npx gitops-reverser ...` needs the bin linked at install time, before dist/ exists.
  it('is linked into node_modules/.bin by npm ci and runs the built CLI', () => {
    const bin = join(repoRoot, 'node_modules/.bin/gitops-reverser');
    expect(existsSync(bin)).toBe(true);
    const kernel = JSON.parse(readFileSync(join(repoRoot, 'packages/kernel/package.json'), 'utf8')) as { version: string };
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toBe(kernel.version);
  });
});
