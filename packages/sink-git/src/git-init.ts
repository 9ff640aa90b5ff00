import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Creates a bare repository in `gitdir` with `initialBranch` as HEAD: the same folders and files, byte
 * for byte, as isomorphic-git's `init({ bare: true })` (which this replaces so that a new repository
 * does not load isomorphic-git, ADR 0041). An existing config is never overwritten.
 */
export function initBareRepository(gitdir: string, initialBranch: string): void {
  if (existsSync(join(gitdir, 'config'))) return;
  for (const folder of ['hooks', 'info', 'objects/info', 'objects/pack', 'refs/heads', 'refs/tags']) mkdirSync(join(gitdir, folder), { recursive: true });
  writeFileSync(join(gitdir, 'config'), '[core]\n\trepositoryformatversion = 0\n\tfilemode = false\n\tbare = true\n\tsymlinks = false\n\tignorecase = true\n');
  writeFileSync(join(gitdir, 'HEAD'), `ref: refs/heads/${initialBranch}\n`);
}
