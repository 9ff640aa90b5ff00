import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { deflateSync, inflateSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { contentDeflated, encodeDeflatedText, encodeObject, encodeText, objectIdOf, serializeCommit, serializeTree } from '../src/git-objects.js';
import { LARGE_TREE_ENTRIES, LargeTree } from '../src/large-tree.js';
import { ObjectStoreState, packOf, writeRefFile, writeLooseObjects, writePack } from '../src/object-files.js';
import { git, tempDir } from './helpers.js';
import { until } from '@gitops-reverser/testkit';

function bareRepo(): string {
  const dir = join(tempDir(), 'repo.git');
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', dir]);
  return dir;
}

/** A small history: two blobs, a tree, a commit. */
function objects() {
  const a = encodeObject('blob', Buffer.from('alpha\n'));
  const b = encodeObject('blob', Buffer.alloc(70_000, 'b')); // size needs several header bytes in a pack
  const sub = encodeObject('tree', serializeTree([{ mode: '100644', name: 'b.txt', oid: b.oid }]));
  const root = encodeObject(
    'tree',
    serializeTree([
      { mode: '100644', name: 'a.txt', oid: a.oid },
      { mode: '40000', name: 'dir', oid: sub.oid },
    ]),
  );
  const commit = encodeObject(
    'commit',
    serializeCommit({ tree: root.oid, parents: [], author: { name: 'A', email: 'a@example.com', timestamp: 1 }, committer: { name: 'C', email: 'c@example.com', timestamp: 2 }, message: 'first' }),
  );
  return { a, b, sub, root, commit, all: [a, b, sub, root, commit] };
}

describe('git object files', () => {
  it('computes the ids git computes', () => {
    const content = Buffer.from('hello\n');
    expect(objectIdOf('blob', content)).toBe(execFileSync('git', ['hash-object', '--stdin'], { input: content, encoding: 'utf8' }).trim());
  });

  it('encodes a text as the blob git makes of its UTF-8 bytes (one buffer, one hash call)', () => {
    for (const text of ['', 'hello\n', 'naïve: ✓ 日本語 🚀\n', 'x'.repeat(70_000)]) {
      const blob = encodeText('blob', text);
      expect(blob.oid).toBe(execFileSync('git', ['hash-object', '--stdin'], { input: text, encoding: 'utf8' }).trim());
      expect(blob).toEqual(encodeObject('blob', Buffer.from(text)));
    }
  });

  it('a text kept only as its zlib stream is the same blob, stored loose and in a pack that git reads back', async () => {
    const texts = ['', 'hello\n', 'naïve: ✓ 日本語 🚀\n', 'x'.repeat(70_000), `${randomBytes(30_000).toString('base64')}\n`];
    const blobs = texts.map((text) => encodeDeflatedText('blob', text));
    texts.forEach((text, i) => {
      const blob = blobs[i] as (typeof blobs)[number];
      const plain = encodeText('blob', text);
      expect({ oid: blob.oid, type: blob.type, size: blob.size }).toEqual({ oid: plain.oid, type: 'blob', size: plain.content.byteLength });
      expect(inflateSync(contentDeflated(blob)[0] as Buffer).equals(Buffer.from(plain.content))).toBe(true);
      expect(Buffer.from(blob.content).equals(Buffer.from(plain.content))).toBe(true);
    });
    const loose = bareRepo();
    await writeLooseObjects(loose, blobs);
    const packed = bareRepo();
    const name = await writePack(packed, blobs);
    expect(git(packed, 'verify-pack', '-v', join(packed, 'objects/pack', `${name}.idx`))).toMatch(/^non delta: 5 objects$/m);
    for (const repo of [loose, packed]) {
      texts.forEach((text, i) => {
        expect(execFileSync('git', ['-C', repo, 'cat-file', 'blob', (blobs[i] as (typeof blobs)[number]).oid], { encoding: 'utf8', maxBuffer: 1 << 24 })).toBe(text);
      });
      git(repo, 'fsck', '--strict');
    }
  });

  it('writes loose objects the git CLI reads and fsck accepts', async () => {
    const repo = bareRepo();
    const { commit, all } = objects();
    await writeLooseObjects(repo, all);
    await writeLooseObjects(repo, all); // existing objects are left alone
    writeRefFile(repo, 'refs/heads/main', commit.oid);
    expect(git(repo, 'log', '--format=%s|%an', 'main').trim()).toBe('first|A');
    expect(git(repo, 'show', 'main:dir/b.txt')).toHaveLength(70_000);
    git(repo, 'fsck', '--strict');
  });

  it('writes a large object into a spare file prepared after the previous one; git reads it, fsck and count-objects see nothing amiss; close removes the spare', async () => {
    const repo = bareRepo();
    const spares = () => readdirSync(join(repo, 'objects')).filter((name) => name.startsWith('tmp_obj_gr_spare_'));
    // A spare a crashed process left behind (its pid no longer runs) goes on the first large write.
    const gone = spawnSync('true').pid as number;
    writeFileSync(join(repo, 'objects', `tmp_obj_gr_spare_${gone}_0`), Buffer.alloc(10));
    /** A 400 KB incompressible blob offered as a ready zlib stream, the way large trees are. */
    const large = () => {
      const content = randomBytes(400_000);
      return { ...encodeObject('blob', content), zlib: (withHeader: boolean) => [deflateSync(withHeader ? Buffer.concat([Buffer.from(`blob ${content.length}\0`), content]) : content)], content };
    };
    const state = new ObjectStoreState(repo);
    const first = large();
    await writeLooseObjects(repo, [first], state);
    await until(() => state.sparesReady === 1 || undefined, 'a spare prepared in the background');
    expect(spares()).toHaveLength(1);
    expect(spares()[0]).toMatch(new RegExp(`^tmp_obj_gr_spare_${process.pid}_`));
    const spareName = spares()[0] as string;
    const second = large();
    await writeLooseObjects(repo, [second], state);
    expect(spares()).not.toContain(spareName); // renamed into place
    for (const object of [first, second]) {
      expect(execFileSync('git', ['-C', repo, 'cat-file', 'blob', object.oid], { maxBuffer: 1 << 24 }).equals(object.content)).toBe(true);
    }
    await until(() => state.sparesReady === 1 || undefined, 'the next spare');
    git(repo, 'fsck', '--strict');
    expect(git(repo, 'count-objects', '-v')).toMatch(/^garbage: 0$/m);
    await state.close();
    expect(spares()).toEqual([]);
  });

  it('writes small objects into blanks made ahead in the background (no file created on the commit path); git reads them, fsck and count-objects see nothing amiss; a vanished blank is replaced; the branch lock file is a blank; close removes the blanks', async () => {
    const repo = bareRepo();
    const blanks = () => readdirSync(join(repo, 'objects')).filter((name) => name.startsWith('tmp_obj_gr_blank_'));
    // A blank a crashed process left behind (its pid no longer runs) goes when the first blanks are made.
    const gone = spawnSync('true').pid as number;
    writeFileSync(join(repo, 'objects', `tmp_obj_gr_blank_${gone}_0`), '');
    const state = new ObjectStoreState(repo);
    const first = objects();
    await writeLooseObjects(repo, first.all, state);
    await until(() => state.blanksReady === 32 || undefined, 'blanks made in the background');
    expect(blanks()).toHaveLength(32);
    expect(blanks().every((name) => name.startsWith(`tmp_obj_gr_blank_${process.pid}_`))).toBe(true);
    const before = new Set(blanks());
    // One blank vanishes (as `git gc` prunes temporary files): the object it was taken for is written anyway.
    const newest = [...before].sort((a, b) => Number(b.split('_').at(-1)) - Number(a.split('_').at(-1)))[0] as string;
    unlinkSync(join(repo, 'objects', newest));
    const second = [1, 2, 3].map((n) => encodeObject('blob', Buffer.from(`blob ${n} of the second write\n`)));
    await writeLooseObjects(repo, second, state);
    // Three blanks were taken (one of them the vanished one) and none was created meanwhile.
    expect(blanks().filter((name) => !before.has(name))).toEqual([]);
    expect(blanks()).toHaveLength(29);
    for (const object of [...first.all, ...second]) expect(execFileSync('git', ['-C', repo, 'cat-file', '-p', object.oid]).length).toBeGreaterThan(0);
    expect(git(repo, 'cat-file', 'blob', (second[2] as { oid: string }).oid)).toBe('blob 3 of the second write\n');
    // The branch's lock file is a blank too: written, renamed to `main.lock`, renamed over the ref.
    writeRefFile(repo, 'refs/heads/main', first.commit.oid, state);
    expect(blanks()).toHaveLength(28);
    expect(git(repo, 'rev-parse', 'main').trim()).toBe(first.commit.oid);
    expect(readdirSync(join(repo, 'refs/heads'))).toEqual(['main']);
    git(repo, 'fsck', '--strict');
    expect(git(repo, 'count-objects', '-v')).toMatch(/^garbage: 0$/m);
    await state.close();
    expect(blanks()).toEqual([]);
  });

  it('a loose object and the pack entry of the same object share one deflate of its content; git reads both (an empty blob too)', async () => {
    const loose = bareRepo();
    const { commit, all } = objects();
    const empty = encodeObject('blob', Buffer.alloc(0));
    await writeLooseObjects(loose, [...all, empty]);
    writeRefFile(loose, 'refs/heads/main', commit.oid);
    expect(git(loose, 'cat-file', '-s', empty.oid).trim()).toBe('0');
    git(loose, 'fsck', '--strict');
    for (const object of [...all, empty]) {
      const [zlib] = contentDeflated(object);
      // The stream the loose form was made of, not a second deflate.
      expect(contentDeflated(object)[0]).toBe(zlib);
      expect(inflateSync(zlib as Buffer).equals(Buffer.from(object.content))).toBe(true);
    }
    // The pushed pack is made of those streams: a repository that has none of the objects takes it.
    const remote = bareRepo();
    execFileSync('git', ['index-pack', '--stdin', '--strict'], { cwd: remote, input: packOf([...all, empty]).pack });
    writeRefFile(remote, 'refs/heads/main', commit.oid);
    expect(git(remote, 'show', 'main:a.txt')).toBe('alpha\n');
    git(remote, 'fsck', '--strict');
  });

  it('writes a pack with an index that git verify-pack and fsck accept', async () => {
    const repo = bareRepo();
    const { commit, all } = objects();
    const name = await writePack(repo, [...all, all[0] as (typeof all)[number]]);
    const packDir = join(repo, 'objects/pack');
    expect(readdirSync(packDir).sort()).toEqual([`${name}.idx`, `${name}.pack`]);
    expect(git(repo, 'verify-pack', '-v', join(packDir, `${name}.idx`))).toContain('ok');
    writeRefFile(repo, 'refs/heads/release/1', commit.oid);
    expect(git(repo, 'show', 'release/1:a.txt')).toBe('alpha\n');
    git(repo, 'fsck', '--strict');
  });

  it('writes pack entries of every header length and a large tree as stored blocks into one pack git reads back', async () => {
    const repo = bareRepo();
    // Sizes at the edges of the entry header's 4- and 7-bit groups, and a tree of LargeTree blocks (its own zlib pieces).
    const blobs = [0, 15, 16, 2047, 2048, 262_143, 262_144].map((size, i) => encodeObject('blob', Buffer.alloc(size, String.fromCharCode(97 + i))));
    const entries = Array.from({ length: LARGE_TREE_ENTRIES + 10 }, (_, i) => ({
      mode: '100644',
      name: `cm-${String(i).padStart(5, '0')}.yaml`,
      oid: (blobs[i % blobs.length] as (typeof blobs)[number]).oid,
    }));
    const tree = LargeTree.fromEntries(entries).encode();
    const commit = encodeObject(
      'commit',
      serializeCommit({ tree: tree.oid, parents: [], author: { name: 'A', email: 'a@example.com', timestamp: 1 }, committer: { name: 'C', email: 'c@example.com', timestamp: 2 }, message: 'many' }),
    );
    const name = await writePack(repo, [...blobs, tree, commit]);
    const verified = git(repo, 'verify-pack', '-v', join(repo, 'objects/pack', `${name}.idx`));
    expect(verified).toContain('ok');
    expect(verified).toMatch(/^non delta: 9 objects$/m);
    writeRefFile(repo, 'refs/heads/main', commit.oid);
    git(repo, 'fsck', '--strict', '--full');
    for (const blob of blobs) expect(execFileSync('git', ['-C', repo, 'cat-file', 'blob', blob.oid]).equals(Buffer.from(blob.content))).toBe(true);
    expect(git(repo, 'ls-tree', '--name-only', 'main').trim().split('\n')).toHaveLength(LARGE_TREE_ENTRIES + 10);
  });

  it('writes the pack as it is made, in chunks, with the bytes packOf gives (duplicates dropped, more than one chunk)', async () => {
    const repo = bareRepo();
    // Incompressible blobs: the pack passes several 1 MB chunks; a duplicate and a large tree's own zlib pieces go with them.
    const blobs = Array.from({ length: 40 }, () => encodeObject('blob', randomBytes(100_000)));
    const tree = LargeTree.fromEntries(
      Array.from({ length: LARGE_TREE_ENTRIES + 3 }, (_, i) => ({ mode: '100644', name: `f-${String(i).padStart(5, '0')}`, oid: (blobs[i % blobs.length] as (typeof blobs)[number]).oid })),
    ).encode();
    const objects = [...blobs, blobs[3] as (typeof blobs)[number], tree];
    const name = await writePack(repo, objects);
    const { pack, checksum } = packOf(objects);
    expect(name).toBe(`pack-${checksum.toString('hex')}`);
    expect(readFileSync(join(repo, 'objects/pack', `${name}.pack`)).equals(pack)).toBe(true);
    expect(pack.byteLength).toBeGreaterThan(3 << 20);
    expect(git(repo, 'verify-pack', '-v', join(repo, 'objects/pack', `${name}.idx`))).toMatch(/^non delta: 41 objects$/m);
    expect(readdirSync(join(repo, 'objects/pack')).filter((file) => file.startsWith('tmp_'))).toEqual([]);
  });

  it('orders tree entries the way git does (a directory sorts as if it ended with "/")', () => {
    const blob = encodeObject('blob', Buffer.from('x'));
    const tree = serializeTree([
      { mode: '40000', name: 'a', oid: blob.oid },
      { mode: '100644', name: 'a.b', oid: blob.oid },
      { mode: '100644', name: 'a-', oid: blob.oid },
    ]);
    const names = [
      ...Buffer.from(tree)
        .toString('latin1')
        .matchAll(/\d+ ([^\0]+)\0/g),
    ].map((m) => m[1]);
    expect(names).toEqual(['a-', 'a.b', 'a']);
  });
});

describe('a write that fails part-way (a full disk) leaves no object file behind', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const writer = join(here, 'fixtures/write-under-file-size-limit.mjs');
  /** Random (incompressible) data of `bytes`, so the object file is about that large. */
  const noise = (bytes: number) => randomBytes(bytes).toString('base64');
  const configMap = (name: string, data: string, snapshotId?: string) => {
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { data } };
    return {
      kind: 'change',
      target: 'live',
      event: {
        identity: { clusterId: 'dev', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'default', name },
        operation: 'upsert',
        created: true,
        object,
        resourceVersion: '1',
        observedAt: '2026-11-21T10:00:00.000Z',
        phase: snapshotId ? 'seed' : 'live',
        observedBy: 'watch',
        ...(snapshotId ? { snapshotId } : {}),
      },
      yaml: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: default\ndata:\n  data: ${data}\n`,
    };
  };

  /** Applies `messages` in a child process whose files may not grow past `limitKiB` (EFBIG past it, SIGXFSZ ignored by node). */
  function applyLimited(repo: string, messages: unknown[], limitKiB: number): { status: string; reason?: string }[] {
    const batch = join(tempDir(), 'batch.json');
    writeFileSync(batch, JSON.stringify(messages.map((message) => ({ message, attempt: 1 }))));
    const run = spawnSync('bash', ['-c', `ulimit -f ${limitKiB} && exec "$0" "$@"`, process.execPath, writer, repo, batch], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    return JSON.parse(run.stdout) as { status: string; reason?: string }[];
  }

  /** Every file under objects/: loose objects, packs, temporary files. */
  function objectFiles(repo: string): { path: string; size: number }[] {
    return readdirSync(join(repo, 'objects'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => ({ path: join(entry.parentPath, entry.name).slice(repo.length + 1), size: statSync(join(entry.parentPath, entry.name)).size }));
  }

  it('a loose object larger than what fits is not left truncated: retried, fsck-clean, written whole on the next attempt', async () => {
    const repo = bareRepo();
    const big = configMap('big', noise(200_000));
    const limited = applyLimited(repo, [big], 64);
    expect(limited).toEqual([{ status: 'retry', reason: expect.stringMatching(/failed: EFBIG/) }]);
    expect(objectFiles(repo).filter((file) => file.path.startsWith('objects/') && !file.path.startsWith('objects/info') && !file.path.startsWith('objects/pack'))).toEqual([]);
    git(repo, 'fsck', '--strict', '--no-dangling');
    // The next attempt (no limit) writes it; nothing half-written is taken for the object.
    expect(applyLimited(repo, [big], 1 << 20)).toEqual([{ status: 'applied' }]);
    git(repo, 'fsck', '--strict');
    expect(git(repo, 'show', 'main:clusters/dev/default/configmaps/big.yaml')).toBe(big.yaml);
  });

  it('a seed written as a packfile leaves neither a partial pack nor its temporary files', async () => {
    const repo = bareRepo();
    const seed = Array.from({ length: 300 }, (_, i) => configMap(`cm-${i}`, noise(400), 's1'));
    const end = { kind: 'snapshot-end', target: 'live', snapshotId: 's1', objectCount: 300, clusterId: 'dev', completedAt: '2026-11-21T10:00:00.000Z' };
    const limited = applyLimited(repo, [...seed, end], 64);
    expect(limited.every((outcome) => outcome.status === 'retry' && /EFBIG/.test(outcome.reason ?? ''))).toBe(true);
    expect(objectFiles(repo).filter((file) => !file.path.startsWith('objects/info'))).toEqual([]);
    expect(applyLimited(repo, [...seed, end], 1 << 20).every((outcome) => outcome.status === 'applied')).toBe(true);
    git(repo, 'fsck', '--strict');
    expect(git(repo, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n')).toHaveLength(300);
  });
});
