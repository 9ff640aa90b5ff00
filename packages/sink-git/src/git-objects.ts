import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';

export type GitObjectType = 'blob' | 'tree' | 'commit';

/** A git object ready to store: its id, type and raw content (without the "{type} {size}\0" header). */
export interface EncodedObject {
  readonly oid: string;
  readonly type: GitObjectType;
  readonly content: Uint8Array;
}

/** The object id git gives `content` of `type` (sha1 of "{type} {size}\0{content}"). */
export function objectIdOf(type: GitObjectType, content: Uint8Array): string {
  return createHash('sha1').update(`${type} ${content.byteLength}\0`).update(content).digest('hex');
}

/** Hashes with Node's native crypto; the engine decides how to store it (loose or in a pack). */
export function encodeObject(type: GitObjectType, content: Uint8Array): EncodedObject {
  return { oid: objectIdOf(type, content), type, content };
}

/** The zlib-deflated loose form: "{type} {size}\0{content}". */
export function looseBytes(object: EncodedObject): Uint8Array {
  return deflateSync(Buffer.concat([Buffer.from(`${object.type} ${object.content.byteLength}\0`), object.content]), { level: 1 });
}

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
function compareEntries(a: TreeEntry, b: TreeEntry): number {
  const ka = isTreeMode(a.mode) ? `${a.name}/` : a.name;
  const kb = isTreeMode(b.mode) ? `${b.name}/` : b.name;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function serializeTree(entries: readonly TreeEntry[]): Uint8Array {
  const sorted = [...entries].sort(compareEntries);
  const chunks: Buffer[] = [];
  for (const entry of sorted) {
    chunks.push(Buffer.from(`${isTreeMode(entry.mode) ? TREE_MODE : entry.mode} ${entry.name}\0`), Buffer.from(entry.oid, 'hex'));
  }
  return Buffer.concat(chunks);
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
