import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { bin: Record<string, string>; dependencies: Record<string, string> };
const kernel = JSON.parse(readFileSync(join(dir, '../kernel/package.json'), 'utf8')) as { version: string };

describe('the gitops-reverser package', () => {
  it("runs the kernel's CLI through its bin", () => {
    const bin = join(dir, manifest.bin['gitops-reverser'] as string);
    expect(execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' }).trim()).toBe(kernel.version);
    expect(execFileSync(process.execPath, [bin, '--help'], { encoding: 'utf8' })).toContain('gitops-reverser snapshot --config <file>');
  });

  it('depends on the kernel and exactly the adapters its README lists, at the version of every package', () => {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    const listed = [...readme.matchAll(/^\| \[`(@gitops-reverser\/[a-z-]+)`\]/gm)].map((m) => m[1]);
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['@gitops-reverser/kernel', ...listed].sort());
    for (const range of Object.values(manifest.dependencies)) expect(range).toBe(`^${kernel.version}`);
  });
});
