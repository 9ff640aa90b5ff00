import {
  grError,
  isGitopsReverserError,
  type KubeObject,
  type PlannedTarget,
  type ResourceIdentity,
  type StoredHistory,
  type StoredHistoryQuery,
  type StoredObjectChange,
  type StoredObjectFile,
  type StoredObjectRef,
  type StoredRevision,
  type StoredSelection,
} from '@gitops-reverser/contract';
import { parseCommitMessage } from './commit-record.js';
import { runGit } from './git-cli.js';
import { GitErrorCodes } from './git-error-codes.js';
import { commitChanges, type LoggedCommit, type LoggedFileChange, logCommits } from './git-log.js';
import { GitObjectReader } from './git-object-reader.js';
import { GitRemoteError } from './git-remote.js';
import type { GitRepository } from './git-sink.js';
import { type GitPartition, gitTargetOptions, isGitPartition } from './git-target.js';
import { GitHistoryErrorCodes } from './history-error-codes.js';
import { PathLayout } from './path-layout.js';
import { repoLocationOf } from './repo-location.js';
import { type FilePattern, isLiteral, literalFolder, namespacePatterns, objectFilePaths, objectPatterns, patternRegExp } from './selection-paths.js';
import { isSopsObject, SOPS_CONFIG_FILE } from './sops-files.js';
import { refersTo, sameObject, type StoredIdentity, storedIdentityOf } from './stored-object-identity.js';

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

/** One file change of a selected object, before changes of one commit are paired into a move. */
interface FoundChange {
  readonly commit: LoggedCommit;
  readonly path: string;
  /** Which log found it, and where in that log (newest first). */
  readonly log: number;
  readonly position: number;
  readonly before?: string;
  readonly after?: string;
}

/**
 * The git sink's StoredHistory: reads a target's branch with the git CLI (ADR 0019). History follows
 * an object by its content (apiVersion, kind, metadata) across the files a person moved it between,
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

  async objects(target: PlannedTarget, selection: StoredSelection, options: { readonly revision?: string; readonly withRevisions?: boolean } = {}): Promise<StoredObjectFile[]> {
    const where = this.targetRepository(target);
    const gitdir = where.repository.directory.gitdir;
    // The latest state of a target nothing was written to yet is no files (what `diff` compares with).
    if (options.revision === undefined && !(await this.hasBranch(where))) return [];
    const revision = options.revision ?? (await this.head(where));
    const listed = await this.listFiles(gitdir, revision, where.path);
    const reader = new GitObjectReader(gitdir);
    try {
      const chosen = await this.select(where, selection, listed, reader);
      const files = await Promise.all(chosen.map(async ({ path, blob }) => ({ path, text: (await reader.readText(blob)) ?? '' })));
      if (!options.withRevisions || files.length === 0) return files;
      const last = await this.lastRevisions(
        gitdir,
        revision,
        files.map((file) => file.path),
      );
      return files.map((file) => {
        const revision = last.get(file.path);
        return revision ? { ...file, revision } : file;
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
      let found: FoundChange[];
      if (selection.kind === 'object') found = await this.objectHistory(where, head, selection.object, reader);
      else if (selection.kind === 'path' && isObjectFile(selection.path)) {
        const ref = await this.objectAt(where, head, selection.path, reader);
        found = ref ? await this.objectHistory(where, head, ref, reader, [selection.path]) : [];
      } else found = await this.folderHistory(where, head, selection, reader);
      const order = await this.commitOrder(gitdir, head, found);
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

  /** The listed files the selection takes; an object is found by its content, wherever a person put it. */
  private async select(where: TargetRepository, selection: StoredSelection, listed: { path: string; blob: string }[], reader: GitObjectReader) {
    if (selection.kind === 'all') return listed;
    if (selection.kind === 'path') {
      const path = trimPath(selection.path);
      return listed.filter((file) => file.path === path || file.path.startsWith(`${path}/`));
    }
    const identityOf = async (blob: string) => storedIdentityOf((await reader.readText(blob)) ?? '');
    if (selection.kind === 'namespace') {
      const specs = namespaceSpecs(where, selection.namespace);
      const candidates = listed.filter((file) => specs.some((spec) => spec.matches(file.path)));
      const identities = await Promise.all(candidates.map((file) => identityOf(file.blob)));
      return candidates.filter((_, i) => inNamespace(identities[i], selection.namespace));
    }
    const ref = selection.object;
    const patterns = objectPatterns(where.layout, where.path, where.clusters, ref).map(patternRegExp);
    const placed = listed.filter((file) => patterns.some((pattern) => pattern.test(file.path)));
    const placedIds = await Promise.all(placed.map((file) => identityOf(file.blob)));
    const found = placed.filter((_, i) => refersTo(ref, placedIds[i]));
    if (found.length > 0) return found;
    // Not where the layout puts it: a person moved the file. Only files that mention the name are parsed.
    const texts = await Promise.all(listed.map(async (file) => ({ file, text: (await reader.readText(file.blob)) ?? '' })));
    return texts.filter(({ text }) => text.includes(ref.name) && refersTo(ref, storedIdentityOf(text))).map(({ file }) => file);
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

  /** The object a file holds at `head`, or (deleted since) in the last commit that had it. */
  private async objectAt(where: TargetRepository, head: string, path: string, reader: GitObjectReader): Promise<StoredObjectRef | undefined> {
    const file = trimPath(path);
    for (const commit of await logCommits(where.repository.directory.gitdir, head, [file], { max: 1 })) {
      const change = commit.files.find((f) => f.path === file);
      const blob = change?.after ?? change?.before;
      const identity = blob ? storedIdentityOf((await reader.readText(blob)) ?? '') : undefined;
      if (identity) return { group: identity.group, kind: identity.kind, namespace: identity.namespace, name: identity.name };
    }
    return undefined;
  }

  /**
   * Every change of one object: the files the layout would put it in are read first (one literal path
   * each, answered from git's path index); a file where it appears or disappears in a commit that
   * removes or adds it elsewhere is a move, and that other file's history is read too.
   */
  private async objectHistory(where: TargetRepository, head: string, ref: StoredObjectRef, reader: GitObjectReader, alsoPaths: readonly string[] = []): Promise<FoundChange[]> {
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
    // A blob is read and recognized once: the after of one commit is the before of the next.
    const blobs = new Map<string, Promise<{ text: string; holds: boolean }>>();
    const blob = (oid: string | undefined) => {
      if (oid === undefined) return Promise.resolve(undefined);
      let known = blobs.get(oid);
      if (!known) {
        known = reader.readText(oid).then((text = '') => ({ text, holds: refersTo(ref, storedIdentityOf(text)) }));
        blobs.set(oid, known);
      }
      return known;
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
            const key = `${commit.oid}\0${file.path}`;
            if (!spec.matches(file.path) || found.has(key)) continue;
            const [before, after] = await Promise.all([blob(file.before), blob(file.after)]);
            const wasHere = before?.holds === true;
            const isHere = after?.holds === true;
            if (!wasHere && !isHere) continue;
            found.set(key, { commit, path: file.path, log: logs, position, ...(wasHere ? { before: before.text } : {}), ...(isHere ? { after: after.text } : {}) });
            if (wasHere === isHere) continue;
            // It arrived here or left here: the file it left or arrived in, in the same commit, is part of its history.
            for (const other of await commitFiles(commit.oid)) {
              if (other.path === file.path || logged.has(other.path) || next.includes(other.path)) continue;
              const [otherBefore, otherAfter] = await Promise.all([blob(other.before), blob(other.after)]);
              const counterpart = isHere ? otherBefore?.holds === true && otherAfter?.holds !== true : otherAfter?.holds === true && otherBefore?.holds !== true;
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
          const [before, after] = await Promise.all([blob(file.before), blob(file.after)]);
          const wasHere = before?.holds === true;
          const isHere = after?.holds === true;
          if (wasHere || isHere)
            found.set(`${commit.oid}\0${file.path}`, { commit, path: file.path, log: logs, position, ...(wasHere ? { before: before.text } : {}), ...(isHere ? { after: after.text } : {}) });
        }
      }
    }
    return [...found.values()];
  }

  /** Changes of the files of a namespace, a folder or the whole target (no following: what left the folder shows as deleted). */
  private async folderHistory(where: TargetRepository, head: string, selection: Exclude<StoredSelection, { kind: 'object' }>, reader: GitObjectReader): Promise<FoundChange[]> {
    const gitdir = where.repository.directory.gitdir;
    const specs: LogSpec[] =
      selection.kind === 'namespace' ? namespaceSpecs(where, selection.namespace) : [{ pathspec: selection.kind === 'path' ? trimPath(selection.path) : where.path, matches: isObjectFile }];
    const found = new Map<string, FoundChange>();
    for (const [log, spec] of dedupeSpecs(specs).entries()) {
      for (const [position, commit] of (await logCommits(gitdir, head, spec.pathspec === '' ? [] : [spec.pathspec])).entries()) {
        for (const file of commit.files) {
          const key = `${commit.oid}\0${file.path}`;
          if (!spec.matches(file.path) || found.has(key)) continue;
          const [before, after] = await Promise.all([file.before ? reader.readText(file.before) : undefined, file.after ? reader.readText(file.after) : undefined]);
          if (selection.kind === 'namespace' && !inNamespace(storedIdentityOf(after ?? before ?? ''), selection.namespace)) continue;
          found.set(key, { commit, path: file.path, log, position, ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) });
        }
      }
    }
    return [...found.values()];
  }

  /**
   * Position of each found commit from the head (0 = newest), so changes read from several logs are in
   * one order. Changes that all came from one log are in its order already; otherwise the branch is
   * listed once (a few hundred milliseconds for 100,000 commits).
   */
  private async commitOrder(gitdir: string, head: string, found: readonly FoundChange[]): Promise<Map<string, number>> {
    const order = new Map<string, number>();
    if (new Set(found.map((change) => change.log)).size <= 1) {
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
 * Where a namespace's files are: every object file under the folders its layout puts them in (a person
 * may have moved one within them), and the Namespace's own file. Files are then checked by content.
 */
function namespaceSpecs(where: TargetRepository, namespace: string): LogSpec[] {
  return namespacePatterns(where.layout, where.path, where.clusters, namespace).map((pattern) => {
    if (isLiteral(pattern)) return specOf(pattern);
    const folder = literalFolder(pattern);
    return { pathspec: folder, matches: (path: string) => isObjectFile(path) && (folder === '' || path.startsWith(`${folder}/`)) };
  });
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
 * One change per commit and file, newest first; an object that left one file and arrived in another in
 * the same commit is one change with `previousPath` (a move).
 */
function pairMoves(found: readonly FoundChange[], order: ReadonlyMap<string, number>): StoredObjectChange[] {
  const byCommit = new Map<string, FoundChange[]>();
  for (const change of found) byCommit.set(change.commit.oid, [...(byCommit.get(change.commit.oid) ?? []), change]);
  const changes: StoredObjectChange[] = [];
  for (const oid of [...byCommit.keys()].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0))) {
    const inCommit = (byCommit.get(oid) as FoundChange[]).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const revision = revisionOf((inCommit[0] as FoundChange).commit);
    const arrivals = inCommit.filter((c) => c.before === undefined && c.after !== undefined);
    const departures = inCommit.filter((c) => c.before !== undefined && c.after === undefined);
    const movedFrom = new Map<FoundChange, FoundChange>();
    for (const arrival of arrivals) {
      const from = departures.find((candidate) => ![...movedFrom.values()].includes(candidate) && sameObjectText(candidate.before as string, arrival.after as string));
      if (from) movedFrom.set(arrival, from);
    }
    const paired = new Set(movedFrom.values());
    for (const change of inCommit) {
      if (paired.has(change)) continue;
      const from = movedFrom.get(change);
      changes.push({
        revision,
        path: change.path,
        ...(from ? { previousPath: from.path, before: from.before as string } : change.before !== undefined ? { before: change.before } : {}),
        ...(change.after !== undefined ? { after: change.after } : {}),
      });
    }
  }
  return changes;
}

function sameObjectText(a: string, b: string): boolean {
  return sameObject(storedIdentityOf(a), storedIdentityOf(b));
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

function inNamespace(identity: StoredIdentity | undefined, namespace: string): boolean {
  return identity !== undefined && (identity.namespace === namespace || (identity.kind === 'Namespace' && identity.group === '' && identity.name === namespace));
}

/** An object's file: `.yaml`, not the folder's `.sops.yaml` creation rules. */
function isObjectFile(path: string): boolean {
  return path.endsWith('.yaml') && path.slice(path.lastIndexOf('/') + 1) !== SOPS_CONFIG_FILE;
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
