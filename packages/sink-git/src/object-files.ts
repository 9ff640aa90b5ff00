import { createHash } from 'node:crypto';
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writevSync } from 'node:fs';
import { mkdir, open, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { contentDeflated, looseBytes, objectSize, type EncodedObject, type GitObjectType } from './git-objects.js';

/**
 * Stores objects in a git directory in git's own on-disk formats. Written here rather than through
 * isomorphic-git's writeObject because that costs ~1 ms per object (a seed writes 10,000); the
 * bytes are the same, and isomorphic-git and the git CLI read them back.
 */

/**
 * What a writer keeps about one git directory between writes: the fan-out folders known to exist
 * (a syscall saved per object) and spare files for large objects. A folder of 100,000 files is a
 * 4.5 MB tree, and each commit into it stores a new one; creating a file that size cost up to ~16 ms
 * on the CI VM (pages the machine has not used before are slow to get, on disk and tmpfs alike) but
 * ~1 ms when an allocated file is overwritten, truncated and renamed into place (PostgreSQL recycles
 * WAL segments for the same reason; ADR 0012). So after each large object a spare of its size is
 * prepared in the background, off the commit's path; the next large object is written into it.
 * Spares are `objects/tmp_obj_gr_spare_{pid}_{n}`: git's own temp-file prefix, so `git gc` prunes
 * one a crash left behind; `close()` removes them.
 *
 * Small objects get blanks: empty files made ahead in the background (`tmp_obj_gr_blank_{pid}_{n}`).
 * Creating a file allocates an inode, and on ext4 that search walks past every inode freed in the
 * last seconds in the folder's block group (`find_inode_bit` -> `recently_deleted`, reading inode
 * table blocks): profiled on the shared bench VM at 0.1 to ~0.8 ms per file depending on which group
 * a repository landed in (ADR 0044), for the six or so files a live commit creates. A blank has its
 * inode already; the commit writes into it and renames it into place, as it did its temporary file.
 */
export class ObjectStoreState {
  readonly knownDirs = new Set<string>();
  private readonly spares: { path: string; size: number }[] = [];
  /** Spares and blanks being written (each removes its file itself when the state was closed meanwhile). */
  private readonly preparing = new Set<Promise<void>>();
  private sparesPreparing = 0;
  /** Empty files ready to be written into (see the class comment). */
  private readonly blanks: string[] = [];
  private blanksPreparing = false;
  private counter = 0;
  private leftoversChecked = false;
  private closed = false;

  constructor(readonly gitdir: string) {}

  /** `current` while it belongs to `gitdir`; otherwise it is closed and a new one begins. */
  static for(current: ObjectStoreState | undefined, gitdir: string): ObjectStoreState {
    if (current?.gitdir === gitdir) return current;
    void current?.close();
    return new ObjectStoreState(gitdir);
  }

  /** Spares ready to be written into. */
  get sparesReady(): number {
    return this.spares.length;
  }

  /** A prepared spare of at least `size` bytes, taken out of the pool (undefined when none is ready). */
  takeSpare(size: number): string | undefined {
    const index = this.spares.findIndex((spare) => spare.size >= size);
    if (index < 0) return undefined;
    return (this.spares.splice(index, 1)[0] as { path: string }).path;
  }

  /** A prepared empty file, taken out of the pool (undefined when none is ready). */
  takeBlank(): string | undefined {
    return this.blanks.pop();
  }

  /** Blanks ready to be written into. */
  get blanksReady(): number {
    return this.blanks.length;
  }

  /**
   * Tops the pool of blanks up to BLANK_FILES in the background, one file after the other (one
   * thread-pool job at a time beside the commits), once fewer than half are left.
   */
  prepareBlanks(): void {
    if (this.closed || this.blanksPreparing || this.blanks.length >= BLANK_FILES / 2) return;
    this.removeLeftovers();
    this.blanksPreparing = true;
    const preparation: Promise<void> = (async () => {
      while (!this.closed && this.blanks.length < BLANK_FILES) {
        const path = join(this.gitdir, 'objects', `tmp_obj_gr_blank_${process.pid}_${this.counter++}`);
        await (await open(path, 'wx')).close();
        if (this.closed) await unlink(path);
        else this.blanks.push(path);
      }
    })()
      // A failed blank (a full disk, a removed folder) only means the next commits create their files.
      .catch(() => undefined)
      .finally(() => {
        this.blanksPreparing = false;
        this.preparing.delete(preparation);
      });
    this.preparing.add(preparation);
  }

  /** Prepares a spare for objects of about `size` bytes in the background (at most two wait). */
  prepareSpare(size: number): void {
    if (this.closed || this.spares.length + this.sparesPreparing >= MAX_SPARES) return;
    this.removeLeftovers();
    const path = join(this.gitdir, 'objects', `tmp_obj_gr_spare_${process.pid}_${this.counter++}`);
    const spareSize = Math.ceil(size * 1.25);
    // Written, not just truncated: a sparse file would allocate its pages on the commit's path again.
    const preparation: Promise<void> = writeFile(path, Buffer.alloc(spareSize))
      .then(async () => {
        if (this.closed) await unlink(path);
        else this.spares.push({ path, size: spareSize });
      })
      .catch(() => unlink(path).catch(() => undefined))
      .finally(() => {
        this.sparesPreparing -= 1;
        this.preparing.delete(preparation);
      });
    this.sparesPreparing += 1;
    this.preparing.add(preparation);
  }

  /** Removes this process's spares and blanks, including those still being written. */
  async close(): Promise<void> {
    this.closed = true;
    for (const spare of this.spares.splice(0)) rmSync(spare.path, { force: true });
    for (const blank of this.blanks.splice(0)) rmSync(blank, { force: true });
    await Promise.all(this.preparing);
  }

  /** Spares of processes that no longer run (a crash): removed once, on the first large object. */
  private removeLeftovers(): void {
    if (this.leftoversChecked) return;
    this.leftoversChecked = true;
    let names: string[];
    try {
      names = readdirSync(join(this.gitdir, 'objects'));
    } catch {
      return;
    }
    for (const name of names) {
      const pid = Number(/^tmp_obj_gr_(?:spare|blank)_(\d+)_\d+$/.exec(name)?.[1]);
      if (!pid || pid === process.pid || processRuns(pid)) continue;
      rmSync(join(this.gitdir, 'objects', name), { force: true });
    }
  }
}

/** Objects from this size are written into a prepared spare file when one is ready. */
const SPARE_FROM_BYTES = 256 * 1024;
const MAX_SPARES = 2;
/** Blanks kept ready: a live commit into a folder a few levels deep creates about seven files. */
const BLANK_FILES = 32;

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Loose objects (objects/ab/cdef...). Synchronous on purpose: a commit writes a handful of small
 * files, and the thread-pool round trips of async fs cost more (measured: ~4 ms vs ~0.3 ms for 7
 * objects). Large batches go to writePack instead. `state` (the engine's, kept between commits) saves
 * syscalls and provides spare files for large objects and blanks for the others. Every object is complete under its name or
 * absent: it is written under a temporary name and renamed when whole (a full disk leaves no
 * truncated object that a later write would take for the real one).
 */
export async function writeLooseObjects(gitdir: string, objects: readonly EncodedObject[], state?: ObjectStoreState): Promise<void> {
  for (const object of objects) {
    const dir = join(gitdir, 'objects', object.oid.slice(0, 2));
    if (!state?.knownDirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      state?.knownDirs.add(dir);
    }
    const file = join(dir, object.oid.slice(2));
    if (object.zlib) {
      // A large tree's blocks go to the file as they are: no joined copy of megabytes.
      const pieces = object.zlib(true);
      const size = pieces.reduce((sum, piece) => sum + piece.length, 0);
      // Without a state nobody would remove a spare: those writers create the file.
      if (state && size >= SPARE_FROM_BYTES) {
        if (!writeIntoSpare(state, file, pieces, size)) writeWhole(file, pieces, state);
        state.prepareSpare(size);
      } else writeWhole(file, pieces, state);
    } else writeWhole(file, [looseBytes(object)], state);
  }
  state?.prepareBlanks();
}

let temporaryFiles = 0;

/**
 * A temporary name beside `file`, with git's own prefix (`tmp_obj_`, `tmp_pack_`, ...): `git gc`
 * removes one a crash left behind.
 */
function temporaryName(file: string, prefix = 'tmp_obj_'): string {
  return join(dirname(file), `${prefix}gr_${process.pid}_${temporaryFiles++}`);
}

/**
 * Writes `pieces` under a temporary name (a blank from `state` when one is ready) and renames it to
 * `file` once complete; a failed write
 * (a full disk, a file-size limit) removes the temporary file and throws. An object that already
 * exists is replaced by the same bytes (one rename; a file an older writer left truncated is
 * repaired on the way).
 */
function writeWhole(file: string, pieces: readonly Uint8Array[], state?: ObjectStoreState): void {
  const blank = state?.takeBlank();
  const temporary = blank ?? temporaryName(file);
  try {
    let fd: number;
    try {
      // A blank is empty and ours alone; one that vanished (e.g. pruned by `git gc`) is replaced by a new file.
      fd = openSync(temporary, blank ? 'r+' : 'wx');
    } catch (error) {
      if (!blank) throw error;
      writeWhole(file, pieces);
      return;
    }
    try {
      writeAll(fd, pieces);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * Overwrites a prepared spare with the object, cuts it to size and renames it into place (a reader
 * never sees a partial object: the rename is the last step). False when no spare was ready or it
 * vanished (e.g. pruned by `git gc`); the object exists when this returns true.
 */
function writeIntoSpare(state: ObjectStoreState, file: string, pieces: readonly Buffer[], size: number): boolean {
  if (existsSync(file)) return true;
  const spare = state.takeSpare(size);
  if (!spare) return false;
  let fd: number;
  try {
    fd = openSync(spare, 'r+');
  } catch {
    return false;
  }
  try {
    writeAll(fd, pieces);
    ftruncateSync(fd, size);
  } catch (error) {
    closeSync(fd);
    rmSync(spare, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(spare, file);
  return true;
}

/** writev until every byte is written (a call may write fewer than asked). */
function writeAll(fd: number, pieces: readonly Uint8Array[]): void {
  const rest = [...pieces];
  while (rest.length > 0) {
    // IOV_MAX is 1024 on Linux: write in groups.
    let written = writevSync(fd, rest.slice(0, 1024));
    while (written > 0 && rest.length > 0) {
      const first = rest[0] as Uint8Array;
      if (written >= first.length) {
        written -= first.length;
        rest.shift();
      } else {
        rest[0] = first.subarray(written);
        written = 0;
      }
    }
  }
}

/** From this many objects in one write, a packfile beats loose files. */
const PACK_THRESHOLD = 256;

/** Few objects: loose files; many (a seed): one packfile. Both in git's formats, read by every engine. */
export async function storeObjects(gitdir: string, objects: readonly EncodedObject[], state: ObjectStoreState): Promise<void> {
  if (objects.length >= PACK_THRESHOLD) await writePack(gitdir, objects);
  else await writeLooseObjects(gitdir, objects, state);
}

/** For `{worktree}/.git`: the working tree when `branch` is checked out there (it will not follow our commits). */
export function worktreeOnBranch(gitdir: string, branch: string): string | undefined {
  if (basename(gitdir) !== '.git') return undefined;
  try {
    const head = readFileSync(join(gitdir, 'HEAD'), 'utf8').trim();
    return head === `ref: refs/heads/${branch}` ? dirname(gitdir) : undefined;
  } catch {
    return undefined;
  }
}

const PACK_TYPE: Record<GitObjectType, number> = { commit: 1, tree: 2, blob: 3 };

/**
 * One packfile (version 2, no deltas) plus its index (version 2) for many objects at once: two file
 * writes instead of thousands. The index is written last (via rename), so a reader never sees a
 * pack without it. The pack is written as it is made, each object deflated when its turn comes and
 * appended in chunks of PACK_CHUNK_BYTES: the whole pack and every object's zlib stream were held at
 * once before (a seed of 100,000 objects: tens of megabytes beside its blobs, ADR 0045). The bytes
 * are those of `packOf`.
 */
export async function writePack(gitdir: string, objects: readonly EncodedObject[]): Promise<string> {
  const dir = join(gitdir, 'objects', 'pack');
  await mkdir(dir, { recursive: true });
  // Both files complete under temporary names first: a failed write (a full disk) leaves nothing.
  // The pack is named by its checksum, known once it is written.
  const packTemporary = temporaryName(join(dir, 'pack'), 'tmp_pack_');
  const indexTemporary = temporaryName(join(dir, 'pack'), 'tmp_idx_');
  try {
    const { entries, checksum } = await appendPack(packTemporary, objects);
    const name = `pack-${checksum.toString('hex')}`;
    await writeFile(indexTemporary, packIndex(entries, checksum), { flag: 'wx' });
    await rename(packTemporary, join(dir, `${name}.pack`));
    await rename(indexTemporary, join(dir, `${name}.idx`));
    return name;
  } catch (error) {
    await Promise.all([rm(packTemporary, { force: true }), rm(indexTemporary, { force: true })]);
    throw error;
  }
}

/** How much of a pack is gathered before it is written to its file. */
const PACK_CHUNK_BYTES = 1 << 20;

/** Writes the pack of `objects` (as `packOf` makes it) into a new file `file`, one chunk at a time. */
async function appendPack(file: string, objects: readonly EncodedObject[]): Promise<{ entries: PackEntry[]; checksum: Buffer }> {
  const handle = await open(file, 'wx');
  try {
    const hash = createHash('sha1');
    let chunk: Uint8Array[] = [];
    let chunkBytes = 0;
    const put = async (bytes: Uint8Array) => {
      hash.update(bytes);
      chunk.push(bytes);
      chunkBytes += bytes.byteLength;
      if (chunkBytes >= PACK_CHUNK_BYTES) await flush();
    };
    const flush = async () => {
      if (chunkBytes === 0) return;
      const bytes = Buffer.concat(chunk, chunkBytes);
      chunk = [];
      chunkBytes = 0;
      let written = 0;
      while (written < bytes.byteLength) written += (await handle.write(bytes, written, bytes.byteLength - written)).bytesWritten;
    };
    const entries: PackEntry[] = [];
    for (const piece of packPieces(uniqueObjects(objects), entries)) await put(piece);
    const checksum = hash.digest();
    chunk.push(checksum);
    chunkBytes += checksum.byteLength;
    await flush();
    await handle.close();
    return { entries, checksum };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** The objects with duplicates dropped (the first of each id kept), in their order. */
function uniqueObjects(objects: readonly EncodedObject[]): EncodedObject[] {
  return [...new Map(objects.map((o) => [o.oid, o])).values()];
}

/** Where an object starts in a pack, and the CRC-32 of its entry (for the pack's index). */
interface PackEntry {
  readonly oid: string;
  readonly offset: number;
  readonly crc: number;
}

/**
 * A version 2 pack of `unique` piece by piece, without its trailing checksum: the header, then each
 * object's entry header and zlib stream, deflated when its turn comes; each entry is recorded in
 * `entries` once its pieces are out.
 */
function* packPieces(unique: readonly EncodedObject[], entries: PackEntry[]): Generator<Uint8Array> {
  const header = Buffer.alloc(PACK_HEADER_BYTES);
  header.write('PACK', 0, 'ascii');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(unique.length, 8);
  yield header;
  let offset = PACK_HEADER_BYTES;
  for (const object of unique) {
    const size = objectSize(object);
    const entryHeader = Buffer.allocUnsafe(entryHeaderLength(size));
    writeEntryHeader(entryHeader, 0, PACK_TYPE[object.type], size);
    let crc = crc32(entryHeader);
    let length = entryHeader.byteLength;
    yield entryHeader;
    for (const piece of contentDeflated(object)) {
      crc = crc32(piece, crc);
      length += piece.byteLength;
      yield piece;
    }
    entries.push({ oid: object.oid, offset, crc });
    offset += length;
  }
}

/**
 * A version 2 pack of whole objects (no deltas; duplicates dropped) in one buffer of its exact size:
 * what a push sends (writePack writes the same pieces to a file as it makes them).
 */
export function packOf(objects: readonly EncodedObject[]): { pack: Buffer; entries: PackEntry[]; checksum: Buffer } {
  const entries: PackEntry[] = [];
  const pieces = [...packPieces(uniqueObjects(objects), entries)];
  const hash = createHash('sha1');
  for (const piece of pieces) hash.update(piece);
  const checksum = hash.digest();
  pieces.push(checksum);
  return { pack: Buffer.concat(pieces), entries, checksum };
}

const PACK_HEADER_BYTES = 12;

/** Bytes of an entry's header for an object of `size` bytes: 4 bits of size in the first, 7 in each next. */
function entryHeaderLength(size: number): number {
  let length = 1;
  for (let rest = Math.floor(size / 16); rest > 0; rest = Math.floor(rest / 128)) length += 1;
  return length;
}

/** Writes an object's header in a pack (type and size, size continued in 7-bit groups) at `at`; returns where it ends. */
function writeEntryHeader(pack: Buffer, at: number, type: number, size: number): number {
  let byte = (type << 4) | (size & 0x0f);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    pack[at++] = byte | 0x80;
    byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  pack[at++] = byte;
  return at;
}

/** Pack index version 2: fan-out, sorted ids, CRC32s, offsets, checksums. */
function packIndex(entries: readonly PackEntry[], packChecksum: Buffer): Buffer {
  const sorted = [...entries].sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
  const n = sorted.length;
  const large = sorted.filter((e) => e.offset >= 0x80000000);
  const buffer = Buffer.alloc(8 + 256 * 4 + n * 20 + n * 4 + n * 4 + large.length * 8 + 20 + 20);
  let at = 0;
  buffer.writeUInt32BE(0xff744f63, at); // "\377tOc"
  buffer.writeUInt32BE(2, (at += 4));
  at += 4;
  // The ids first (written from hex in place, no buffer per id), then the fan-out counted from their first bytes.
  const fanoutAt = at;
  at += 256 * 4;
  const idsAt = at;
  for (const entry of sorted) {
    buffer.write(entry.oid, at, 20, 'hex');
    at += 20;
  }
  const fanout = new Uint32Array(256);
  for (let i = 0; i < n; i++) {
    const bucket = buffer[idsAt + i * 20] as number;
    fanout[bucket] = (fanout[bucket] as number) + 1;
  }
  let cumulative = 0;
  for (let i = 0; i < 256; i++) {
    cumulative += fanout[i] as number;
    buffer.writeUInt32BE(cumulative, fanoutAt + i * 4);
  }
  for (const entry of sorted) {
    buffer.writeUInt32BE(entry.crc >>> 0, at);
    at += 4;
  }
  let largeIndex = 0;
  for (const entry of sorted) {
    buffer.writeUInt32BE(entry.offset >= 0x80000000 ? (0x80000000 | largeIndex++) >>> 0 : entry.offset, at);
    at += 4;
  }
  for (const entry of large) {
    buffer.writeBigUInt64BE(BigInt(entry.offset), at);
    at += 8;
  }
  packChecksum.copy(buffer, at);
  at += 20;
  createHash('sha1').update(buffer.subarray(0, at)).digest().copy(buffer, at);
  return buffer;
}

/**
 * Moves a branch the way git does: write `refs/heads/{branch}.lock`, then rename it over the ref,
 * so a reader sees the old or the new value, never a partial one. With `state`, the lock file is a
 * blank written and renamed to the lock's name (no file created on a commit's path, see ObjectStoreState).
 */
export function writeRefFile(gitdir: string, ref: string, oid: string, state?: ObjectStoreState): void {
  const file = join(gitdir, ...ref.split('/'));
  mkdirSync(dirname(file), { recursive: true });
  try {
    if (!writeBlankAs(state, `${file}.lock`, `${oid}\n`)) writeFileSync(`${file}.lock`, `${oid}\n`);
    renameSync(`${file}.lock`, file);
  } catch (error) {
    // A lock left behind would stop git itself from moving the ref.
    rmSync(`${file}.lock`, { force: true });
    throw error;
  }
}

/** Writes `text` into a blank of `state` and renames it to `file`; false when no blank was ready, it vanished or could not be moved there. */
function writeBlankAs(state: ObjectStoreState | undefined, file: string, text: string): boolean {
  const blank = state?.takeBlank();
  if (!blank) return false;
  try {
    writeFileSync(blank, text, { flag: 'r+' });
  } catch {
    rmSync(blank, { force: true });
    return false;
  }
  try {
    renameSync(blank, file);
  } catch {
    // E.g. refs on another file system than objects (EXDEV): the lock is then written as a new file.
    rmSync(blank, { force: true });
    return false;
  }
  return true;
}
