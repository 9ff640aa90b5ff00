import type { GitEngine } from './git-engine.js';
import { encodeObject, FILE_MODE, isTreeMode, serializeTree, TREE_MODE, treeSortKey, type EncodedObject, type TreeEntry } from './git-objects.js';

/** A change to one file: the new blob id, or null to delete it. */
export type FileChanges = ReadonlyMap<string, string | null>;

interface ChangeNode {
  files: Map<string, string | null>;
  dirs: Map<string, ChangeNode>;
}

const MAX_CACHED_TREES = 50_000;

/**
 * Reads and writes trees without an index or a working tree. A commit that changes one file
 * rewrites only the trees on that file's path (depth x entries), whatever the repository's size.
 * Parsed trees are cached by id (trees are immutable).
 */
export class TreeStore {
  private readonly cache = new Map<string, TreeEntry[]>();

  constructor(private readonly engine: GitEngine) {}

  async entries(oid: string): Promise<TreeEntry[]> {
    const cached = this.cache.get(oid);
    if (cached) return cached;
    const entries = await this.engine.readTree(oid);
    this.remember(oid, entries);
    return entries;
  }

  /** The entry at `path` in the tree `root` (undefined root: the empty tree). */
  async lookup(root: string | undefined, path: string): Promise<TreeEntry | undefined> {
    if (!root) return undefined;
    const segments = path.split('/');
    let current = root;
    for (const [index, name] of segments.entries()) {
      const entry = (await this.entries(current)).find((e) => e.name === name);
      if (!entry) return undefined;
      if (index === segments.length - 1) return entry;
      if (!isTreeMode(entry.mode)) return undefined;
      current = entry.oid;
    }
    return undefined;
  }

  /**
   * Applies file changes to `root` and returns the new root tree id plus the tree objects to store.
   * Untouched subtrees keep their ids and are neither read nor written.
   */
  async apply(root: string | undefined, changes: FileChanges): Promise<{ root: string; objects: EncodedObject[] }> {
    const top: ChangeNode = { files: new Map(), dirs: new Map() };
    for (const [path, oid] of changes) {
      const segments = path.split('/');
      let node = top;
      for (const segment of segments.slice(0, -1)) {
        let next = node.dirs.get(segment);
        if (!next) {
          next = { files: new Map(), dirs: new Map() };
          node.dirs.set(segment, next);
        }
        node = next;
      }
      node.files.set(segments[segments.length - 1] as string, oid);
    }
    const objects: EncodedObject[] = [];
    const rewritten = await this.rewrite(root, top, objects);
    if (rewritten) return { root: rewritten, objects };
    // Everything was deleted: git represents that as the empty tree.
    const empty = encodeObject('tree', new Uint8Array());
    objects.push(empty);
    return { root: empty.oid, objects };
  }

  /** Every file path under `prefix` ("" for all) in the tree `root`. */
  async listFiles(root: string | undefined, prefix: string): Promise<string[]> {
    if (!root) return [];
    const start = prefix === '' ? root : (await this.lookup(root, prefix))?.oid;
    const startEntry = prefix === '' ? undefined : await this.lookup(root, prefix);
    if (!start || (startEntry && !isTreeMode(startEntry.mode))) return [];
    const out: string[] = [];
    const walk = async (oid: string, base: string) => {
      for (const entry of await this.entries(oid)) {
        const path = base === '' ? entry.name : `${base}/${entry.name}`;
        if (isTreeMode(entry.mode)) await walk(entry.oid, path);
        else out.push(path);
      }
    };
    await walk(start, prefix);
    return out;
  }

  /** File changes that turn tree `from` into tree `to` (only differing subtrees are read). */
  async diff(from: string | undefined, to: string | undefined): Promise<Map<string, string | null>> {
    const changes = new Map<string, string | null>();
    const walk = async (a: string | undefined, b: string | undefined, base: string) => {
      if (a === b) return;
      const left = new Map((a ? await this.entries(a) : []).map((e) => [e.name, e]));
      const right = new Map((b ? await this.entries(b) : []).map((e) => [e.name, e]));
      for (const name of new Set([...left.keys(), ...right.keys()])) {
        const l = left.get(name);
        const r = right.get(name);
        const path = base === '' ? name : `${base}/${name}`;
        if (l?.oid === r?.oid && l?.mode === r?.mode) continue;
        const lTree = l && isTreeMode(l.mode) ? l.oid : undefined;
        const rTree = r && isTreeMode(r.mode) ? r.oid : undefined;
        if (lTree || rTree) await walk(lTree, rTree, path);
        if (r && !isTreeMode(r.mode)) changes.set(path, r.oid);
        else if (l && !isTreeMode(l.mode)) changes.set(path, null);
      }
    };
    await walk(from, to, '');
    return changes;
  }

  private async rewrite(oid: string | undefined, node: ChangeNode, objects: EncodedObject[]): Promise<string | undefined> {
    // Entries stay in git order; each change is placed by binary search, so a tree of thousands of
    // entries is copied once, not rebuilt.
    const entries = [...(oid ? await this.entries(oid) : [])];
    // Sets (or with null: deletes) one entry. A name is either a file or a folder in git, never both.
    const place = (name: string, mode: string, oid: string | null) => {
      const at = entries.findIndex((e) => e.name === name);
      if (at >= 0 && (oid !== null || isTreeMode((entries[at] as TreeEntry).mode) === isTreeMode(mode))) entries.splice(at, 1);
      if (oid === null) return;
      const entry: TreeEntry = { mode, name, oid };
      const key = treeSortKey(entry);
      let low = 0;
      let high = entries.length;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (treeSortKey(entries[mid] as TreeEntry) < key) low = mid + 1;
        else high = mid;
      }
      entries.splice(low, 0, entry);
    };
    for (const [name, blob] of node.files) place(name, FILE_MODE, blob);
    for (const [name, child] of node.dirs) {
      const existing = entries.find((e) => e.name === name && isTreeMode(e.mode));
      const childOid = await this.rewrite(existing?.oid, child, objects);
      place(name, TREE_MODE, childOid ?? null);
    }
    if (entries.length === 0) return undefined;
    const encoded = encodeObject('tree', serializeTree(entries));
    objects.push(encoded);
    this.remember(encoded.oid, entries);
    return encoded.oid;
  }

  private remember(oid: string, entries: TreeEntry[]): void {
    if (this.cache.size >= MAX_CACHED_TREES) {
      // Trees are immutable: dropping the oldest only costs a re-read.
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(oid, entries);
  }
}
