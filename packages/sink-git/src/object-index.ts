import type { Logger, ResourceIdentity } from '@gitops-reverser/contract';
import { clusterByPlace, documentNamespace, parentOf } from './document-place.js';
import { type ObjectHead, objectHeads } from './file-documents.js';
import { GitErrorCodes } from './git-error-codes.js';
import type { GitTarget } from './git-target.js';
import { isTreeMode } from './git-objects.js';
import { type Kustomization, isKustomizationFile, isKustomizationText, readKustomization } from './kustomizations.js';
import { MAX_ALIAS_COUNT } from './yaml-syntax.js';
import { SOPS_CONFIG_FILE } from './sops-files.js';
import type { TreeStore } from './tree-store.js';

/** One document of one file that holds an object. */
export interface PlacedDocument {
  /** The file's repository path. */
  readonly path: string;
  /** Its position among the file's documents (0 for a file of one). */
  readonly index: number;
  readonly head: ObjectHead;
}

/** Where an object lives: the document that is kept up to date, and any other document claiming it. */
export interface ObjectPlace {
  readonly owner: PlacedDocument;
  /** Further documents of the same object (a copy a person made): left alone, and logged. */
  readonly others: readonly PlacedDocument[];
}

interface IndexedFile {
  readonly blob: string;
  readonly heads: readonly (ObjectHead | undefined)[];
}

/** File names the index reads: the YAML a person or this sink may have put objects in. */
export function isIndexedFile(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return (name.endsWith('.yaml') || name.endsWith('.yml')) && name !== SOPS_CONFIG_FILE;
}

/**
 * Every YAML document under one target's folder, by the object it holds, and the folder's
 * kustomizations: where an update goes wherever a person put the object, what a delete removes.
 * Built once from the branch (the first write of the target after start) and then kept in step:
 * from the changes of each commit this writer makes (`record`) and, when the branch holds commits
 * of others (a fetch, a replay on a moved remote), from a diff of the folder's tree against the one
 * the index last saw (`syncTo`): only the files that differ are read again.
 *
 * Two documents claiming one object: the one at the object's layout path owns it; otherwise the
 * first by path (git's order), then by position in the file. Updates go to the owner only; the
 * others are logged with each write and never changed; a delete removes them all (they describe an
 * object that no longer exists).
 */
export class ObjectIndex {
  /** The folder's tree id this index reflects; null until built. */
  private folderTree: string | undefined | null = null;
  private readonly files = new Map<string, IndexedFile>();
  /**
   * Object name -> its document, or documents once a name repeats (group, kind, namespace and
   * cluster are resolved at lookup). Keyed by the head's own name string and holding no array for a
   * name held once: no key string and no array per object (ADR 0041).
   */
  private readonly byName = new Map<string, PlacedDocument | PlacedDocument[]>();
  /** Folder (repository path) -> its kustomization. */
  private readonly kustomizationsByFolder = new Map<string, Kustomization>();
  /** Texts of blobs this writer just made, so recording its own commit reads nothing back (and, where the writer knows them, their object heads, so it parses nothing either). */
  private readonly known = new Map<string, { readonly text: string; readonly heads?: readonly (ObjectHead | undefined)[] }>();

  constructor(
    private readonly target: GitTarget,
    private readonly trees: TreeStore,
    private readonly readBlob: (oid: string) => Promise<Uint8Array>,
    private readonly logger?: Logger,
  ) {}

  get built(): boolean {
    return this.folderTree !== null;
  }

  /** Brings the index to the target folder of `root` (a no-op when it already reflects it). */
  async syncTo(root: string | undefined): Promise<void> {
    const folder = await this.folderOf(root);
    if (this.folderTree !== null && this.folderTree === folder) return;
    const prefix = this.target.path === '' ? '' : `${this.target.path}/`;
    if (this.folderTree === null) {
      this.clear();
      for (const path of await this.trees.listFiles(root, this.target.path)) await this.readFile(path, root);
    } else {
      const changes = await this.trees.diff(this.folderTree, folder);
      for (const [relative, oid] of changes) {
        const path = `${prefix}${relative}`;
        if (oid === null) this.forget(path);
        else await this.load(path, oid);
      }
    }
    this.folderTree = folder;
  }

  /** A blob this writer made, with its text (and its object heads when known): `record` uses them instead of reading it back. */
  remember(oid: string, text: string, heads?: readonly (ObjectHead | undefined)[]): void {
    this.known.set(oid, heads ? { text, heads } : { text });
  }

  /**
   * Takes in a commit this writer made on the tree the index reflects: its file changes (blob id or
   * null) and the new root. Files outside the folder are ignored.
   */
  async record(changes: ReadonlyMap<string, string | null>, root: string | undefined): Promise<void> {
    if (this.folderTree === null) return;
    for (const [path, oid] of changes) {
      if (!this.inFolder(path)) continue;
      if (oid === null) this.forget(path);
      else await this.load(path, oid);
    }
    this.known.clear();
    this.folderTree = await this.folderOf(root);
  }

  /** Forgets everything: the next `syncTo` reads the folder again. */
  reset(): void {
    this.clear();
    this.folderTree = null;
  }

  /**
   * True when a document (at `path`, with `head`) holds the object, as `find` resolves it: its
   * namespace from the document, else its path, else the governing kustomization; its cluster from
   * the path. For documents of files a commit has already changed, which the index has not read.
   */
  isOf(path: string, head: ObjectHead, identity: ResourceIdentity): boolean {
    return head.kind === identity.kind && head.name === identity.name && this.holds({ path, index: 0, head }, identity);
  }

  /** Where an object lives in the folder, or undefined when no document holds it. */
  find(identity: ResourceIdentity): ObjectPlace | undefined {
    const candidates = this.named(identity.name).filter((document) => document.head.kind === identity.kind && this.holds(document, identity));
    // The layout path only when there is something to compare it with: a seed into a new branch asks
    // for every object and finds none (one path fewer per object, ADR 0045).
    if (candidates.length === 0 && identity.kind !== identity.resource) return undefined;
    const layout = this.target.layout.pathOf(this.target.path, identity);
    if (candidates.length === 0) {
      // A source that does not know the kind (an audited delete answered with a Status names the
      // plural resource): the document at the object's layout path naming the object is it.
      if ('problem' in layout || identity.kind !== identity.resource) return undefined;
      const atPath = [layout.path, ...(layout.encrypted ? [layout.encrypted] : [])].flatMap((path) =>
        (this.files.get(path)?.heads ?? []).flatMap((head, index) => (head && head.name === identity.name ? [{ path, index, head }] : [])).filter((document) => this.holds(document, identity)),
      );
      return atPath.length === 1 ? { owner: atPath[0] as PlacedDocument, others: [] } : undefined;
    }
    const atLayout = 'problem' in layout ? undefined : candidates.find((d) => d.path === layout.path || d.path === layout.encrypted);
    const sorted = [...candidates].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.index - b.index));
    const owner = atLayout ?? (sorted[0] as PlacedDocument);
    return { owner, others: sorted.filter((d) => d !== owner) };
  }

  /** The object heads of a file, as indexed (undefined when the index has no such file). */
  headsOf(path: string): readonly (ObjectHead | undefined)[] | undefined {
    return this.files.get(path)?.heads;
  }

  /** Every document that holds an object, for pruning. */
  *documents(): Iterable<PlacedDocument> {
    for (const documents of this.byName.values()) {
      if (Array.isArray(documents)) yield* documents;
      else yield documents;
    }
  }

  /** True when a file is at `path` (any file the index reads). */
  has(path: string): boolean {
    return this.files.has(path) || this.kustomizationAt(path) !== undefined;
  }

  /** The kustomization of `folder` (a repository path), if it has one. */
  kustomizationOf(folder: string): Kustomization | undefined {
    return this.kustomizationsByFolder.get(folder);
  }

  /**
   * The kustomization that governs a file: the one in the file's folder, else the nearest in a
   * folder above it, up to the target folder.
   */
  governing(path: string): Kustomization | undefined {
    let folder = parentOf(path);
    for (;;) {
      const found = this.kustomizationsByFolder.get(folder);
      if (found) return found;
      if (folder === this.target.path || folder === '' || !this.inFolder(`${folder}/x`)) return undefined;
      folder = parentOf(folder);
    }
  }

  /** The namespace of a document, as document-place.ts resolves it (its kustomizations as this index holds them). */
  namespaceOf(document: PlacedDocument): string {
    return documentNamespace(this.target, document.path, document.head, (folder) => this.kustomizationsByFolder.get(folder)?.namespace);
  }

  /** The cluster a document belongs to: "" when the layout has no `{cluster}` (one cluster per target). */
  clusterOf(document: PlacedDocument): string | undefined {
    return clusterByPlace(this.target, document.path);
  }

  private holds(document: PlacedDocument, identity: ResourceIdentity): boolean {
    if (document.head.group !== identity.group) return false;
    const cluster = this.clusterOf(document);
    if (cluster !== '' && cluster !== identity.clusterId) return false;
    return this.namespaceOf(document) === identity.namespace;
  }

  private kustomizationAt(path: string): Kustomization | undefined {
    const found = this.kustomizationsByFolder.get(parentOf(path));
    return found?.path === path ? found : undefined;
  }

  private async readFile(path: string, root: string | undefined): Promise<void> {
    if (!isIndexedFile(path) && !isKustomizationFile(path)) return;
    const entry = await this.trees.lookup(root, path);
    if (!entry || isTreeMode(entry.mode)) return;
    await this.load(path, entry.oid);
  }

  private async load(path: string, oid: string): Promise<void> {
    if (!isIndexedFile(path) && !isKustomizationFile(path)) return;
    if (this.files.get(path)?.blob === oid || this.kustomizationAt(path)?.blob === oid) return;
    this.forget(path);
    const known = this.known.get(oid);
    const text = known?.text ?? Buffer.from(await this.readBlob(oid)).toString('utf8');
    // An object a person (or an older version of this sink) named `kustomization.yaml` is an object,
    // not the folder's kustomization.
    if (isKustomizationFile(path) && isKustomizationText(text)) {
      this.kustomizationsByFolder.set(parentOf(path), readKustomization(path, oid, text));
      return;
    }
    if (!isIndexedFile(path)) return;
    const overLimit: number[] = [];
    let heads: readonly (ObjectHead | undefined)[];
    try {
      heads = known?.heads ?? objectHeads(text, (index) => overLimit.push(index));
    } catch {
      heads = [];
    }
    // Said once per version of the file: the index reads a file again only when it changed.
    if (overLimit.length > 0) {
      this.logger?.warn(
        { code: GitErrorCodes.YAML_ALIASES, path, documents: overLimit.map((i) => i + 1) },
        `${GitErrorCodes.YAML_ALIASES}: ${path} (document ${overLimit.map((i) => i + 1).join(', ')}) uses aliases more than ${MAX_ALIAS_COUNT} times and is not read (an object it names is not written or removed); fix: write the values out, or remove the file if nobody meant it`,
      );
    }
    this.files.set(path, { blob: oid, heads });
    heads.forEach((head, index) => {
      if (!head) return;
      const document: PlacedDocument = { path, index, head };
      const known = this.byName.get(head.name);
      if (known === undefined) this.byName.set(head.name, document);
      else if (Array.isArray(known)) known.push(document);
      else this.byName.set(head.name, [known, document]);
    });
  }

  private forget(path: string): void {
    const kustomization = this.kustomizationAt(path);
    if (kustomization) this.kustomizationsByFolder.delete(parentOf(path));
    const file = this.files.get(path);
    if (!file) return;
    this.files.delete(path);
    for (const head of file.heads) {
      if (!head) continue;
      const list = this.named(head.name).filter((d) => d.path !== path);
      if (list.length === 0) this.byName.delete(head.name);
      else this.byName.set(head.name, list.length === 1 ? (list[0] as PlacedDocument) : list);
    }
  }

  /** The documents whose object has this name. */
  private named(name: string): readonly PlacedDocument[] {
    const known = this.byName.get(name);
    return known === undefined ? [] : Array.isArray(known) ? known : [known];
  }

  private clear(): void {
    this.files.clear();
    this.byName.clear();
    this.kustomizationsByFolder.clear();
  }

  private async folderOf(root: string | undefined): Promise<string | undefined> {
    if (this.target.path === '') return root;
    const entry = await this.trees.lookup(root, this.target.path);
    return entry && isTreeMode(entry.mode) ? entry.oid : undefined;
  }

  private inFolder(path: string): boolean {
    return this.target.path === '' || path.startsWith(`${this.target.path}/`);
  }
}
