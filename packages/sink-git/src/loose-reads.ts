import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';

/** "Cannot tell without isomorphic-git": a packed ref, a symbolic ref, a pack to search. */
export const LOOSE_UNKNOWN = Symbol('loose-unknown');

const OID = /^[0-9a-f]{40}$/;
/** git's id of the empty tree, which every git (and isomorphic-git) knows without storing it. */
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
/** Names isomorphic-git never reads as refs (its GIT_FILES). */
const GIT_FILES = new Set(['config', 'description', 'index', 'shallow', 'commondir']);

/**
 * What isomorphic-git's `resolveRef` answers for `ref`, when that needs no more than loose files: the
 * id in the first loose file among the paths it tries (`ref`, `refs/ref`, `refs/tags/ref`, ...), or
 * undefined when none exists and there is no packed-refs file. LOOSE_UNKNOWN otherwise (a symbolic or
 * packed ref: isomorphic-git reads it).
 */
export function looseRef(gitdir: string, ref: string): string | undefined | typeof LOOSE_UNKNOWN {
  if (ref.startsWith('ref: ') || OID.test(ref)) return LOOSE_UNKNOWN;
  const candidates = [ref, `refs/${ref}`, `refs/tags/${ref}`, `refs/heads/${ref}`, `refs/remotes/${ref}`, `refs/remotes/${ref}/HEAD`].filter((path) => !GIT_FILES.has(path));
  const packed = existsSync(join(gitdir, 'packed-refs'));
  for (const path of candidates) {
    let text: string;
    try {
      text = readFileSync(join(gitdir, path), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        // isomorphic-git looks in packed-refs for each path before the next loose one.
        if (packed) return LOOSE_UNKNOWN;
        continue;
      }
      return LOOSE_UNKNOWN;
    }
    const value = text.trim();
    return OID.test(value) ? value : LOOSE_UNKNOWN;
  }
  return undefined;
}

/**
 * Whether the object `oid` exists, when loose files tell: true for a loose object (or the empty tree),
 * false when it is not loose and the repository has no pack. LOOSE_UNKNOWN when a pack must be searched.
 */
export function looseObjectState(gitdir: string, oid: string): boolean | typeof LOOSE_UNKNOWN {
  if (oid === EMPTY_TREE) return true;
  if (OID.test(oid) && existsSync(join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2)))) return true;
  let packs: string[];
  try {
    packs = readdirSync(join(gitdir, 'objects/pack'));
  } catch {
    return LOOSE_UNKNOWN;
  }
  return packs.some((name) => name.endsWith('.idx')) ? LOOSE_UNKNOWN : false;
}

/**
 * The content of the loose object `oid` when it is a `type` (e.g. a blob), checked against its id as
 * isomorphic-git checks it. LOOSE_UNKNOWN when it is not a loose file, is another type (a tag to
 * peel) or does not match: isomorphic-git reads (or refuses) it.
 */
export function looseObject(gitdir: string, oid: string, type: string): Uint8Array | typeof LOOSE_UNKNOWN {
  if (!OID.test(oid)) return LOOSE_UNKNOWN;
  let wrapped: Buffer;
  try {
    wrapped = inflateSync(readFileSync(join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2))));
  } catch {
    return LOOSE_UNKNOWN;
  }
  const headerEnd = wrapped.indexOf(0);
  if (headerEnd < 0 || wrapped.toString('latin1', 0, headerEnd) !== `${type} ${wrapped.length - headerEnd - 1}`) return LOOSE_UNKNOWN;
  if (createHash('sha1').update(wrapped).digest('hex') !== oid) return LOOSE_UNKNOWN;
  return new Uint8Array(wrapped.buffer, wrapped.byteOffset + headerEnd + 1, wrapped.length - headerEnd - 1);
}
