import { createHash, type Hash } from 'node:crypto';
import { encodeEntry, isTreeMode, TREE_MODE, treeSortKey, type EncodedObject, type TreeEntry } from './git-objects.js';
import { adler32, adler32Combine } from './adler32.js';
import { type EntryChange, indexIn } from './sorted-entries.js';

export type { EntryChange } from './sorted-entries.js';

/** From this many entries a tree is kept as a LargeTree (below it, re-serializing is cheaper than the bookkeeping). */
export const LARGE_TREE_ENTRIES = 2048;
/** A zlib stored block holds at most 65,535 bytes; blocks are filled to about this much. */
const BLOCK_FILL = 60_000;
const BLOCK_MAX = 65_535;

/** A run of consecutive entries with their serialized bytes and the bytes' Adler-32. Never mutated. */
interface TreeBlock {
  readonly entries: readonly TreeEntry[];
  readonly bytes: Buffer;
  readonly adler: number;
}

function makeBlock(entries: readonly TreeEntry[]): TreeBlock {
  const bytes = Buffer.concat(entries.map(encodeEntry));
  return { entries, bytes, adler: adler32(bytes) };
}

/** The length of an entry's bytes in a tree object ("{mode} {name}\0" and a 20-byte id), without encoding it. */
function entryLength(entry: TreeEntry): number {
  return (isTreeMode(entry.mode) ? TREE_MODE.length : entry.mode.length) + Buffer.byteLength(entry.name) + 22;
}

/**
 * `entries` (a block's entries with a few set or removed) as a block: runs of entries shared with
 * `old` (the same objects, in the same order) are copied from its bytes, only new entries are encoded.
 */
function rebuildBlock(old: TreeBlock, entries: readonly TreeEntry[]): TreeBlock {
  const pieces: Buffer[] = [];
  const previous = old.entries;
  let oldAt = 0;
  let oldOffset = 0;
  let runStart = 0;
  let runLength = 0;
  const flush = () => {
    if (runLength > 0) pieces.push(old.bytes.subarray(runStart, runStart + runLength));
    runLength = 0;
  };
  for (const entry of entries) {
    // Old entries before this one that it does not keep were removed or replaced: skip their bytes.
    while (oldAt < previous.length && previous[oldAt] !== entry && compareKeys(treeSortKey(previous[oldAt] as TreeEntry), treeSortKey(entry)) <= 0) {
      flush();
      oldOffset += entryLength(previous[oldAt] as TreeEntry);
      oldAt++;
    }
    if (previous[oldAt] === entry) {
      if (runLength === 0) runStart = oldOffset;
      const length = entryLength(entry);
      runLength += length;
      oldOffset += length;
      oldAt++;
    } else {
      flush();
      pieces.push(encodeEntry(entry));
    }
  }
  flush();
  const bytes = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
  return { entries, bytes, adler: adler32(bytes) };
}

/** Cuts entries into blocks of about BLOCK_FILL bytes (never more than BLOCK_MAX). */
function blocksOf(entries: readonly TreeEntry[]): TreeBlock[] {
  const blocks: TreeBlock[] = [];
  let start = 0;
  let size = 0;
  for (let i = 0; i < entries.length; i++) {
    const length = encodeEntry(entries[i] as TreeEntry).length;
    if (size + length > BLOCK_FILL && i > start) {
      blocks.push(makeBlock(entries.slice(start, i)));
      start = i;
      size = 0;
    }
    size += length;
  }
  if (start < entries.length) blocks.push(makeBlock(entries.slice(start)));
  return blocks;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A zlib stream of stored (uncompressed) blocks around `pieces`, with the Adler-32 given. */
function storedZlib(pieces: readonly Buffer[], adler: number): Buffer[] {
  const out: Buffer[] = [Buffer.from([0x78, 0x01])];
  pieces.forEach((piece, index) => {
    const header = Buffer.alloc(5);
    header[0] = index === pieces.length - 1 ? 1 : 0;
    header.writeUInt16LE(piece.length, 1);
    header.writeUInt16LE(~piece.length & 0xffff, 3);
    out.push(header, piece);
  });
  if (pieces.length === 0) out.push(Buffer.from([1, 0, 0, 0xff, 0xff]));
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(adler >>> 0, 0);
  out.push(trailer);
  return out;
}

/**
 * A tree object of many entries (a folder of thousands of files), kept as blocks of serialized entries.
 * Changing a few entries copies and re-encodes only their blocks; the other blocks, their bytes and
 * their checksums are shared with the previous version. The object id (SHA-1 of "tree <size>\0" and
 * the bytes) resumes from the hash state saved after the last unchanged block when the size did not
 * change (an updated file), and is computed in full when it did (a file added or removed: the size is
 * in the header). The object is stored as zlib *stored* blocks built from the same blocks and
 * Adler-32s, so no compression pass runs over the whole tree. See ADR 0012.
 */
export class LargeTree {
  private flat: TreeEntry[] | undefined;
  /**
   * Lower-cased name -> the name, or the names once two differ only in case, for case-collision
   * warnings; moved to the next version by `apply`. A name alone is kept without a set (a set per
   * entry cost ~150 bytes per file of a large folder, ADR 0041).
   */
  private caseIndex: Map<string, string | Set<string>> | undefined;
  /** Hash states after the header and blocks[0..k], valid for this version's blocks. */
  private states: (Hash | undefined)[] = [];
  /** The size the hash states were computed for (they are valid only while it is unchanged). */
  private hashedSize: number | undefined;

  private constructor(private readonly blocks: readonly TreeBlock[]) {}

  static fromEntries(entries: readonly TreeEntry[]): LargeTree {
    return new LargeTree(blocksOf(entries));
  }

  get size(): number {
    let size = 0;
    for (const block of this.blocks) size += block.bytes.length;
    return size;
  }

  get entryCount(): number {
    let count = 0;
    for (const block of this.blocks) count += block.entries.length;
    return count;
  }

  /** All entries in git order (built on first use and kept). */
  entries(): TreeEntry[] {
    this.flat ??= this.blocks.flatMap((block) => block.entries);
    return this.flat;
  }

  /** The entry named `name` (file or folder), by binary search. */
  find(name: string): TreeEntry | undefined {
    return this.locate(name)?.entry ?? this.locate(`${name}/`)?.entry;
  }

  /** Names in this tree equal to `name` ignoring case, other than `name` itself. */
  caseTwins(name: string): string[] {
    if (!this.caseIndex) {
      this.caseIndex = new Map();
      for (const entry of this.entries()) addToIndex(this.caseIndex, entry.name);
    }
    const names = this.caseIndex.get(name.toLowerCase());
    return (names === undefined ? [] : typeof names === 'string' ? [names] : [...names]).filter((other) => other !== name);
  }

  /** A new version with `changes` applied; this version stays valid and unchanged. */
  apply(changes: readonly EntryChange[]): LargeTree {
    const edited = new Map<number, TreeEntry[]>();
    const editable = (index: number): TreeEntry[] => {
      let entries = edited.get(index);
      if (!entries) {
        entries = [...(this.blocks[index]?.entries ?? [])];
        edited.set(index, entries);
      }
      return entries;
    };
    const caseIndex = this.caseIndex;
    this.caseIndex = undefined;
    // The writer moves forward from the newest version: what helps patch this one moves to the next.
    this.flat = undefined;
    for (const { name, mode, oid } of changes) {
      // A name is a file or a folder, never both: setting one replaces the other; a delete removes its own kind.
      for (const key of [name, `${name}/`]) {
        const isTreeKey = key.endsWith('/');
        if (oid === null && isTreeKey !== isTreeMode(mode)) continue;
        const entries = editable(this.blockFor(key));
        const at = indexIn(entries, key);
        if (at.found) {
          entries.splice(at.index, 1);
          if (caseIndex) removeFromIndex(caseIndex, name);
        }
      }
      if (oid === null) continue;
      const entry: TreeEntry = { mode, name, oid };
      const key = treeSortKey(entry);
      const entries = editable(this.blockFor(key));
      entries.splice(indexIn(entries, key).index, 0, entry);
      if (caseIndex) addToIndex(caseIndex, name);
    }
    const blocks: TreeBlock[] = [];
    let firstChanged = -1;
    // An empty tree has no block: its first insert makes block 0.
    for (let index = 0; index < Math.max(this.blocks.length, 1); index++) {
      const block = this.blocks[index];
      const entries = edited.get(index);
      if (!entries) {
        if (block) blocks.push(block);
        continue;
      }
      if (firstChanged < 0) firstChanged = blocks.length;
      if (entries.length === 0) continue;
      const rebuilt = block ? rebuildBlock(block, entries) : makeBlock(entries);
      if (rebuilt.bytes.length <= BLOCK_MAX) blocks.push(rebuilt);
      else blocks.push(...blocksOf(entries));
    }
    const next = new LargeTree(blocks);
    next.caseIndex = caseIndex;
    // Hash states stay valid for the unchanged blocks in front, as long as the header (the size) is the same.
    if (firstChanged > 0 && next.size === this.hashedSize) next.states = this.states.slice(0, firstChanged);
    this.states = [];
    return next;
  }

  /** The tree object: its id, and its bytes as stored zlib blocks for a loose object or a pack entry. */
  encode(): EncodedObject {
    const size = this.size;
    const header = Buffer.from(`tree ${size}\0`);
    let start = this.states.length;
    // Resume after the last saved state; states exist only for an unchanged prefix.
    while (start > 0 && this.states[start - 1] === undefined) start--;
    const hash = start > 0 ? (this.states[start - 1] as Hash).copy() : createHash('sha1').update(header);
    this.states.length = start;
    for (let k = start; k < this.blocks.length; k++) {
      hash.update((this.blocks[k] as TreeBlock).bytes);
      // A state per block lets the next update resume here; the last one is never resumed from.
      this.states.push(k < this.blocks.length - 1 ? hash.copy() : undefined);
    }
    const oid = hash.digest('hex');
    this.hashedSize = size;
    const blocks = this.blocks;
    let content: Buffer | undefined;
    return {
      oid,
      type: 'tree',
      size,
      get content(): Uint8Array {
        content ??= Buffer.concat(blocks.map((block) => block.bytes));
        return content;
      },
      zlib: (withHeader: boolean) => {
        let adler = withHeader ? adler32(header) : 1;
        for (const block of blocks) adler = adler32Combine(adler, block.adler, block.bytes.length);
        return storedZlib(withHeader ? [header, ...blocks.map((block) => block.bytes)] : blocks.map((block) => block.bytes), adler);
      },
    };
  }

  /**
   * The block where `key` is or would go: the last block whose first entry (as this version has it)
   * sorts at or before it. Edits in `apply` keep each key inside its block's original range, so the
   * order across blocks holds however many entries a block gains or loses.
   */
  private blockFor(key: string): number {
    if (this.blocks.length === 0) return 0;
    let low = 0;
    let high = this.blocks.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (compareKeys(treeSortKey((this.blocks[mid] as TreeBlock).entries[0] as TreeEntry), key) <= 0) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  private locate(key: string): { entry: TreeEntry } | undefined {
    if (this.blocks.length === 0) return undefined;
    const block = this.blocks[this.blockFor(key)] as TreeBlock;
    const at = indexIn(block.entries, key);
    return at.found ? { entry: block.entries[at.index] as TreeEntry } : undefined;
  }
}

function addToIndex(index: Map<string, string | Set<string>>, name: string): void {
  const lower = name.toLowerCase();
  const names = index.get(lower);
  if (names === undefined) index.set(lower, name);
  else if (typeof names !== 'string') names.add(name);
  else if (names !== name) index.set(lower, new Set([names, name]));
}

function removeFromIndex(index: Map<string, string | Set<string>>, name: string): void {
  const lower = name.toLowerCase();
  const names = index.get(lower);
  if (names === undefined) return;
  if (typeof names === 'string') {
    if (names === name) index.delete(lower);
    return;
  }
  names.delete(name);
  if (names.size === 1) index.set(lower, [...names][0] as string);
  else if (names.size === 0) index.delete(lower);
}
