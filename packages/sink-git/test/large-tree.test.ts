import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GitDirectory } from '../src/git-directory.js';
import { encodeObject, serializeCommit, serializeTree, type TreeEntry } from '../src/git-objects.js';
import { TreeStore } from '../src/tree-store.js';
import { adler32, adler32Combine } from '../src/adler32.js';
import { LARGE_TREE_ENTRIES, LargeTree, type EntryChange } from '../src/large-tree.js';
import { git, seededRandom, tempDir } from './helpers.js';
import { until } from '@gitops-reverser/testkit';

const FILE = '100644';
const DIR = '40000';
const oidOf = (n: number) => encodeObject('blob', Buffer.from(`content ${n}`)).oid;

/** The reference: a plain sorted entry list with git's rules, re-serialized in full. */
function applyReference(entries: TreeEntry[], changes: readonly EntryChange[]): TreeEntry[] {
  let next = [...entries];
  for (const { name, mode, oid } of changes) {
    next = next.filter((entry) => entry.name !== name || (oid === null && (entry.mode === DIR) !== (mode === DIR)));
    if (oid !== null) next.push({ mode, name, oid });
  }
  const key = (entry: TreeEntry) => (entry.mode === DIR ? `${entry.name}/` : entry.name);
  return next.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

describe('LargeTree', () => {
  it('Adler-32 matches zlib, piecewise and combined', () => {
    const data = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31 + (i >> 7)) & 0xff));
    // zlib's own checksum is the last 4 bytes of a zlib stream.
    const zlibAdler = (bytes: Buffer) => inflateSync(Buffer.concat([Buffer.from([0x78, 0x01, 0x01]), u16(bytes.length), u16(~bytes.length & 0xffff), bytes, u32(adler32(bytes))])).length;
    expect(zlibAdler(data.subarray(0, 60_000))).toBe(60_000); // inflate checks the Adler-32 we wrote
    const whole = adler32(data);
    const combined = adler32Combine(adler32(data.subarray(0, 77_777)), adler32(data.subarray(77_777)), data.length - 77_777);
    expect(combined).toBe(whole);
    expect(adler32Combine(1, whole, data.length)).toBe(whole);
  });

  it('gives the id and bytes of a plain serialization, and zlib streams that inflate to them', () => {
    const entries = applyReference(
      [],
      Array.from({ length: 5000 }, (_, i) => ({ name: `config-${i}.yaml`, mode: FILE, oid: oidOf(i) })),
    );
    const tree = LargeTree.fromEntries(entries);
    const encoded = tree.encode();
    const plain = encodeObject('tree', serializeTree(entries));
    expect(encoded.oid).toBe(plain.oid);
    expect(Buffer.from(encoded.content).equals(Buffer.from(plain.content))).toBe(true);
    const loose = inflateSync(Buffer.concat(encoded.zlib?.(true) ?? []));
    expect(loose.equals(Buffer.concat([Buffer.from(`tree ${plain.content.byteLength}\0`), plain.content]))).toBe(true);
    expect(inflateSync(Buffer.concat(encoded.zlib?.(false) ?? [])).equals(Buffer.from(plain.content))).toBe(true);
  });

  it('stays equal to a full re-serialization through 400 random edits (updates, inserts, deletes, file<->folder, block splits and empties)', () => {
    const next = seededRandom(42);
    let reference = applyReference(
      [],
      Array.from({ length: LARGE_TREE_ENTRIES + 500 }, (_, i) => ({ name: `cm-${String(i).padStart(5, '0')}.yaml`, mode: FILE, oid: oidOf(i) })),
    );
    let tree = LargeTree.fromEntries(reference);
    tree.encode();
    for (let step = 0; step < 400; step++) {
      const changes: EntryChange[] = [];
      const count = step % 50 === 0 ? 300 : 1 + Math.floor(next() * 3);
      for (let c = 0; c < count; c++) {
        const roll = next();
        const n = Math.floor(next() * (LARGE_TREE_ENTRIES + 2000));
        const name = roll < 0.05 ? `dir-${n % 20}` : `cm-${String(n).padStart(5, '0')}.yaml`;
        if (roll < 0.05) changes.push({ name, mode: DIR, oid: next() < 0.3 ? null : oidOf(n + step) });
        else if (roll < 0.55)
          changes.push({ name, mode: FILE, oid: oidOf(n * 7 + step) }); // update or insert
        else if (roll < 0.8) changes.push({ name, mode: FILE, oid: null });
        else changes.push({ name: `cm-${String(n % 50).padStart(5, '0')}.yaml`, mode: FILE, oid: oidOf(step) }); // hot spot: block growth
      }
      // Every 100 steps: delete a whole run of entries, emptying a block.
      if (step % 100 === 99) for (const entry of reference.slice(0, 1500)) changes.push({ name: entry.name, mode: entry.mode, oid: null });
      reference = applyReference(reference, changes);
      tree = tree.apply(changes);
      const encoded = tree.encode();
      expect({ step, oid: encoded.oid }).toEqual({ step, oid: encodeObject('tree', serializeTree(reference)).oid });
    }
    expect(tree.entries()).toEqual(reference);
    const probe = reference[Math.floor(reference.length / 2)] as TreeEntry;
    expect(tree.find(probe.name)).toEqual(probe);
    expect(tree.find('no-such-name')).toBeUndefined();
  });

  it('finds names that differ only in case, and keeps that index through edits', () => {
    const entries = applyReference(
      [],
      Array.from({ length: 3000 }, (_, i) => ({ name: `n${i}`, mode: FILE, oid: oidOf(i) })),
    );
    let tree = LargeTree.fromEntries(entries);
    expect(tree.caseTwins('N7')).toEqual(['n7']);
    tree = tree.apply([{ name: 'N7', mode: FILE, oid: oidOf(1) }]);
    expect(tree.caseTwins('n7')).toEqual(['N7']);
    tree = tree.apply([{ name: 'N7', mode: FILE, oid: null }]);
    expect(tree.caseTwins('n7')).toEqual([]);
  });

  it('through TreeStore: a folder of 7,000 files updated, grown and shrunk (its tree written into a prepared spare file); git fsck and ls-tree agree', async () => {
    const gitdir = join(tempDir(), 'repo.git');
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', gitdir]);
    const directory = new GitDirectory(gitdir);
    await directory.open({ initialBranch: 'main' });
    const trees = new TreeStore(directory);
    let parent: string | undefined;
    const commit = async (root: string | undefined, changes: Map<string, string | null>) => {
      const blobs = [...changes.values()].filter((oid): oid is string => oid !== null);
      const blobObjects = blobs.map((oid) => ({ oid, type: 'blob' as const, content: Buffer.from(`content ${oidIndex.get(oid)}`) }));
      const result = await trees.apply(root, changes);
      const signature = { name: 'a', email: 'a@b.c', timestamp: 1 };
      const commitObject = encodeObject('commit', serializeCommit({ tree: result.root, parents: parent ? [parent] : [], author: signature, committer: signature, message: 'm' }));
      await directory.writeObjects([...blobObjects, ...result.objects, commitObject]);
      await directory.writeBranch('main', commitObject.oid);
      parent = commitObject.oid;
      return result.root;
    };
    const oidIndex = new Map<string, number>();
    const blob = (n: number) => {
      const oid = oidOf(n);
      oidIndex.set(oid, n);
      return oid;
    };
    const spares = () => readdirSync(join(gitdir, 'objects')).filter((name) => name.startsWith('tmp_obj_gr_spare_'));
    // 7,000 entries: a ~320 KB tree, above the size from which trees go through spare files.
    let root = await commit(undefined, new Map(Array.from({ length: 7000 }, (_, i) => [`ns/configmaps/cm-${i}.yaml`, blob(i)] as const)));
    root = await commit(root, new Map([['ns/configmaps/cm-17.yaml', blob(100_017)]]));
    // That loose tree was created directly; a spare a quarter larger is prepared in the background.
    const folder = git(gitdir, 'rev-parse', 'main:ns/configmaps').trim();
    const spareSize = Math.ceil(statSync(join(gitdir, 'objects', folder.slice(0, 2), folder.slice(2))).size * 1.25);
    await until(() => {
      const [spare] = spares();
      return spare !== undefined && statSync(join(gitdir, 'objects', spare)).size === spareSize ? spare : undefined;
    }, 'a prepared spare file');
    // Written in full; it joins the pool when the write resolves.
    await new Promise((r) => setTimeout(r, 50));
    const [prepared] = spares();
    root = await commit(
      root,
      new Map([
        ['ns/configmaps/cm-new.yaml', blob(100_018)],
        ['ns/configmaps/cm-18.yaml', null],
      ]),
    );
    expect(spares()).not.toContain(prepared); // it became the folder's new tree object
    root = await commit(
      root,
      new Map([
        ['ns/configmaps/cm-19.yaml', blob(100_019)],
        ['other/x.yaml', blob(7)],
      ]),
    );
    git(gitdir, 'fsck', '--strict');
    const files = git(gitdir, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n');
    expect(files).toHaveLength(7001);
    expect(files).toContain('ns/configmaps/cm-new.yaml');
    expect(files).not.toContain('ns/configmaps/cm-18.yaml');
    expect(git(gitdir, 'show', 'main:ns/configmaps/cm-17.yaml')).toBe('content 100017');
    // Loose large trees are stored zlib blocks; git reads them like any other.
    expect(git(gitdir, 'cat-file', '-t', 'main:ns/configmaps').trim()).toBe('tree');
    expect((await trees.lookup(root, 'ns/configmaps/cm-19.yaml'))?.oid).toBe(oidOf(100_019));
    await directory.close();
    expect(spares()).toEqual([]);
  });
});

function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16LE(value);
  return buffer;
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value >>> 0);
  return buffer;
}
