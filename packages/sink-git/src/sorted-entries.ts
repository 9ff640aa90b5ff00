import { isTreeMode, treeSortKey, type TreeEntry } from './git-objects.js';

/** One change to a folder's entries: set `name` to a file or folder id, or delete it (oid null). */
export interface EntryChange {
  readonly name: string;
  readonly mode: string;
  readonly oid: string | null;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Binary search by git order key in entries in git order: where `key` is, or where it would go. */
export function indexIn(entries: readonly TreeEntry[], key: string): { found: boolean; index: number } {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareKeys(treeSortKey(entries[mid] as TreeEntry), key) < 0) low = mid + 1;
    else high = mid;
  }
  return { found: low < entries.length && treeSortKey(entries[low] as TreeEntry) === key, index: low };
}

/** The entry named `name` (a file or a folder) in entries in git order, by binary search. */
export function findEntry(entries: readonly TreeEntry[], name: string): TreeEntry | undefined {
  for (const key of [name, `${name}/`]) {
    const at = indexIn(entries, key);
    if (at.found) return entries[at.index];
  }
  return undefined;
}

/**
 * Applies `changes` to `entries` (in git order, left unchanged) by binary search, in place of a copy:
 * a commit that changes a file or two of a folder of a thousand entries touches those, without a map
 * of the folder or a sort (ADR 0041, push vs floor). A name is a file or a folder, never both:
 * setting one replaces the other; a delete removes its own kind. Each change costs a shift of the
 * array: for many changes at once (a seed) sorting once is cheaper (see `FEW_CHANGES`).
 */
export function applySorted(entries: readonly TreeEntry[], changes: readonly EntryChange[]): TreeEntry[] {
  const next = [...entries];
  for (const { name, mode, oid } of changes) {
    for (const key of [name, `${name}/`]) {
      if (oid === null && key.endsWith('/') !== isTreeMode(mode)) continue;
      const at = indexIn(next, key);
      if (at.found) next.splice(at.index, 1);
    }
    if (oid === null) continue;
    const entry: TreeEntry = { mode, name, oid };
    next.splice(indexIn(next, treeSortKey(entry)).index, 0, entry);
  }
  return next;
}

/** Up to this many changes (or a sixteenth of the folder) `applySorted` beats building a map and sorting. */
export const FEW_CHANGES = 64;
