/** Why a target path is unusable, or undefined when it is fine. */
export function targetPathProblem(path: string): string | undefined {
  if (path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path)) return 'must be relative to the repository root, not absolute';
  if (path.includes('\\')) return 'must use "/" as separator';
  if (path.split('/').some((segment) => segment === '..')) return 'must not contain ".."';
  if (path.split('/').some((segment) => segment.toLowerCase() === '.git')) return 'must not point into ".git"';
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
