import {
  grError,
  isGitopsReverserError,
  type KubeObject,
  type PlannedTarget,
  type ResourceIdentity,
  type StoredHistory,
  type StoredHistoryQuery,
  type StoredObjectChange,
  type StoredObjectDocument,
  type StoredObjectName,
  type StoredObjectRef,
  type StoredRevision,
  type StoredSelection,
} from '@gitops-reverser/contract';
import { parseCommitMessage } from './commit-record.js';
import { runGit } from './git-cli.js';
import { GitErrorCodes } from './git-error-codes.js';
import { commitChanges, type LoggedCommit, type LoggedFileChange, logCommits } from './git-log.js';
import { foldersAbove, isLayoutPathOf } from './document-place.js';
import { type ObjectDocument, objectDocuments, sameDocumentText } from './file-documents.js';
import { GitObjectReader } from './git-object-reader.js';
import { GitRemoteError } from './git-remote.js';
import type { GitRepository } from './git-sink.js';
import { type GitPartition, gitTargetOptions, isGitPartition } from './git-target.js';
import { GitHistoryErrorCodes } from './history-error-codes.js';
import { isIndexedFile } from './object-index.js';
import { PathLayout } from './path-layout.js';
import { repoLocationOf } from './repo-location.js';
import { RevisionKustomizations } from './revision-kustomizations.js';
import { type FilePattern, isLiteral, literalFolder, objectFilePaths, objectPatterns, patternRegExp } from './selection-paths.js';
import { isSopsObject } from './sops-files.js';
import { documentChanges, needsKustomization, objectKey, ownedDocuments, type ResolvedDocument, resolveDocuments } from './stored-documents.js';
import { refersTo } from './stored-object-identity.js';

/** A target as the history reads it: its branch, folder, layout, the clusters feeding it, and its repository. */
interface TargetRepository {
  readonly name: string;
  readonly partition: GitPartition;
  readonly path: string;
  readonly layout: PathLayout;
  readonly clusters: readonly string[];
  readonly repository: GitRepository;
}

/** Where to look in the log and which of the paths found there count. */
interface LogSpec {
  readonly pathspec: string;
  readonly matches: (path: string) => boolean;
}

/** What one commit did to a selected object's document in one file, before changes of one commit are paired into a move. */
interface FoundChange {
  readonly commit: LoggedCommit;
  readonly path: string;
  /** Which log found it, and where in that log (newest first). */
  readonly log: number;
  readonly position: number;
  /** The object (absent for a change of a selected file that changed none of its objects' documents). */
  readonly name?: StoredObjectName;
  readonly cluster?: string | undefined;
  /** Its document before and after (the whole file when `name` is absent). */
  readonly before?: string;
  readonly after?: string;
}

/**
 * The documents of stored files as one read of the stored history resolves them: each blob read and
 * parsed once; a document's namespace resolved with the kustomizations of the revision it is read at
 * (only documents that need one, see stored-documents.ts).
 */
class StoredReading {
  private readonly texts = new Map<string, Promise<string>>();
  private readonly parsed = new Map<string, Promise<readonly ObjectDocument[]>>();
  private readonly kustomizations: RevisionKustomizations;

  constructor(
    private readonly where: TargetRepository,
    readonly reader: GitObjectReader,
  ) {
    this.kustomizations = new RevisionKustomizations(reader);
  }

  text(blob: string): Promise<string> {
    let known = this.texts.get(blob);
    if (!known) {
      known = this.reader.readText(blob).then((text) => text ?? '');
      this.texts.set(blob, known);
    }
    return known;
  }

  /** The objects of file `path` (blob `blob`) as read at `revision` (a commit id); none without a blob. */
  async documents(revision: string | undefined, path: string, blob: string | undefined): Promise<ResolvedDocument[]> {
    if (blob === undefined || revision === undefined) return [];
    let known = this.parsed.get(blob);
    if (!known) {
      known = this.text(blob).then(objectDocuments);
      this.parsed.set(blob, known);
    }
    const documents = await known;
    const namespaces = documents.some((document) => needsKustomization(this.where, path, document)) ? await this.kustomizations.namespacesAt(revision, foldersAbove(path, this.where.path)) : undefined;
    return resolveDocuments(this.where, path, documents, (folder) => namespaces?.get(folder));
  }
}

/**
 * The git sink's StoredHistory: reads a target's branch with the git CLI (ADR 0019). Its unit is the
 * YAML document, resolved as the writer resolves it (stored-documents.ts). History follows an object
 * by its content (apiVersion, kind, metadata) across the files and documents a person moved it between,
 * and keeps git's commit-graph with changed-path Bloom filters up to date, so the history of one
 * object of a 100,000-commit repository is read in a fraction of a second. Nothing here writes
 * commits; `refresh` fetches a remote into its clone (the same clone the writer uses) and moves the
 * local branch only forward, never past commits it has not pushed.
 */
export class GitStoredHistory implements StoredHistory {
  private readonly layouts = new Map<string, PathLayout>();
  private readonly graphs = new Map<string, Promise<void>>();

  constructor(private readonly repositoryOf: (partition: GitPartition) => GitRepository) {}

  describe(target: PlannedTarget): string {
    const where = this.targetRepository(target);
    return `${where.path === '' ? '<repository root>' : where.path} on ${repoLocationOf(where.partition.provider.url)}#${where.partition.branch}`;
  }

  async refresh(target: PlannedTarget): Promise<void> {
    const where = this.targetRepository(target);
    const { directory, remote } = where.repository;
    if (!remote) return;
    const branch = where.partition.branch;
    try {
      await directory.open({ initialBranch: branch, origin: { url: remote.url, location: remote.location } });
      await remote.open?.();
      const fetched = await remote.fetch(branch);
      const local = await directory.readBranch(branch);
      // Forward only: a local branch with commits the remote lacks (a writer that could not push) stays as it is.
      if (fetched && fetched !== local && (local === undefined || (await this.isAncestor(directory.gitdir, local, fetched)))) await directory.writeBranch(branch, fetched);
    } catch (error) {
      if (isGitopsReverserError(error)) throw error;
      const kind = error instanceof GitRemoteError ? error.kind : 'other';
      throw grError(
        kind === 'auth' ? GitErrorCodes.AUTH : kind === 'unreachable' ? GitErrorCodes.REMOTE_UNREACHABLE : GitErrorCodes.REPO,
        `fetching ${remote.location} (branch ${branch}) for target ${where.name} failed: ${(error as Error).message}`,
        { fix: 'check the provider url and auth in sink.with.providers, or pass --no-fetch to read the local copy as it is' },
      );
    } finally {
      await remote.close().catch(() => undefined);
    }
  }

  async revisionAt(target: PlannedTarget, at: Date | string): Promise<StoredRevision | undefined> {
    const where = this.targetRepository(target);
    const gitdir = where.repository.directory.gitdir;
    const head = await this.head(where);
    let oid: string | undefined;
    if (at instanceof Date) {
      // The committer date: what the branch held at that moment (the author date is when a change was observed).
      oid = (await runGit(gitdir, ['rev-list', '-1', `--before=${at.toISOString()}`, head])).stdout.toString('utf8').trim() || undefined;
    } else {
      const resolved = await runGit(gitdir, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${at}^{commit}`], { okExit: [1, 128] });
      const candidate = resolved.code === 0 ? resolved.stdout.toString('utf8').trim() : undefined;
      if (candidate && (await this.isAncestor(gitdir, candidate, head))) oid = candidate;
    }
    if (!oid) return undefined;
    const [commit] = await logCommits(gitdir, oid, [], { max: 1 });
    return commit ? revisionOf(commit) : undefined;
  }

  async objects(target: PlannedTarget, selection: StoredSelection, options: { readonly revision?: string; readonly withRevisions?: boolean } = {}): Promise<StoredObjectDocument[]> {
    const where = this.targetRepository(target);
    const gitdir = where.repository.directory.gitdir;
    // The latest state of a target nothing was written to yet is no files (what `diff` compares with).
    if (options.revision === undefined && !(await this.hasBranch(where))) return [];
    const revision = options.revision ?? (await this.head(where));
    const commit = (await runGit(gitdir, ['rev-parse', '--verify', '--end-of-options', `${revision}^{commit}`])).stdout.toString('utf8').trim();
    const listed = await this.listFiles(gitdir, commit, where.path);
    const reader = new GitObjectReader(gitdir);
    try {
      const chosen = await this.select(where, selection, listed, commit, new StoredReading(where, reader));
      const documents = chosen.map((document) => storedDocumentOf(document));
      if (!options.withRevisions || documents.length === 0) return documents;
      const last = await this.lastRevisions(gitdir, commit, [...new Set(documents.map((document) => document.path))]);
      return chosen.map((document, i) => {
        const revision = last.get(document.path);
        return revision ? storedDocumentOf(document, revision) : (documents[i] as StoredObjectDocument);
      });
    } finally {
      reader.close();
    }
  }

  async history(target: PlannedTarget, selection: StoredSelection, query: StoredHistoryQuery = {}): Promise<StoredObjectChange[]> {
    const where = this.targetRepository(target);
    const gitdir = where.repository.directory.gitdir;
    const head = await this.head(where);
    await this.commitGraph(gitdir);
    const reader = new GitObjectReader(gitdir);
    try {
      const read = new StoredReading(where, reader);
      let found: FoundChange[];
      // Changes read by several object histories are put in order by the branch (their logs' positions differ).
      let severalLogs = false;
      if (selection.kind === 'object') found = await this.objectHistory(where, head, selection.object, read);
      else if (selection.kind === 'path' && isObjectFile(selection.path)) {
        found = await this.fileHistory(where, head, trimPath(selection.path), read);
        severalLogs = true;
      } else found = await this.folderHistory(where, head, selection, read);
      const order = await this.commitOrder(gitdir, head, found, severalLogs);
      return pairMoves(found, order).filter((change) => inQuery(change, query));
    } finally {
      reader.close();
    }
  }

  pathOf(target: PlannedTarget, identity: ResourceIdentity, object?: KubeObject): string | undefined {
    const where = this.targetRepository(target);
    const paths = objectFilePaths(where.layout, where.path, identity);
    if (!paths) return undefined;
    return isSopsObject(object) && paths.encrypted ? paths.encrypted : paths.plain;
  }

  storedFormOf(target: PlannedTarget, object: KubeObject): KubeObject {
    const { omitNamespace } = gitTargetOptions(target.target);
    // As file-placement.ts writes it: a SOPS file keeps its namespace (its MAC covers every value).
    if (!omitNamespace || isSopsObject(object) || typeof object.metadata?.namespace !== 'string' || object.metadata.namespace === '') return object;
    const { namespace: _, ...metadata } = object.metadata;
    return { ...object, metadata };
  }

  snapshotRemovesMissing(target: PlannedTarget): boolean {
    return gitTargetOptions(target.target).prune === 'Always';
  }

  private targetRepository(target: PlannedTarget): TargetRepository {
    if (!isGitPartition(target.partition)) throw new Error(`target ${target.target.name} was not planned by the git sink`);
    const options = gitTargetOptions(target.target);
    const template = options.layout ?? '';
    let layout = this.layouts.get(template);
    if (!layout) {
      layout = new PathLayout(options.layout);
      this.layouts.set(template, layout);
    }
    return {
      name: target.target.name,
      partition: target.partition,
      path: options.path,
      layout,
      clusters: target.target.clusters ?? [],
      repository: this.repositoryOf(target.partition),
    };
  }

  /** The branch head this process knows (after `refresh`, the remote's). */
  private async head(where: TargetRepository): Promise<string> {
    const { directory, remote } = where.repository;
    const branch = where.partition.branch;
    const fix = remote
      ? 'run the command without --no-fetch so the clone is fetched, or check sink.with.cacheDir'
      : "check the provider's url in sink.with.providers; the repository exists once the first change is written";
    if (!directory.exists()) throw grError(GitHistoryErrorCodes.NO_HISTORY, `target ${where.name}: there is no repository at ${directory.path}`, { fix });
    const head = await directory.readBranch(branch);
    if (!head) throw grError(GitHistoryErrorCodes.NO_HISTORY, `target ${where.name}: ${directory.path} has no branch ${branch}`, { fix });
    return head;
  }

  private async hasBranch(where: TargetRepository): Promise<boolean> {
    return where.repository.directory.exists() && (await where.repository.directory.readBranch(where.partition.branch)) !== undefined;
  }

  private async isAncestor(gitdir: string, ancestor: string, descendant: string): Promise<boolean> {
    return (await runGit(gitdir, ['merge-base', '--is-ancestor', ancestor, descendant], { okExit: [1] })).code === 0;
  }

  /**
   * Adds the commits the commit-graph lacks (with changed-path Bloom filters), once per process and
   * repository: the first time about 3 s per 100,000 commits, later only the new ones. A repository
   * this user may not write is read without it (slower).
   */
  private commitGraph(gitdir: string): Promise<void> {
    let pending = this.graphs.get(gitdir);
    if (!pending) {
      pending = runGit(gitdir, ['commit-graph', 'write', '--reachable', '--changed-paths', '--split']).then(
        () => undefined,
        () => undefined,
      );
      this.graphs.set(gitdir, pending);
    }
    return pending;
  }

  /** Every `.yaml` object file under the target folder at a revision, with its blob. */
  private async listFiles(gitdir: string, revision: string, folder: string): Promise<{ path: string; blob: string }[]> {
    const output = (await runGit(gitdir, ['ls-tree', '-r', '-z', '--full-tree', revision, '--', ...(folder === '' ? [] : [folder])])).stdout.toString('utf8');
    const files: { path: string; blob: string }[] = [];
    for (const entry of output.split('\0')) {
      const tab = entry.indexOf('\t');
      if (tab < 0) continue;
      const [, type, blob] = entry.slice(0, tab).split(' ');
      const path = entry.slice(tab + 1);
      if (type === 'blob' && blob && isObjectFile(path)) files.push({ path, blob });
    }
    return files;
  }

  /**
   * The documents the selection takes, one per object (the one the writer keeps up to date). An object
   * is found by its content wherever a person put it: at its layout path first; else in every file that
   * mentions its name.
   */
  private async select(where: TargetRepository, selection: StoredSelection, listed: { path: string; blob: string }[], revision: string, read: StoredReading): Promise<ResolvedDocument[]> {
    const resolve = async (files: readonly { path: string; blob: string }[]) => (await Promise.all(files.map((file) => read.documents(revision, file.path, file.blob)))).flat();
    if (selection.kind === 'all') return ownedDocuments(where, await resolve(listed));
    if (selection.kind === 'path') {
      const path = trimPath(selection.path);
      return ownedDocuments(where, await resolve(listed.filter((file) => path === '' || file.path === path || file.path.startsWith(`${path}/`))));
    }
    // A document's namespace may come from a kustomization anywhere above it: every file is read.
    if (selection.kind === 'namespace')
      return ownedDocuments(
        where,
        (await resolve(listed)).filter((document) => inNamespace(document.name, selection.namespace)),
      );
    const ref = selection.object;
    const patterns = objectPatterns(where.layout, where.path, where.clusters, ref).map(patternRegExp);
    const placed = (await resolve(listed.filter((file) => patterns.some((pattern) => pattern.test(file.path))))).filter(
      (document) => refersTo(ref, document.name) && isLayoutPathOf(where, document.path, document.document.head, document.name.namespace),
    );
    // At its layout path, a document is the one the writer keeps up to date.
    if (placed.length > 0) return ownedDocuments(where, placed);
    // Not there: a person moved it. Only files that mention the name are parsed.
    const texts = await Promise.all(listed.map(async (file) => ({ file, text: await read.text(file.blob) })));
    const mentioning = texts.filter(({ text }) => text.includes(ref.name)).map(({ file }) => file);
    return ownedDocuments(
      where,
      (await resolve(mentioning)).filter((document) => refersTo(ref, document.name)),
    );
  }

  /** The last revision (at or before `revision`) that changed each path: one log over the folders that hold them. */
  private async lastRevisions(gitdir: string, revision: string, paths: readonly string[]): Promise<Map<string, StoredRevision>> {
    const wanted = new Set(paths);
    const found = new Map<string, StoredRevision>();
    for (const commit of await logCommits(gitdir, revision, commonFolders(paths))) {
      for (const file of commit.files) {
        if (wanted.has(file.path) && !found.has(file.path)) found.set(file.path, revisionOf(commit));
      }
      if (found.size === wanted.size) break;
    }
    return found;
  }

  /**
   * Every change of one object's document: the files the layout would put it in are read first (one
   * literal path each, answered from git's path index); a file where it appears or disappears in a
   * commit that removes or adds it elsewhere is a move, and that other file's history is read too. A
   * commit that changed only other documents of a file is not a change of this object.
   */
  private async objectHistory(where: TargetRepository, head: string, ref: StoredObjectRef, read: StoredReading, alsoPaths: readonly string[] = []): Promise<FoundChange[]> {
    const gitdir = where.repository.directory.gitdir;
    const patterns = objectPatterns(where.layout, where.path, where.clusters, ref);
    // The plain file first: an object that changed between plain and encrypted is followed into the
    // other file like any move, so the SOPS variant needs a log of its own only when the plain file
    // never held the object (each log walks the whole branch; on 100,000 commits that is most of the time).
    const plain = dedupeSpecs([...patterns.filter((p) => !p.encrypted).map(specOf), ...alsoPaths.map((path) => specOf({ text: trimPath(path) }))]);
    const encrypted = dedupeSpecs(patterns.filter((p) => p.encrypted).map(specOf));
    let wave: LogSpec[] = plain;
    const logged = new Set<string>();
    const found = new Map<string, FoundChange>();
    // The object's document in a file version, as read at a revision (files that never name it are not parsed).
    const holder = async (blob: string | undefined, path: string, revision: string | undefined): Promise<ResolvedDocument | undefined> => {
      if (blob === undefined || !(await read.text(blob)).includes(ref.name)) return undefined;
      return (await read.documents(revision, path, blob)).find((document) => refersTo(ref, document.name));
    };
    const sides = (commit: LoggedCommit, file: LoggedFileChange) => Promise.all([holder(file.before, file.path, commit.parents[0]), holder(file.after, file.path, commit.oid)]);
    const record = (commit: LoggedCommit, file: LoggedFileChange, log: number, position: number, before: ResolvedDocument | undefined, after: ResolvedDocument | undefined) => {
      const { name, cluster } = (after ?? before) as ResolvedDocument;
      found.set(`${commit.oid}\0${file.path}`, { commit, path: file.path, log, position, name, cluster, ...(before ? { before: before.text } : {}), ...(after ? { after: after.text } : {}) });
    };
    const changesOf = new Map<string, Promise<LoggedFileChange[]>>();
    const commitFiles = (oid: string) => {
      let files = changesOf.get(oid);
      if (!files) {
        files = commitChanges(gitdir, oid, where.path);
        changesOf.set(oid, files);
      }
      return files;
    };
    let logs = 0;
    while (wave.length > 0) {
      for (const spec of wave) logged.add(spec.pathspec);
      // The files of one wave are read at once (each a literal path git answers from its path index).
      const results = await Promise.all(wave.map((spec) => logCommits(gitdir, head, [spec.pathspec])));
      const next: string[] = [];
      for (const [index, commits] of results.entries()) {
        const spec = wave[index] as LogSpec;
        logs++;
        for (const [position, commit] of commits.entries()) {
          for (const file of commit.files) {
            if (!spec.matches(file.path) || found.has(`${commit.oid}\0${file.path}`)) continue;
            const [before, after] = await sides(commit, file);
            if (!before && !after) continue;
            // Only other documents of the file changed.
            if (before && after && sameDocumentText(before.text, after.text)) continue;
            record(commit, file, logs, position, before, after);
            if (Boolean(before) === Boolean(after)) continue;
            // It arrived here or left here: the file it left or arrived in, in the same commit, is part of its history.
            for (const other of await commitFiles(commit.oid)) {
              if (other.path === file.path || logged.has(other.path) || next.includes(other.path) || !isObjectFile(other.path)) continue;
              const [otherBefore, otherAfter] = await sides(commit, other);
              const counterpart = after ? otherBefore !== undefined && otherAfter === undefined : otherAfter !== undefined && otherBefore === undefined;
              if (counterpart) next.push(other.path);
            }
          }
        }
      }
      wave = next.map((path) => specOf({ text: path }));
      if (wave.length === 0 && found.size === 0 && encrypted.some((spec) => !logged.has(spec.pathspec))) wave = encrypted.filter((spec) => !logged.has(spec.pathspec));
    }
    // The layout's path found nothing: the object was only ever in files a person named otherwise; look by content everywhere.
    if (found.size === 0 && patterns.length > 0 && alsoPaths.length === 0) {
      logs++;
      for (const [position, commit] of (await logCommits(gitdir, head, where.path === '' ? [] : [where.path])).entries()) {
        for (const file of commit.files) {
          if (!isObjectFile(file.path)) continue;
          const [before, after] = await sides(commit, file);
          if ((before || after) && !(before && after && sameDocumentText(before.text, after.text))) record(commit, file, logs, position, before, after);
        }
      }
    }
    return [...found.values()];
  }

  /**
   * Every change of the objects one file held, each followed wherever it went, and every other
   * revision that changed the file (a comment between its documents, their order): those with the
   * whole file before and after.
   */
  private async fileHistory(where: TargetRepository, head: string, path: string, read: StoredReading): Promise<FoundChange[]> {
    const commits = await logCommits(where.repository.directory.gitdir, head, [path]);
    const refs = new Map<string, StoredObjectRef>();
    for (const commit of commits) {
      const file = commit.files.find((change) => change.path === path);
      if (!file) continue;
      const documents = [...(await read.documents(commit.parents[0], path, file.before)), ...(await read.documents(commit.oid, path, file.after))];
      for (const { name } of documents) refs.set(objectKey(name, undefined), name);
    }
    const found: FoundChange[] = [];
    for (const ref of refs.values()) found.push(...(await this.objectHistory(where, head, ref, read, [path])));
    const covered = new Set(found.filter((change) => change.path === path).map((change) => change.commit.oid));
    for (const [position, commit] of commits.entries()) {
      const file = commit.files.find((change) => change.path === path);
      if (!file || covered.has(commit.oid)) continue;
      const [before, after] = await Promise.all([file.before ? read.text(file.before) : undefined, file.after ? read.text(file.after) : undefined]);
      found.push({ commit, path, log: 0, position, ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) });
    }
    return found;
  }

  /**
   * Changes of the objects of a namespace, a folder or the whole target, one per object whose document
   * changed (no following: what left the folder shows as deleted). A namespace's documents may be
   * anywhere a kustomization gives them its namespace: the whole target folder is read.
   */
  private async folderHistory(where: TargetRepository, head: string, selection: Exclude<StoredSelection, { kind: 'object' }>, read: StoredReading): Promise<FoundChange[]> {
    const gitdir = where.repository.directory.gitdir;
    const folder = selection.kind === 'path' ? trimPath(selection.path) : where.path;
    const found: FoundChange[] = [];
    for (const [position, commit] of (await logCommits(gitdir, head, folder === '' ? [] : [folder])).entries()) {
      for (const file of commit.files) {
        if (!isObjectFile(file.path)) continue;
        const [before, after] = await Promise.all([read.documents(commit.parents[0], file.path, file.before), read.documents(commit.oid, file.path, file.after)]);
        for (const change of documentChanges(before, after)) {
          if (selection.kind === 'namespace' && !inNamespace(change.name, selection.namespace)) continue;
          found.push({
            commit,
            path: file.path,
            log: 0,
            position,
            name: change.name,
            cluster: change.cluster,
            ...(change.before ? { before: change.before.text } : {}),
            ...(change.after ? { after: change.after.text } : {}),
          });
        }
      }
    }
    return found;
  }

  /**
   * Position of each found commit from the head (0 = newest), so changes read from several logs are in
   * one order. Changes that all came from one log are in its order already; otherwise the branch is
   * listed once (a few hundred milliseconds for 100,000 commits).
   */
  private async commitOrder(gitdir: string, head: string, found: readonly FoundChange[], severalLogs: boolean): Promise<Map<string, number>> {
    const order = new Map<string, number>();
    if (!severalLogs && new Set(found.map((change) => change.log)).size <= 1) {
      for (const change of found) order.set(change.commit.oid, change.position);
      return order;
    }
    const oids = new Set(found.map((change) => change.commit.oid));
    const listed = (await runGit(gitdir, ['rev-list', '--topo-order', head])).stdout.toString('utf8').split('\n');
    for (let i = 0; i < listed.length && order.size < oids.size; i++) if (oids.has(listed[i] as string)) order.set(listed[i] as string, i);
    return order;
  }
}

/**
 * A resolved document as the contract gives it. Its `object` is parsed when first read: `diff` of a
 * target of 10,000 kernel-rendered files compares most by their text and never needs it.
 */
function storedDocumentOf(document: ResolvedDocument, revision?: StoredRevision): StoredObjectDocument {
  return {
    path: document.path,
    document: document.index,
    name: document.name,
    ...(document.cluster ? { cluster: document.cluster } : {}),
    text: document.text,
    get object() {
      return document.document.data() as KubeObject;
    },
    ...(revision ? { revision } : {}),
  };
}

function specOf(pattern: FilePattern): LogSpec {
  if (isLiteral(pattern)) return { pathspec: pattern.text, matches: (path) => path === pattern.text };
  const regex = patternRegExp(pattern);
  return { pathspec: literalFolder(pattern), matches: (path) => regex.test(path) };
}

/** Specs with the same pathspec are read once (their matches combined). */
function dedupeSpecs(specs: readonly LogSpec[]): LogSpec[] {
  const byPathspec = new Map<string, LogSpec[]>();
  for (const spec of specs) byPathspec.set(spec.pathspec, [...(byPathspec.get(spec.pathspec) ?? []), spec]);
  return [...byPathspec].map(([pathspec, same]) => ({ pathspec, matches: (path: string) => same.some((spec) => spec.matches(path)) }));
}

/**
 * One change per commit, file and object, newest first; an object that left one file and arrived in
 * another in the same commit is one change with `previousPath` (a move).
 */
function pairMoves(found: readonly FoundChange[], order: ReadonlyMap<string, number>): StoredObjectChange[] {
  const byCommit = new Map<string, FoundChange[]>();
  for (const change of found) byCommit.set(change.commit.oid, [...(byCommit.get(change.commit.oid) ?? []), change]);
  const changes: StoredObjectChange[] = [];
  const keyOf = (change: FoundChange) => (change.name ? objectKey(change.name, change.cluster) : undefined);
  for (const oid of [...byCommit.keys()].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0))) {
    const inCommit = (byCommit.get(oid) as FoundChange[]).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const revision = revisionOf((inCommit[0] as FoundChange).commit);
    const arrivals = inCommit.filter((c) => c.name && c.before === undefined && c.after !== undefined);
    const departures = inCommit.filter((c) => c.name && c.before !== undefined && c.after === undefined);
    const movedFrom = new Map<FoundChange, FoundChange>();
    for (const arrival of arrivals) {
      const from = departures.find((candidate) => ![...movedFrom.values()].includes(candidate) && keyOf(candidate) === keyOf(arrival));
      if (from) movedFrom.set(arrival, from);
    }
    const paired = new Set(movedFrom.values());
    for (const change of inCommit) {
      if (paired.has(change)) continue;
      const from = movedFrom.get(change);
      changes.push({
        revision,
        path: change.path,
        ...(from ? { previousPath: from.path } : {}),
        ...(change.name ? { name: change.name } : {}),
        ...(from ? { before: from.before as string } : change.before !== undefined ? { before: change.before } : {}),
        ...(change.after !== undefined ? { after: change.after } : {}),
      });
    }
  }
  return changes;
}

function inQuery(change: StoredObjectChange, query: StoredHistoryQuery): boolean {
  const time = Date.parse(change.revision.time);
  if (query.since && time < query.since.getTime()) return false;
  if (query.until && time > query.until.getTime()) return false;
  if (query.author) {
    const needle = query.author.toLowerCase();
    const { name, email } = change.revision.author;
    if (!name.toLowerCase().includes(needle) && !email.toLowerCase().includes(needle)) return false;
  }
  return true;
}

function revisionOf(commit: LoggedCommit): StoredRevision {
  const { subject, body, trailers } = parseCommitMessage(commit.message);
  return {
    id: commit.oid,
    time: isoUtc(commit.authorDate),
    recordedAt: isoUtc(commit.committerDate),
    author: { name: commit.authorName, email: commit.authorEmail },
    subject,
    body,
    trailers,
  };
}

function isoUtc(date: string): string {
  const time = Date.parse(date);
  return Number.isFinite(time) ? new Date(time).toISOString() : date;
}

function inNamespace(name: StoredObjectName, namespace: string): boolean {
  return name.namespace === namespace || (name.kind === 'Namespace' && name.group === '' && name.name === namespace);
}

/** A file that may hold objects: YAML the writer's index reads too (not the folder's `.sops.yaml` creation rules). */
function isObjectFile(path: string): boolean {
  return isIndexedFile(path);
}

function trimPath(path: string): string {
  return path.replace(/^\.\/+/, '').replace(/\/+$/, '');
}

/** The fewest folders that hold every path (each path's folder, nested ones dropped). */
function commonFolders(paths: readonly string[]): string[] {
  const folders = [...new Set(paths.map((path) => path.slice(0, Math.max(0, path.lastIndexOf('/')))))].sort();
  const kept: string[] = [];
  for (const folder of folders) if (!kept.some((outer) => outer === '' || folder === outer || folder.startsWith(`${outer}/`))) kept.push(folder);
  return kept.includes('') ? [] : kept;
}
