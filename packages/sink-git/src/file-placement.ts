import { CLUSTER_SCOPE_KEY, type KubeObject, type Logger, type ResourceIdentity } from '@gitops-reverser/contract';
import type { FileOperation } from './commit-message.js';
import type { FileWrite } from './commit-plan.js';
import { headOf, type ObjectHead, objectHeads, withDocument, withoutDocument } from './file-documents.js';
import { GitErrorCodes } from './git-error-codes.js';
import { encodeDeflatedText, type EncodedObject, isTreeMode } from './git-objects.js';
import type { GitTarget } from './git-target.js';
import { editDocument } from './in-place-edit.js';
import { isKustomizationText, KUSTOMIZATION_FILES, newKustomization, onlyResources, readKustomization, sameResource, withoutResource, withResource } from './kustomizations.js';
import { parentOf } from './document-place.js';
import type { ObjectIndex, PlacedDocument } from './object-index.js';
import { isSopsFileName, isSopsObject } from './sops-files.js';
import type { TreeStore } from './tree-store.js';
import { blockedPath, objectName, sharedSopsFile, sopsFileTaken, uneditableDocument, unreadableFile } from './write-refusal.js';
import { canonicalYaml, dataOf, readDocuments, TO_JS } from './yaml-syntax.js';

/** What a target's writes came to: the file changes of one commit. */
export interface PlacedChanges {
  /** Repository path -> new blob id, or null to remove the file. */
  readonly changes: Map<string, string | null>;
  readonly blobs: EncodedObject[];
  /** Per write that changed something: what it did, for the commit message. */
  readonly lines: { write: FileWrite; operation: FileOperation }[];
  /** Files created (for the case-collision warning). */
  readonly created: string[];
}

/** What placements share across commits of one writer. */
export interface PlacementMemory {
  /** Blob ids known to be the kernel's rendering of what they hold (this sink's own, untouched files). */
  readonly canonicalBlobs: Set<string>;
  /** Identity keys this writer wrote since start, per target: documents it may prune wherever they are. */
  readonly written: Set<string>;
}

const MAX_CANONICAL_BLOBS = 200_000;

/** A path the overlay had no entry for before a write (see `Journal`). */
const ABSENT = Symbol('absent');

/** What the overlay held for one path before a write changed it. */
interface KeptPath {
  readonly text: string | null | typeof ABSENT;
  readonly heads: readonly (ObjectHead | undefined)[] | typeof ABSENT;
  readonly rendered: boolean;
}

/**
 * What one object's write changed in the overlay, so a refused write (write-refusal.ts) is undone
 * without copying the overlay per write (a seed places 10,000 writes in one commit).
 */
interface Journal {
  /** Per path the write changed: what the overlay held for it before (one map: a seed journals 10,000 writes). */
  readonly kept: Map<string, KeptPath>;
  readonly lines: number;
  readonly created: number;
  written?: string;
}

/**
 * Turns one commit's object writes into file changes on `headTree`, for one target
 * (docs/sharing-the-repository.md, ADR 0020):
 * - an update goes to the document that holds the object, wherever a person put it, and changes
 *   only what changed there (in-place-edit.ts); a file this sink wrote and nobody edited (its bytes
 *   are the kernel's rendering of what it holds) is written whole, as before;
 * - a delete removes the object's documents (a file with none left goes);
 * - a new object goes to its layout path, and into the `resources:` of the kustomization that
 *   governs that folder (`kustomizations: Create` also makes one per folder);
 * - a complete snapshot (`prune: Always`) removes documents of objects it did not contain that are
 *   this sink's: at their layout path, or written by this writer since it started. Nothing else.
 * Texts are kept as they change within the commit (an overlay on the head tree), so several writes
 * to one file compose.
 */
export class FilePlacement {
  /** Path -> text as this commit leaves it (null: removed). */
  private readonly texts = new Map<string, string | null>();
  /** Paths whose overlay text is the canonical rendering of what it holds. */
  private readonly rendered = new Set<string>();
  /** Object heads of overlay texts edited in place (known without parsing them again). */
  private readonly heads = new Map<string, readonly (ObjectHead | undefined)[]>();
  private readonly lines: { write: FileWrite; operation: FileOperation }[] = [];
  private readonly created: string[] = [];
  private journal: Journal | undefined;
  /** The governing kustomization of folders asked so far (see `governing`); emptied when one may have changed. */
  private readonly governingOf = new Map<string, string | undefined>();

  constructor(
    private readonly target: GitTarget,
    private readonly index: ObjectIndex,
    private readonly trees: TreeStore,
    private readonly headTree: string | undefined,
    private readonly memory: PlacementMemory,
    private readonly logger: Logger,
  ) {}

  /**
   * Places one object's write as a unit: when it throws (a refusal, or anything else), whatever it
   * had changed in the overlay is undone, so the commit holds the other writes and nothing half-done.
   */
  async place(write: FileWrite): Promise<void> {
    this.journal = { kept: new Map(), lines: this.lines.length, created: this.created.length };
    try {
      if (write.yaml === null) await this.delete(write);
      else await this.upsert(write);
    } catch (error) {
      this.undo(this.journal);
      throw error;
    } finally {
      this.journal = undefined;
    }
  }

  private async upsert(write: FileWrite): Promise<void> {
    const { identity } = write;
    const object = objectOf(write);
    // A SOPS file keeps its namespace: its MAC covers every value, and sops (Flux's decryption,
    // restore) refuses a file missing one. A kustomization's `namespace:` sets the same value.
    const desired = this.target.omitNamespace && identity.namespace !== '' && write.sops === undefined ? withoutNamespace(object) : object;
    const rendering = desired === object && write.yaml !== null ? write.yaml : canonicalYaml(desired);
    this.remember(this.keyOf(identity));
    const found = await this.locate(identity);
    if (!found) {
      const variant = write.alsoDelete === undefined ? undefined : await this.read(write.alsoDelete);
      if (variant !== undefined) await this.removeVariant(write.alsoDelete as string, variant, identity);
      await this.create(write.path, rendering, identity);
      this.lines.push({ write, operation: 'CREATE' });
      return;
    }
    const { path, index } = found;
    const before = (await this.read(path)) as string;
    if (isSharedSopsFile(path, before)) throw sharedSopsFile(identity, path, write.path);
    const encrypted = write.sops !== undefined;
    // Parsed once: the check for an untouched file and the edit read the same documents.
    let documents: ReturnType<typeof readDocuments> | undefined;
    const parsed = () => (documents ??= readDocuments(before));
    // A document a person broke (its head was still found) is neither edited nor replaced: what they
    // were writing would be lost. A file whose bytes are a rendering is not parsed for this.
    const rendered = await this.isRendered(path, before, parsed);
    if (found.unreadable || (!rendered && !readable(parsed()[index]))) throw unreadableFile(identity, path, write.path);
    if (encrypted !== isSopsFileName(basename(path))) {
      // Plain <-> SOPS: the document leaves its file, and the object takes the layout's name for its
      // state in the same folder (a Secret once encrypted never stays in plain text beside it).
      await this.removeDocument(path, index);
      await this.create(joinPath(parentOf(path), basename(write.path)), rendering, identity);
      this.lines.push({ write, operation: 'UPDATE' });
      return;
    }
    let after: string;
    if (encrypted || rendered) {
      after = rendering;
      this.markRendered(path, true);
    } else {
      try {
        after = editDocument(before, index, desired, parsed());
      } catch (error) {
        throw uneditableDocument(identity, path, write.path, error instanceof Error ? error.message : String(error));
      }
    }
    if (after === before) return;
    const heads = this.headsOf(path);
    this.set(path, after);
    // The edited document now reads as `desired`, the others as they did: the index takes these
    // heads instead of parsing the file again after the commit.
    if (heads && !this.rendered.has(path))
      this.setHeads(
        path,
        heads.map((head, i) => (i === index ? headOf(desired) : head)),
      );
    this.lines.push({ write, operation: 'UPDATE' });
  }

  private async delete(write: FileWrite): Promise<void> {
    let removed = false;
    for (let found = await this.locate(write.identity); found; found = await this.locate(write.identity)) {
      // A broken document is a person's work in progress: never removed on the sink's word.
      if (found.unreadable || (await this.brokenAt(found.path, found.index))) throw unreadableFile(write.identity, found.path, write.path);
      if (isSharedSopsFile(found.path, (await this.read(found.path)) as string)) throw sharedSopsFile(write.identity, found.path, write.path);
      await this.removeDocument(found.path, found.index);
      removed = true;
    }
    if (removed) this.lines.push({ write, operation: 'DELETE' });
  }

  /**
   * Prune for a complete snapshot of `clusterId` whose objects are `live` (plus `kept`, superseded):
   * documents of this sink's objects that it did not contain are removed. A document counts as this
   * sink's when it is at its object's layout path, or this writer wrote the object since it started;
   * anything else under the folder (a person's files, kustomizations, objects outside the selection,
   * files that are not YAML) is never touched.
   */
  async prune(clusterId: string, live: readonly ResourceIdentity[]): Promise<void> {
    const keys = new Set(live.map((identity) => this.keyOf(identity)));
    const layoutHasCluster = this.target.layout.template.includes('{cluster}');
    const gone: { document: PlacedDocument; identity: ResourceIdentity }[] = [];
    for (const document of this.index.documents()) {
      const cluster = this.index.clusterOf(document);
      if (cluster === undefined || (layoutHasCluster && cluster !== clusterId)) continue;
      const identity: ResourceIdentity = {
        clusterId,
        group: document.head.group,
        version: document.head.version,
        resource: '',
        kind: document.head.kind,
        namespace: this.index.namespaceOf(document),
        name: document.head.name,
      };
      const key = this.keyOf(identity);
      if (keys.has(key)) continue;
      if (document.head.unreadable) {
        this.logger.warn(
          { path: document.path, object: `${document.head.kind} ${identity.namespace}/${identity.name}` },
          `not in the snapshot, kept: ${document.path} cannot be read (fix its YAML; the next complete snapshot prunes it)`,
        );
        continue;
      }
      if (!this.memory.written.has(key) && !this.atLayoutPath(document, identity)) {
        this.logger.debug({ path: document.path, object: `${document.head.kind} ${identity.namespace}/${identity.name}` }, 'not in the snapshot, kept: not a file this sink placed');
        continue;
      }
      gone.push({ document, identity });
    }
    // Later documents of a file first: removing one never moves the ones still to remove.
    gone.sort((a, b) => (a.document.path < b.document.path ? -1 : a.document.path > b.document.path ? 1 : b.document.index - a.document.index));
    for (const { document, identity } of gone) {
      if (this.texts.get(document.path) === null) continue;
      const text = await this.read(document.path);
      if (text === undefined) continue;
      if (isSharedSopsFile(document.path, text)) {
        this.logger.warn(
          { code: GitErrorCodes.SOPS_FILE_SHARED, path: document.path, object: `${document.head.kind} ${identity.namespace}/${identity.name}` },
          `not in the snapshot, kept: ${document.path} is a SOPS file of several documents, and removing one would break the MAC of the others (give each object a SOPS file of its own)`,
        );
        continue;
      }
      const index = this.texts.has(document.path) ? this.positionIn(document.path, text, identity)?.index : document.index;
      if (index === undefined) continue;
      if (await this.brokenAt(document.path, index)) {
        this.logger.warn(
          { path: document.path, object: `${identity.kind} ${identity.namespace}/${identity.name}` },
          `not in the snapshot, kept: ${document.path} cannot be read (fix its YAML; the next complete snapshot prunes it)`,
        );
        continue;
      }
      await this.removeDocument(document.path, index);
    }
  }

  /** The commit's file changes: every overlay text that differs from the head tree. */
  async result(): Promise<PlacedChanges> {
    const changes = new Map<string, string | null>();
    const blobs: EncodedObject[] = [];
    for (const [path, text] of this.texts) {
      const existing = await this.trees.lookup(this.headTree, path);
      const existingBlob = existing && !isTreeMode(existing.mode) ? existing.oid : undefined;
      if (text === null) {
        if (existingBlob) changes.set(path, null);
        continue;
      }
      const blob = encodeDeflatedText('blob', text);
      this.index.remember(blob.oid, text, this.heads.get(path));
      if (this.rendered.has(path)) this.rememberCanonical(blob.oid);
      if (existingBlob === blob.oid) continue;
      changes.set(path, blob.oid);
      blobs.push(blob);
    }
    return { changes, blobs, lines: this.lines, created: this.created };
  }

  /** The document that holds an object as this commit leaves the files, or undefined. */
  private async locate(identity: ResourceIdentity): Promise<{ path: string; index: number; unreadable: boolean } | undefined> {
    const place = this.index.find(identity);
    if (!place) return undefined;
    if (place.others.length > 0) {
      this.logger.warn(
        { object: `${identity.kind} ${identity.namespace}/${identity.name}`, kept: place.owner.path, copies: place.others.map((d) => d.path) },
        `${identity.kind} ${identity.namespace}/${identity.name} is in more than one document: ${place.owner.path} is kept up to date, the other copies are left as they are (a delete removes them all)`,
      );
    }
    for (const document of [place.owner, ...place.others]) {
      if (!this.texts.has(document.path)) return { path: document.path, index: document.index, unreadable: document.head.unreadable === true };
      const text = this.texts.get(document.path);
      if (text === null || text === undefined) continue;
      const position = this.positionIn(document.path, text, identity);
      if (position !== undefined) return { path: document.path, ...position };
    }
    return undefined;
  }

  /**
   * Where in a file (as this commit has it) a document of the object is: its namespace resolved as
   * the index resolves it (a document without one is not of every namespace).
   */
  private positionIn(path: string, text: string, identity: ResourceIdentity): { index: number; unreadable: boolean } | undefined {
    const heads = objectHeads(text);
    const index = heads.findIndex((head) => head !== undefined && this.index.isOf(path, head, identity));
    return index < 0 ? undefined : { index, unreadable: heads[index]?.unreadable === true };
  }

  /** A new object's file at `path`; a file already there (someone else's) gets it as one more document. */
  private async create(path: string, rendering: string, identity: ResourceIdentity): Promise<void> {
    const existing = await this.read(path);
    if (existing !== undefined) {
      // One more document in a SOPS file breaks the MAC that covers the ones there.
      if (isSopsFile(path, existing)) throw sopsFileTaken(identity, path);
      this.set(path, withDocument(existing, rendering));
      return;
    }
    // Git would take the new file for the folder (or the folder for the file): what is there is lost.
    const blocker = await this.blockerOf(path);
    if (blocker) throw blockedPath(identity, path, blocker.path, blocker.folder);
    this.set(path, rendering);
    this.markRendered(path, true);
    this.created.push(path);
    // Most new files have no kustomization above them: asked without entering an async function.
    if (this.target.kustomizations === 'Create' || (this.target.kustomizations === 'Maintain' && this.governing(parentOf(path)))) await this.listInKustomization(path, identity);
  }

  private async removeDocument(path: string, index: number): Promise<void> {
    const text = await this.read(path);
    if (text === undefined) return;
    const rest = withoutDocument(text, index);
    this.markRendered(path, false);
    if (rest !== undefined) {
      this.set(path, rest);
      return;
    }
    this.set(path, null);
    await this.unlistFromKustomization(path);
  }

  /** Adds a new file to the `resources:` of the kustomization that governs it (creating them for `Create`). */
  private async listInKustomization(path: string, identity: ResourceIdentity): Promise<void> {
    const mode = this.target.kustomizations;
    if (mode === 'Ignore') return;
    const folder = parentOf(path);
    if (mode === 'Create') {
      const namespace = this.target.omitNamespace && identity.namespace !== '' ? identity.namespace : undefined;
      await this.ensureKustomization(folder, namespace);
    }
    const governing = this.governing(folder);
    if (!governing) return;
    await this.addResource(governing, relativeTo(parentOf(governing), path));
  }

  /** `Create`: a kustomization in `folder`, listed by the one above it, up to the target folder. */
  private async ensureKustomization(folder: string, namespace: string | undefined): Promise<void> {
    if (this.kustomizationIn(folder)) return;
    const path = joinPath(folder, 'kustomization.yaml');
    // Its folder was checked with the object's file; a folder named kustomization.yaml is not replaced.
    if ((await this.blockerOf(path))?.path === path) return;
    // An object's file at that name (written before such names were escaped) is not replaced either:
    // the folder goes without one, its files listed by the kustomization above.
    if ((await this.read(path)) !== undefined) {
      this.logger.warn({ path }, `no kustomization made in ${folder}: ${path} holds an object, not a kustomization (move that object's file, and kustomize can read the folder)`);
      if (folder !== this.target.path && this.inTarget(folder)) await this.ensureKustomization(parentOf(folder), undefined);
      return;
    }
    this.set(path, newKustomization([], namespace));
    this.created.push(path);
    if (folder === this.target.path || !this.inTarget(folder)) return;
    const parent = parentOf(folder);
    await this.ensureKustomization(parent, undefined);
    const above = this.governing(parent);
    if (above) await this.addResource(above, relativeTo(parentOf(above), folder));
  }

  /** Removes a removed file from its kustomization; `Create` also removes kustomizations left empty. */
  private async unlistFromKustomization(path: string): Promise<void> {
    if (this.target.kustomizations === 'Ignore') return;
    const folder = parentOf(path);
    const governing = this.governing(folder);
    if (!governing) return;
    const text = (await this.read(governing)) as string;
    const entry = relativeTo(parentOf(governing), path);
    const next = withoutResource(text, entry);
    if (next === text) return;
    const emptied = readKustomization(governing, '', next).resources.length === 0;
    if (this.target.kustomizations === 'Create' && emptied && parentOf(governing) !== this.target.path && this.inTarget(parentOf(governing)) && onlyResources(next)) {
      this.set(governing, null);
      await this.unlistFromKustomization(parentOf(governing));
      return;
    }
    this.set(governing, next);
  }

  private async addResource(kustomization: string, entry: string): Promise<void> {
    const text = (await this.read(kustomization)) ?? newKustomization([]);
    const current = readKustomization(kustomization, '', text).resources;
    if (current.some((r) => sameResource(r, entry))) return;
    this.set(kustomization, withResource(text, entry));
  }

  /** The kustomization file governing files of `folder` (its own or the nearest above, within the target). */
  private governing(folder: string): string | undefined {
    // Asked for every new file, mostly for the same few folders: remembered until a kustomization changes.
    if (this.governingOf.has(folder)) return this.governingOf.get(folder);
    const found = this.findGoverning(folder);
    this.governingOf.set(folder, found);
    return found;
  }

  private findGoverning(folder: string): string | undefined {
    let at = folder;
    for (;;) {
      const own = this.kustomizationIn(at);
      if (own) return own;
      if (at === this.target.path || at === '' || !this.inTarget(at)) return undefined;
      at = parentOf(at);
    }
  }

  private kustomizationIn(folder: string): string | undefined {
    for (const name of KUSTOMIZATION_FILES) {
      const path = joinPath(folder, name);
      if (this.texts.has(path)) {
        const text = this.texts.get(path);
        if (text !== null && text !== undefined && isKustomizationText(text)) return path;
        continue;
      }
      if (this.index.kustomizationOf(folder)?.path === path) return path;
    }
    return undefined;
  }

  /** True when a file's bytes are the kernel's rendering of the one object it holds (ours, untouched). */
  private async isRendered(path: string, text: string, parsed: () => ReturnType<typeof readDocuments>): Promise<boolean> {
    if (this.rendered.has(path)) return true;
    if (this.texts.has(path)) return false;
    const entry = await this.trees.lookup(this.headTree, path);
    if (entry && this.memory.canonicalBlobs.has(entry.oid)) return true;
    // The kernel's rendering starts with these two keys: a file a person began with a comment (or
    // anything else) is not it, and needs no parse and rendering to tell.
    if (text.includes('\r') || !text.startsWith('apiVersion: ') || !text.includes('\nkind: ')) return false;
    const documents = parsed();
    if (documents.length !== 1 || !documents[0]) return false;
    const data = dataOf(documents[0]) as KubeObject | null | undefined;
    const canonical = data !== null && data !== undefined && typeof data === 'object' && canonicalYaml(data) === text;
    if (canonical && entry) this.rememberCanonical(entry.oid);
    return canonical;
  }

  /**
   * True when document `index` of the file at `path` (as this commit has it) cannot be read: a file
   * read by its canonical first lines (file-documents.ts) is not parsed for its head, so a person's
   * syntax error below them is found here, before the document is removed. Files this sink rendered
   * are not parsed.
   */
  private async brokenAt(path: string, index: number): Promise<boolean> {
    if (this.rendered.has(path)) return false;
    if (!this.texts.has(path)) {
      const entry = await this.trees.lookup(this.headTree, path);
      if (entry && this.memory.canonicalBlobs.has(entry.oid)) return false;
    }
    const text = await this.read(path);
    return text !== undefined && !readable(readDocuments(text)[index]);
  }

  private rememberCanonical(oid: string): void {
    if (this.memory.canonicalBlobs.size >= MAX_CANONICAL_BLOBS) this.memory.canonicalBlobs.clear();
    this.memory.canonicalBlobs.add(oid);
  }

  /**
   * The file of the object's other form (plain vs SOPS, ADR 0016) at its layout path, when no
   * document of the object was found: a SOPS file whose object the index cannot name. It goes only
   * when it holds exactly that: one document, a SOPS object naming no other object. A file that
   * cannot be parsed, holds only comments, other documents or anything else is a person's and stays;
   * a removed file leaves its kustomization's `resources:` too.
   */
  private async removeVariant(path: string, text: string, identity: ResourceIdentity): Promise<void> {
    const documents = readDocuments(text);
    if (documents.some((document) => document.errors.length > 0)) {
      this.logger.warn({ path, object: objectName(identity) }, `kept: ${path} (where ${objectName(identity)} would be in its other form, plain or SOPS) cannot be parsed, so it is not removed`);
      return;
    }
    const filled = documents.flatMap((document, index) => (document.contents === null ? [] : [index]));
    const index = filled[0];
    if (filled.length !== 1 || index === undefined) return;
    const data = dataOf(documents[index] as (typeof documents)[number]);
    const head = headOf(data);
    if (!isSopsObject(data as KubeObject) || (head !== undefined && !this.index.isOf(path, head, identity))) return;
    await this.removeDocument(path, index);
  }

  private atLayoutPath(document: PlacedDocument, identity: ResourceIdentity): boolean {
    const relative = this.target.path === '' ? document.path : document.path.slice(this.target.path.length + 1);
    const values = this.target.layout.valuesAt(relative);
    if (!values) return false;
    const placed = this.target.layout.pathOf(this.target.path, {
      ...identity,
      clusterId: values.cluster ?? identity.clusterId,
      resource: values.resource ?? identity.resource,
      version: values.version ?? identity.version,
    });
    return !('problem' in placed) && (placed.path === document.path || placed.encrypted === document.path);
  }

  private keyOf(identity: ResourceIdentity): string {
    const cluster = this.target.layout.template.includes('{cluster}') ? identity.clusterId : '';
    // Joined, not a template literal: the key is kept per written object (`memory.written`), and a
    // template's concatenated string stays beside its flattened text once hashed (as the kernel's keys).
    return [cluster, identity.group, identity.kind, identity.namespace || CLUSTER_SCOPE_KEY, identity.name].join('|');
  }

  private inTarget(folder: string): boolean {
    return this.target.path === '' || folder === this.target.path || folder.startsWith(`${this.target.path}/`);
  }

  /** Not itself async: the overlay and a new branch answer at once (a seed reads each new file's path twice). */
  private read(path: string): string | undefined | Promise<string | undefined> {
    if (this.texts.has(path)) return this.texts.get(path) ?? undefined;
    return this.headTree === undefined ? undefined : this.trees.fileText(this.headTree, path);
  }

  private set(path: string, text: string | null): void {
    this.keep(path);
    this.texts.set(path, text);
    this.heads.delete(path);
    if ((KUSTOMIZATION_FILES as readonly string[]).includes(basename(path))) this.governingOf.clear();
  }

  private setHeads(path: string, heads: readonly (ObjectHead | undefined)[]): void {
    this.keep(path);
    this.heads.set(path, heads);
  }

  private markRendered(path: string, rendered: boolean): void {
    this.keep(path);
    if (rendered) this.rendered.add(path);
    else this.rendered.delete(path);
  }

  private remember(key: string): void {
    if (this.journal && !this.memory.written.has(key)) this.journal.written = key;
    this.memory.written.add(key);
  }

  /** Notes what the overlay held for `path` before the write at hand first changed it. */
  private keep(path: string): void {
    const journal = this.journal;
    if (!journal || journal.kept.has(path)) return;
    journal.kept.set(path, {
      text: this.texts.has(path) ? (this.texts.get(path) as string | null) : ABSENT,
      heads: this.heads.get(path) ?? ABSENT,
      rendered: this.rendered.has(path),
    });
  }

  private undo(journal: Journal): void {
    this.governingOf.clear();
    for (const [path, { text, heads, rendered }] of journal.kept) {
      if (text === ABSENT) this.texts.delete(path);
      else this.texts.set(path, text);
      if (heads === ABSENT) this.heads.delete(path);
      else this.heads.set(path, heads);
      if (rendered) this.rendered.add(path);
      else this.rendered.delete(path);
    }
    this.lines.length = journal.lines;
    this.created.length = journal.created;
    if (journal.written !== undefined) this.memory.written.delete(journal.written);
  }

  /**
   * What stops a file from being created at `path`: a folder there, or a file where one of its
   * folders must be (as this commit leaves the tree). Undefined when nothing does.
   */
  private async blockerOf(path: string): Promise<{ path: string; folder: boolean } | undefined> {
    const segments = path.split('/');
    for (let end = 1; end <= segments.length; end++) {
      const prefix = segments.slice(0, end).join('/');
      const last = end === segments.length;
      if (this.texts.has(prefix)) {
        if (!last && this.texts.get(prefix) !== null) return { path: prefix, folder: false };
        continue;
      }
      const entry = await this.trees.lookup(this.headTree, prefix);
      if (!entry) return undefined;
      const folder = isTreeMode(entry.mode);
      if (last && folder) return { path: prefix, folder: true };
      if (!last && !folder) return { path: prefix, folder: false };
    }
    return undefined;
  }

  /** The object heads of a file as this commit has it so far, when known without parsing it. */
  private headsOf(path: string): readonly (ObjectHead | undefined)[] | undefined {
    return this.texts.has(path) ? this.heads.get(path) : this.index.headsOf(path);
  }
}

/** True when a document can be read as data (no syntax error, no alias to nothing). */
function readable(document: Parameters<typeof dataOf>[0] | undefined): boolean {
  return document !== undefined && document.errors.length === 0 && dataOf(document) !== undefined;
}

/**
 * True when a file is SOPS-encrypted and holds more than one document (named `*.sops.yaml`, or
 * holding a document with a `sops` block): sops encrypts such a file as a whole, with one MAC over
 * every document, so no document of it can be replaced or removed alone without breaking the others.
 */
function isSharedSopsFile(path: string, text: string): boolean {
  // One document unless a line starts a new one (`---`, or `...` ending the first).
  return /^(?:---|\.\.\.)/m.test(text) && sopsDocumentCount(path, text) > 1;
}

/** True when a file holds a SOPS-encrypted document (named `*.sops.yaml` and not empty, or holding a `sops` block). */
function isSopsFile(path: string, text: string): boolean {
  return sopsDocumentCount(path, text) > 0;
}

/** The documents (with content) of a SOPS file, or 0 for a file that is not one. */
function sopsDocumentCount(path: string, text: string): number {
  const named = isSopsFileName(basename(path));
  if (!named && !text.includes('sops:')) return 0;
  const documents = readDocuments(text).filter((document) => document.contents !== null);
  return named || documents.some((document) => isSopsObject(dataOf(document) as KubeObject)) ? documents.length : 0;
}

function objectOf(write: FileWrite): KubeObject {
  if (write.object) return write.object;
  return (readDocuments(write.yaml ?? '')[0]?.toJS(TO_JS) ?? {}) as KubeObject;
}

function withoutNamespace(object: KubeObject): KubeObject {
  const { namespace: _, ...metadata } = object.metadata ?? {};
  return { ...object, metadata };
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function joinPath(folder: string, name: string): string {
  return folder === '' ? name : `${folder}/${name}`;
}

function relativeTo(folder: string, path: string): string {
  return folder === '' ? path : path.slice(folder.length + 1);
}
