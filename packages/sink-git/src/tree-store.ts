import type { GitDirectory } from './git-directory.js';
import { encodeObject, FILE_MODE, isTreeMode, serializeTree, sortTreeEntries, TREE_MODE, treeSortKey, type EncodedObject, type TreeEntry } from './git-objects.js';
import { LARGE_TREE_ENTRIES, LargeTree } from './large-tree.js';
import { applySorted, type EntryChange, FEW_CHANGES, findEntry } from './sorted-entries.js';

/** A change to one file: the new blob id, or null to delete it. */
export type FileChanges = ReadonlyMap<string, string | null>;

interface ChangeNode {
  files: Map<string, string | null>;
  dirs: Map<string, ChangeNode>;
}

const MAX_CACHED_TREES = 50_000;
/** What the empty tree holds at any path, one settled promise for every such question. */
const NO_ENTRY: Promise<TreeEntry | undefined> = Promise.resolve(undefined);
/** Large trees hold tens of kilobytes per version: only the newest few stay cached (older ones are re-read). */
const MAX_CACHED_LARGE_TREES = 8;

/**
 * Reads and writes trees without an index or a working tree. A commit that changes one file
 * rewrites only the trees on that file's path, whatever the repository's size; a folder of
 * thousands of entries is a LargeTree, patched block by block instead of re-serialized.
 * Parsed trees are cached by id (trees are immutable).
 */
export class TreeStore {
  private readonly cache = new Map<string, TreeEntry[]>();
  private readonly largeCache = new Map<string, LargeTree>();

  constructor(private readonly directory: GitDirectory) {}

  async entries(oid: string): Promise<TreeEntry[]> {
    const tree = await this.tree(oid);
    return tree instanceof LargeTree ? tree.entries() : tree;
  }

  /** A tree as kept in the cache: an entry list, or a LargeTree from LARGE_TREE_ENTRIES entries. */
  private async tree(oid: string): Promise<TreeEntry[] | LargeTree> {
    const cached = this.cache.get(oid) ?? this.largeCache.get(oid);
    if (cached) return cached;
    // In git's order (a tree a tool wrote out of order is sorted here): lookups and edits are binary searches.
    const entries = sortTreeEntries(await this.directory.readTree(oid)) as TreeEntry[];
    const tree = entries.length >= LARGE_TREE_ENTRIES ? LargeTree.fromEntries(entries) : entries;
    this.remember(oid, tree);
    return tree;
  }

  /** Entry `name` of the tree `oid` (binary search in a large one). */
  private async child(oid: string, name: string): Promise<TreeEntry | undefined> {
    const tree = await this.tree(oid);
    return tree instanceof LargeTree ? tree.find(name) : findEntry(tree, name);
  }

  /** Names in folder `path` of `root` equal to `name` ignoring case, other than `name` (for case-collision warnings). */
  async caseTwins(root: string | undefined, folder: string, name: string): Promise<string[]> {
    const oid = folder === '' ? root : (await this.lookup(root, folder))?.oid;
    if (!oid) return [];
    const tree = await this.tree(oid);
    if (tree instanceof LargeTree) return tree.caseTwins(name);
    const lower = name.toLowerCase();
    return tree.filter((entry) => entry.name !== name && entry.name.toLowerCase() === lower).map((entry) => entry.name);
  }

  /**
   * The entry at `path` in the tree `root` (undefined root: the empty tree). Not itself async: a seed
   * into a new branch asks the empty tree about every file several times, and each call of an async
   * function allocates its frame (~0.4 KB here) before it can answer.
   */
  lookup(root: string | undefined, path: string): Promise<TreeEntry | undefined> {
    return root ? this.lookupIn(root, path) : NO_ENTRY;
  }

  private async lookupIn(root: string, path: string): Promise<TreeEntry | undefined> {
    const segments = path.split('/');
    let current = root;
    for (const [index, name] of segments.entries()) {
      const entry = await this.child(current, name);
      if (!entry) return undefined;
      if (index === segments.length - 1) return entry;
      if (!isTreeMode(entry.mode)) return undefined;
      current = entry.oid;
    }
    return undefined;
  }

  /** The text of the file at `path` in the tree `root` (UTF-8); undefined when there is none or it is a folder. */
  async fileText(root: string | undefined, path: string): Promise<string | undefined> {
    const entry = await this.lookup(root, path);
    if (!entry || isTreeMode(entry.mode)) return undefined;
    return Buffer.from(await this.directory.readBlob(entry.oid)).toString('utf8');
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
    const current = oid ? await this.tree(oid) : [];
    // Folders first: their new ids are entry changes of this level.
    const changes: EntryChange[] = [...node.files].map(([name, blob]) => ({ name, mode: FILE_MODE, oid: blob }));
    for (const [name, child] of node.dirs) {
      const existing = current instanceof LargeTree ? current.find(name) : findEntry(current, name);
      const childOid = await this.rewrite(existing && isTreeMode(existing.mode) ? existing.oid : undefined, child, objects);
      changes.push({ name, mode: TREE_MODE, oid: childOid ?? null });
    }
    if (current instanceof LargeTree) {
      const next = current.apply(changes);
      if (next.entryCount === 0) return undefined;
      return this.store(next.entryCount >= LARGE_TREE_ENTRIES ? next : next.entries(), objects);
    }
    if (changes.length <= Math.max(FEW_CHANGES, current.length / 16)) {
      const entries = applySorted(current, changes);
      if (entries.length === 0) return undefined;
      return this.store(entries.length >= LARGE_TREE_ENTRIES ? LargeTree.fromEntries(entries) : entries, objects);
    }
    // By name (a name is a file or a folder in git, never both), then sorted once: a seed of 100,000
    // files into one folder is n log n, not n squared.
    const byName = new Map(current.map((entry) => [entry.name, entry]));
    for (const { name, mode, oid: id } of changes) {
      const existing = byName.get(name);
      if (id === null) {
        if (existing && isTreeMode(existing.mode) === isTreeMode(mode)) byName.delete(name);
      } else byName.set(name, { mode, name, oid: id });
    }
    const entries = [...byName.values()];
    if (changes.length > 0) {
      const keyed = entries.map((entry) => ({ entry, key: treeSortKey(entry) }));
      keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      keyed.forEach((item, index) => {
        entries[index] = item.entry;
      });
    }
    if (entries.length === 0) return undefined;
    return this.store(entries.length >= LARGE_TREE_ENTRIES ? LargeTree.fromEntries(entries) : entries, objects);
  }

  /** Encodes a new tree version, queues it for writing and caches it under its id. */
  private store(tree: TreeEntry[] | LargeTree, objects: EncodedObject[]): string {
    const encoded = tree instanceof LargeTree ? tree.encode() : encodeObject('tree', serializeTree(tree));
    objects.push(encoded);
    this.remember(encoded.oid, tree);
    return encoded.oid;
  }

  private remember(oid: string, tree: TreeEntry[] | LargeTree): void {
    const [cache, limit] = tree instanceof LargeTree ? [this.largeCache, MAX_CACHED_LARGE_TREES] : [this.cache, MAX_CACHED_TREES];
    if (cache.size >= limit) {
      // Trees are immutable: dropping the oldest only costs a re-read.
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    (cache as Map<string, TreeEntry[] | LargeTree>).set(oid, tree);
  }
}
