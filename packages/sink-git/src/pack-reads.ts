import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { LOOSE_UNKNOWN } from './loose-reads.js';

/** A pack index (version 2) read once, with the file's size and time to notice a rewrite. */
interface PackIndex {
  readonly stamp: string;
  readonly index: Buffer;
  readonly count: number;
}

const BLOB = 3;
/** Pack entry types whose content is stored whole (commit, tree, blob, tag); 6 and 7 are deltas. */
const WHOLE_TYPES = new Set([1, 2, 3, 4]);

/**
 * Reads blobs stored whole in packs (as this sink writes its seeds: version 2, no deltas), reading
 * only the entry's bytes. isomorphic-git reads whole pack files into memory and is loaded only for
 * the rest (ADR 0041): an object that is not in a pack, is a delta, or a pack it cannot tell about.
 */
export class PackReads {
  private readonly indexes = new Map<string, PackIndex>();

  constructor(readonly gitdir: string) {}

  /** The content of blob `oid` when a pack holds it whole; LOOSE_UNKNOWN otherwise (isomorphic-git reads it). */
  blob(oid: string): Uint8Array | typeof LOOSE_UNKNOWN {
    const found = this.find(oid);
    return found === undefined || found === LOOSE_UNKNOWN ? LOOSE_UNKNOWN : entryContent(found.packFile, found.offset, BLOB);
  }

  /** Whether a pack holds `oid`: false when every pack's index says no; LOOSE_UNKNOWN when an index cannot be read. */
  has(oid: string): boolean | typeof LOOSE_UNKNOWN {
    const found = this.find(oid);
    return found === LOOSE_UNKNOWN ? LOOSE_UNKNOWN : found !== undefined;
  }

  /** The pack and offset of `oid`: in readdir order, the first pack that has it, as isomorphic-git searches. */
  private find(oid: string): { packFile: string; offset: number } | undefined | typeof LOOSE_UNKNOWN {
    const dir = join(this.gitdir, 'objects', 'pack');
    let names: string[];
    try {
      names = readdirSync(dir).filter((name) => name.endsWith('.idx'));
    } catch {
      return LOOSE_UNKNOWN;
    }
    const wanted = Buffer.from(oid, 'hex');
    if (wanted.length !== 20 || wanted.toString('hex') !== oid) return LOOSE_UNKNOWN;
    for (const name of names) {
      const index = this.indexOf(join(dir, name));
      if (!index) return LOOSE_UNKNOWN;
      const offset = offsetIn(index, wanted);
      if (offset !== undefined) return { packFile: join(dir, name.replace(/\.idx$/, '.pack')), offset };
    }
    return undefined;
  }

  private indexOf(file: string): PackIndex | undefined {
    try {
      const stats = statSync(file);
      const stamp = `${stats.size}:${stats.mtimeMs}`;
      const known = this.indexes.get(file);
      if (known?.stamp === stamp) return known;
      const index = readFileSync(file);
      if (index.readUInt32BE(0) !== 0xff744f63 || index.readUInt32BE(4) !== 2) return undefined;
      const parsed = { stamp, index, count: index.readUInt32BE(8 + 255 * 4) };
      this.indexes.set(file, parsed);
      return parsed;
    } catch {
      return undefined;
    }
  }
}

/** The pack offset of `oid` (20 bytes) in a version 2 index, by binary search within its fan-out bucket. */
function offsetIn({ index, count }: PackIndex, oid: Buffer): number | undefined {
  const first = oid[0] as number;
  let low = first === 0 ? 0 : index.readUInt32BE(8 + (first - 1) * 4);
  let high = index.readUInt32BE(8 + first * 4);
  const names = 8 + 256 * 4;
  while (low < high) {
    const middle = (low + high) >>> 1;
    // The entry's name compared with `oid` (Buffer#compare compares its own bytes with the target's).
    const order = index.compare(oid, 0, 20, names + middle * 20, names + middle * 20 + 20);
    if (order === 0) {
      const offsets = names + count * 24;
      const small = index.readUInt32BE(offsets + middle * 4);
      if ((small & 0x80000000) === 0) return small;
      return Number(index.readBigUInt64BE(offsets + count * 4 + (small & 0x7fffffff) * 8));
    }
    if (order < 0) low = middle + 1;
    else high = middle;
  }
  return undefined;
}

/** The inflated content of the pack entry at `offset` when it is stored whole as `type`; LOOSE_UNKNOWN otherwise. */
function entryContent(packFile: string, offset: number, type: number): Uint8Array | typeof LOOSE_UNKNOWN {
  let fd: number | undefined;
  try {
    fd = openSync(packFile, 'r');
    const head = Buffer.alloc(16);
    const headBytes = readSync(fd, head, 0, head.length, offset);
    let at = 0;
    let byte = head[at++] as number;
    const entryType = (byte >> 4) & 7;
    let size = byte & 0x0f;
    let shift = 4;
    while (byte & 0x80 && at < headBytes) {
      byte = head[at++] as number;
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    }
    if (!WHOLE_TYPES.has(entryType) || entryType !== type || byte & 0x80) return LOOSE_UNKNOWN;
    // A deflate stream is at most a few bytes per 16 KB longer than its input, plus its header.
    const deflated = Buffer.alloc(size + Math.ceil(size / 16_000) * 5 + 64);
    const read = readSync(fd, deflated, 0, deflated.length, offset + at);
    const content = inflateSync(deflated.subarray(0, read));
    return content.length === size ? new Uint8Array(content.buffer, content.byteOffset, content.length) : LOOSE_UNKNOWN;
  } catch {
    return LOOSE_UNKNOWN;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
