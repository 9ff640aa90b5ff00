import { createHash, hash } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import { adler32, adler32Combine } from './adler32.js';

export type GitObjectType = 'blob' | 'tree' | 'commit';

/** A git object ready to store: its id, type and raw content (without the "{type} {size}\0" header). */
export interface EncodedObject {
  readonly oid: string;
  readonly type: GitObjectType;
  readonly content: Uint8Array;
  /**
   * The object already as a zlib stream (large trees: stored blocks, see LargeTree), with the loose
   * header "{type} {size}\0" inside (`withHeader`, a loose object) or without it (a pack entry).
   * Writers use it instead of compressing `content`.
   */
  readonly zlib?: (withHeader: boolean) => readonly Buffer[];
  /** The content's length in bytes, for an object that does not keep its content (`encodeDeflatedText`). */
  readonly size?: number;
}

/** The length of an object's content, without making the content of one that keeps only its zlib stream. */
export function objectSize(object: EncodedObject): number {
  return object.size ?? object.content.byteLength;
}

/** The object id git gives `content` of `type` (sha1 of "{type} {size}\0{content}"). */
export function objectIdOf(type: GitObjectType, content: Uint8Array): string {
  return createHash('sha1').update(`${type} ${content.byteLength}\0`).update(content).digest('hex');
}

/** Hashes with Node's native crypto; the engine decides how to store it (loose or in a pack). */
export function encodeObject(type: GitObjectType, content: Uint8Array): EncodedObject {
  return { oid: objectIdOf(type, content), type, content };
}

/**
 * `encodeObject` of a text's UTF-8 bytes: the header and the text are written into one buffer and
 * hashed in one call (no hash object, no second copy of the text), the way a seed makes its 10,000
 * blobs.
 */
export function encodeText(type: GitObjectType, text: string): EncodedObject {
  const size = Buffer.byteLength(text);
  const header = `${type} ${size}\0`;
  const bytes = Buffer.allocUnsafe(header.length + size);
  bytes.write(header, 0, 'latin1');
  bytes.write(text, header.length, 'utf8');
  return { oid: hash('sha1', bytes, 'hex'), type, content: bytes.subarray(header.length) };
}

/**
 * `encodeText`, keeping only the content's zlib stream: a commit's blobs wait for the commit to be
 * stored (a seed's 100,000 of them together, and a remote's until they are pushed), and deflated
 * they take about a third of their bytes (ADR 0045). The text goes through one scratch buffer to be
 * hashed and deflated; the stream is copied into a shared slab at its exact size. `content` inflates
 * it again when asked (nothing on the write path asks: sizes come from `size`, streams from `zlib`).
 */
export function encodeDeflatedText(type: GitObjectType, text: string): EncodedObject {
  const size = Buffer.byteLength(text);
  const header = `${type} ${size}\0`;
  const length = header.length + size;
  if (scratch.byteLength < length) scratch = Buffer.allocUnsafeSlow(Math.max(length, scratch.byteLength * 2));
  scratch.write(header, 0, 'latin1');
  scratch.write(text, header.length, 'utf8');
  const oid = hash('sha1', scratch.subarray(0, length), 'hex');
  const zlib = deflate(scratch.subarray(header.length, length));
  if (zlib.byteLength > SLAB_BYTES / 4) return new DeflatedObject(oid, type, size, Buffer.from(zlib), 0, zlib.byteLength);
  if (slab.byteLength - slabUsed < zlib.byteLength) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  zlib.copy(slab, slabUsed);
  slabUsed += zlib.byteLength;
  return new DeflatedObject(oid, type, size, slab, slabUsed - zlib.byteLength, zlib.byteLength);
}

/**
 * An object held as its content's zlib stream: one object per blob, the stream a range of a shared
 * slab (no buffer view of its own until one is asked for).
 */
class DeflatedObject implements EncodedObject {
  constructor(
    readonly oid: string,
    readonly type: GitObjectType,
    readonly size: number,
    private readonly slab: Buffer,
    private readonly start: number,
    private readonly length: number,
  ) {}

  get content(): Uint8Array {
    return inflateSync(this.stream());
  }

  zlib(withHeader: boolean): readonly Buffer[] {
    return withHeader ? looseZlib(this.type, this.size, this.stream()) : [this.stream()];
  }

  private stream(): Buffer {
    return this.slab.subarray(this.start, this.start + this.length);
  }
}

/** Where `encodeDeflatedText` writes a text before hashing it (grown as needed, never shrunk: a few KB). */
let scratch = Buffer.allocUnsafeSlow(4096);

/** Slabs the kept zlib streams are copied into: dense, apart from the pool's short-lived buffers. */
const SLAB_BYTES = 64 * 1024;
let slab = Buffer.allocUnsafeSlow(0);
let slabUsed = 0;

/**
 * zlib-deflates `bytes` (level 1: fast). Node's deflateSync writes into a 16 KB buffer by default and
 * returns a slice of it: for a 300-byte object that keeps 16 KB alive, and a seed of 100,000 objects
 * made gigabytes of short-lived native memory. The output buffer is sized to the input instead.
 */
export function deflate(bytes: Uint8Array): Buffer {
  return deflateSync(bytes, { level: 1, chunkSize: Math.min(16_384, Math.max(64, bytes.byteLength + 64)) });
}

/**
 * The zlib stream of each object's content that its loose form was built from, kept (while the object
 * lives) for its pack entry: a commit's objects are stored loose and then pushed, and deflating each
 * twice cost ~0.6 ms per push (ADR 0041, push vs floor). Objects that go to a pack only (a seed) are
 * deflated once there and kept nowhere.
 */
const contentZlib = new WeakMap<EncodedObject, Buffer>();

/**
 * The zlib-deflated loose form: "{type} {size}\0{content}". Made of the content's own zlib stream (kept
 * for the pack entry): the header goes first as a stored block, then the content's deflate blocks, and
 * the checksum is the Adler-32 of both (zlib's adler32_combine). git and isomorphic-git read it as any
 * zlib stream.
 */
export function looseBytes(object: EncodedObject): Uint8Array {
  if (object.zlib) return Buffer.concat(object.zlib(true));
  const zlib = deflate(object.content);
  contentZlib.set(object, zlib);
  return Buffer.concat(looseZlib(object.type, object.content.byteLength, zlib));
}

/** The loose form's zlib pieces from the content's own zlib stream `zlib` (see `looseBytes`). */
function looseZlib(type: GitObjectType, size: number, zlib: Buffer): Buffer[] {
  const header = Buffer.from(`${type} ${size}\0`);
  const stored = Buffer.alloc(5);
  stored.writeUInt16LE(header.length, 1);
  stored.writeUInt16LE(~header.length & 0xffff, 3);
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE(adler32Combine(adler32(header), zlib.readUInt32BE(zlib.length - 4), size));
  // zlib header (deflate, 32 KB window), the header as a stored non-final block, the content's blocks.
  return [ZLIB_HEADER, stored, header, zlib.subarray(2, zlib.length - 4), adler];
}

/** The zlib stream of an object's content, as a pack entry holds it (the loose form's, when it was stored loose). */
export function contentDeflated(object: EncodedObject): readonly Buffer[] {
  if (object.zlib) return object.zlib(false);
  return [contentZlib.get(object) ?? deflate(object.content)];
}

const ZLIB_HEADER = Buffer.from([0x78, 0x01]);

export interface TreeEntry {
  /** '100644' file, '100755' executable, '120000' symlink, '40000' tree, '160000' submodule. */
  readonly mode: string;
  readonly name: string;
  readonly oid: string;
}

export const FILE_MODE = '100644';
export const TREE_MODE = '40000';

export function isTreeMode(mode: string): boolean {
  return mode === TREE_MODE || mode === '040000';
}

/** Git's order: by name, a tree's name compared as if it ended with "/". */
export function treeSortKey(entry: Pick<TreeEntry, 'mode' | 'name'>): string {
  return isTreeMode(entry.mode) ? `${entry.name}/` : entry.name;
}

/** Puts entries in git's order (a no-op pass when they already are, the usual case). */
export function sortTreeEntries(entries: readonly TreeEntry[]): readonly TreeEntry[] {
  const keys = entries.map(treeSortKey);
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      const indexes = keys.map((_, n) => n).sort((a, b) => ((keys[a] as string) < (keys[b] as string) ? -1 : (keys[a] as string) > (keys[b] as string) ? 1 : 0));
      return indexes.map((n) => entries[n] as TreeEntry);
    }
  }
  return entries;
}

/** Encoded entries, remembered per entry object: unchanged entries are shared between tree versions. */
const encodedEntries = new WeakMap<TreeEntry, Buffer>();

/** An entry's bytes in a tree object ("{mode} {name}\\0{20-byte id}"), made once per entry object. */
export function encodeEntry(entry: TreeEntry): Buffer {
  let bytes = encodedEntries.get(entry);
  if (!bytes) {
    // One buffer per entry: the head written as UTF-8, the id from its hex (a folder of 100,000 files has as many).
    const head = `${isTreeMode(entry.mode) ? TREE_MODE : entry.mode} ${entry.name}\0`;
    const headBytes = Buffer.byteLength(head);
    bytes = Buffer.allocUnsafe(headBytes + 20);
    bytes.write(head, 0, 'utf8');
    bytes.write(entry.oid, headBytes, 20, 'hex');
    encodedEntries.set(entry, bytes);
  }
  return bytes;
}

/**
 * Serializes a tree in git's entry order. Hot path: every commit rewrites the trees on its path,
 * and a folder may hold thousands of files, so each entry's bytes are encoded once and reused by
 * every later version of the tree that keeps the entry.
 */
export function serializeTree(entries: readonly TreeEntry[]): Uint8Array {
  return Buffer.concat(sortTreeEntries(entries).map(encodeEntry));
}

export interface Signature {
  readonly name: string;
  readonly email: string;
  /** Seconds since the epoch. */
  readonly timestamp: number;
}

export interface CommitFields {
  readonly tree: string;
  readonly parents: readonly string[];
  readonly author: Signature;
  readonly committer: Signature;
  readonly message: string;
}

/** Characters git does not allow in a signature name or email. */
function clean(value: string): string {
  return value.replace(/[<>\n\r\0]/g, '').trim() || 'unknown';
}

function signature(s: Signature): string {
  return `${clean(s.name)} <${clean(s.email)}> ${Math.floor(s.timestamp)} +0000`;
}

export function serializeCommit(commit: CommitFields): Uint8Array {
  const lines = [`tree ${commit.tree}`, ...commit.parents.map((p) => `parent ${p}`), `author ${signature(commit.author)}`, `committer ${signature(commit.committer)}`];
  const message = commit.message.endsWith('\n') ? commit.message : `${commit.message}\n`;
  return Buffer.from(`${lines.join('\n')}\n\n${message}`);
}
