import { describe, expect, it } from 'vitest';
import { encodeObject, type TreeEntry, treeSortKey } from '../src/git-objects.js';
import { applySorted, type EntryChange, findEntry } from '../src/sorted-entries.js';
import { seededRandom } from './helpers.js';

const FILE = '100644';
const DIR = '40000';
const oidOf = (n: number) => encodeObject('blob', Buffer.from(`content ${n}`)).oid;

/** The reference: git's rules on a plain list (a name is a file or a folder; a delete removes its own kind), sorted in full. */
function applyReference(entries: readonly TreeEntry[], changes: readonly EntryChange[]): TreeEntry[] {
  let next = [...entries];
  for (const { name, mode, oid } of changes) {
    next = next.filter((entry) => entry.name !== name || (oid === null && (entry.mode === DIR) !== (mode === DIR)));
    if (oid !== null) next.push({ mode, name, oid });
  }
  return next.sort((a, b) => (treeSortKey(a) < treeSortKey(b) ? -1 : treeSortKey(a) > treeSortKey(b) ? 1 : 0));
}

describe('sorted tree entries', () => {
  it('applies few changes by binary search exactly as a full re-sort does, through 500 random edits (updates, inserts, deletes, file<->folder, "a" next to "a.yaml" and "a-b")', () => {
    const next = seededRandom(7);
    let reference = applyReference(
      [],
      Array.from({ length: 1000 }, (_, i) => ({ name: `cm-${i}.yaml`, mode: FILE, oid: oidOf(i) })),
    );
    let entries = reference;
    for (let step = 0; step < 500; step++) {
      const changes: EntryChange[] = [];
      for (let c = 0, count = 1 + Math.floor(next() * 4); c < count; c++) {
        const roll = next();
        const n = Math.floor(next() * 1200);
        // Names that sort around a folder's "/" (cm-1 as a folder sorts as "cm-1/", between "cm-1.yaml" and "cm-10.yaml").
        const name = roll < 0.15 ? `cm-${n % 30}` : `cm-${n}.yaml`;
        const mode = roll < 0.1 ? DIR : FILE;
        changes.push({ name, mode, oid: next() < 0.3 ? null : oidOf(n * 13 + step) });
      }
      const before = entries;
      const snapshot = [...before];
      entries = applySorted(entries, changes);
      reference = applyReference(reference, changes);
      expect({ step, entries }).toEqual({ step, entries: reference });
      // The input is left as it was (it may be a cached tree).
      expect(before).toEqual(snapshot);
    }
  });

  it('finds a file or a folder by name, and nothing for a name it does not hold', () => {
    const entries = applyReference(
      [],
      [
        { name: 'a', mode: DIR, oid: oidOf(1) },
        { name: 'a.yaml', mode: FILE, oid: oidOf(2) },
        { name: 'a-b', mode: FILE, oid: oidOf(3) },
        { name: 'b', mode: FILE, oid: oidOf(4) },
      ],
    );
    expect(entries.map((e) => e.name)).toEqual(['a-b', 'a.yaml', 'a', 'b']);
    expect(findEntry(entries, 'a')).toEqual({ name: 'a', mode: DIR, oid: oidOf(1) });
    expect(findEntry(entries, 'a.yaml')?.oid).toBe(oidOf(2));
    expect(findEntry(entries, 'b')?.oid).toBe(oidOf(4));
    expect(findEntry(entries, 'c')).toBeUndefined();
    expect(findEntry([], 'a')).toBeUndefined();
  });
});
