/** Code points HFS+ ignores in file names (git skips them too when it looks for `.git`). */
const HFS_IGNORED = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;

/**
 * True for a path segment some checkout treats as the `.git` folder: `.git` in any case, also with
 * trailing spaces or dots (Windows drops them, and some git versions compare that way), with code
 * points HFS+ ignores, or the Windows short name `git~1`: the names git itself refuses on NTFS and HFS.
 */
export function isGitDirName(segment: string): boolean {
  const name = segment
    .replace(HFS_IGNORED, '')
    .toLowerCase()
    .replace(/[ .]+$/, '');
  return name === '.git' || name === 'git~1';
}

/** Why a target path is unusable, or undefined when it is fine. */
export function targetPathProblem(path: string): string | undefined {
  if (path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path)) return 'must be relative to the repository root, not absolute';
  if (path.includes('\\')) return 'must use "/" as separator';
  if (path.split('/').some((segment) => segment === '..')) return 'must not contain ".."';
  const gitDir = path.split('/').find(isGitDirName);
  if (gitDir !== undefined) return `must not point into ".git" (a checkout treats the segment ${JSON.stringify(gitDir)} as .git)`;
  return undefined;
}

/** `./clusters//dev/` -> `clusters/dev`; `.` and `` -> `` (the repository root). */
export function normalizeTargetPath(path: string): string {
  return path
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}

/** True when one path equals the other or contains it ("" contains everything). */
export function pathsOverlap(a: string, b: string): boolean {
  if (a === b || a === '' || b === '') return true;
  return a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}
