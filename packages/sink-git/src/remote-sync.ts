import { errorText, grError, type Logger } from '@gitops-reverser/contract';
import type { CommitBuilder, CommitRecord } from './commit-builder.js';
import type { Identity } from './commit-message.js';
import type { GitDirectory } from './git-directory.js';
import { GitRemoteError, type GitRemote, type RemoteFailureKind } from './git-remote.js';
import { GitErrorCodes } from './git-error-codes.js';
import type { GitTarget } from './git-target.js';
import { isTreeMode } from './git-objects.js';
import type { TreeStore } from './tree-store.js';

export interface RemoteSyncOptions {
  /** The clone: commits, refs and the record of the last push. */
  readonly directory: GitDirectory;
  readonly remote: GitRemote;
  readonly branch: string;
  readonly builder: CommitBuilder;
  readonly trees: TreeStore;
  /** How often one push replays on a moved remote before giving up for this batch. */
  readonly pushAttempts: number;
  /** The targets on this branch: their folders are what a fresh seed writes. */
  readonly targets: () => ReadonlyMap<string, GitTarget>;
  readonly committer: Identity;
  readonly logger: Logger;
  readonly onPush?: (result: 'ok' | RemoteFailureKind) => void;
}

export type SyncResult = { readonly ok: true; readonly head: string | undefined } | { readonly ok: false; readonly head: string | undefined; readonly error: unknown };

/**
 * Keeps a branch's local commits and its remote in step: remembers the commits made since the last
 * push, pushes them, and when the remote moved (another writer, a crash before the push), fetches and
 * replays them on the new remote head. Nothing here decides what to commit.
 */
export class RemoteSync {
  private pending: CommitRecord[] = [];
  /** The remote branch head as last seen (fetched or pushed): the expected old id of the next push. */
  private remoteHead: string | undefined;
  /** Where the last head known to be on the remote is recorded, in the local clone. */
  private readonly pushedRef: string;

  constructor(private readonly options: RemoteSyncOptions) {
    this.pushedRef = `refs/gitops-reverser/pushed/${options.branch}`;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** A commit made locally, to push with the next `push`. */
  record(commit: CommitRecord): void {
    this.pending.push(commit);
  }

  /**
   * Fetches the remote branch and reconciles it with what a previous run left in the local clone.
   * Only commits made after the last recorded push are replayed: a remote whose history was rewritten
   * (a purge) or re-created at the same URL never gets old commits back. When the remote no longer
   * holds the last pushed commit, the current state of our folders is written as one fresh commit
   * instead. Returns the head to continue from.
   */
  async open(local: string | undefined): Promise<string | undefined> {
    const { directory, branch, logger } = this.options;
    const remote = await this.options.remote.fetch(branch);
    this.remoteHead = remote;
    const pushed = await directory.readRef(this.pushedRef);
    this.pending = [];
    let head = remote;
    if (local && local !== remote) {
      const remoteChain = await this.firstParentChain(remote);
      if (remoteChain.has(local)) {
        logger.info({ branch }, 'local copy was behind the remote; fast-forwarded');
      } else {
        // The commits since the last push (or, for a clone without a record, since the last commit both share).
        const base = pushed !== undefined ? (remoteChain.has(pushed) ? pushed : undefined) : await this.lastShared(local, remoteChain);
        const unpushed = base !== undefined ? await this.commitsAfter(local, base) : undefined;
        if (unpushed) {
          this.pending = unpushed;
          if (unpushed.length > 0) logger.warn({ branch, commits: unpushed.length }, `found ${unpushed.length} commit(s) a previous run did not push; replaying them on the remote head`);
          head = await this.replayOn(remote);
        } else {
          logger.warn(
            { branch, lastPushed: pushed, remote },
            `the remote ${branch} no longer contains what was last pushed (history rewritten or repository re-created): not replaying old commits; writing the current state of our folders as one commit`,
          );
          head = await this.freshSeed(local, remote);
        }
      }
    }
    if (head) await directory.writeBranch(branch, head);
    if (remote && this.pending.length === 0) await directory.writeRef(this.pushedRef, remote);
    return head;
  }

  /** Pushes `head`; when the remote moved, fetches and replays the pending commits on it, a few times. */
  async push(head: string | undefined): Promise<SyncResult> {
    const { directory, remote, branch, logger } = this.options;
    let current = head;
    for (let attempt = 1; attempt <= this.options.pushAttempts; attempt++) {
      try {
        // The objects of every pending commit are known: send exactly those (cost independent of repository size).
        const objects = remote.pushObjects && this.pending.every((commit) => commit.objects) ? this.pending.flatMap((commit) => commit.objects ?? []) : undefined;
        if (objects && remote.pushObjects) await remote.pushObjects(branch, this.remoteHead, current as string, objects);
        else await remote.push(branch, current as string);
        this.remoteHead = current;
        this.options.onPush?.('ok');
        this.pending = [];
        await directory.writeRef(this.pushedRef, current as string);
        return { ok: true, head: current };
      } catch (error) {
        const kind = error instanceof GitRemoteError ? error.kind : 'other';
        this.options.onPush?.(kind);
        if (kind !== 'rejected') return { ok: false, head: current, error };
        logger.info({ branch, attempt, err: errorText(error) }, 'the remote branch moved; replaying our commits on its new head');
        try {
          this.remoteHead = await remote.fetch(branch);
          current = await this.replayOn(this.remoteHead);
        } catch (fetchError) {
          return { ok: false, head: current, error: fetchError };
        }
        await new Promise((r) => setTimeout(r, Math.random() * 100 * attempt));
      }
    }
    const error = grError(GitErrorCodes.PUSH_REJECTED, `the remote rejected the push ${this.options.pushAttempts} times in a row: another writer keeps moving ${branch}`, {
      fix: 'make sure one writer owns this branch; the changes are kept and retried',
    });
    return { ok: false, head: current, error };
  }

  /** Replays the pending commits on `base` (commits that became empty are dropped) and moves the branch. */
  private async replayOn(base: string | undefined): Promise<string | undefined> {
    const replayed: CommitRecord[] = [];
    let head = base;
    for (const commit of this.pending) {
      const rebuilt = await this.options.builder.replay(commit, head);
      if (!rebuilt) continue;
      head = rebuilt.oid;
      replayed.push({ changes: rebuilt.changes, message: rebuilt.message, author: rebuilt.author, ...(rebuilt.objects ? { objects: rebuilt.objects } : {}) });
    }
    this.pending = replayed;
    if (head) await this.options.directory.writeBranch(this.options.branch, head);
    return head;
  }

  /** Commit ids on the first-parent chain of `head` that are present locally (bounded). */
  private async firstParentChain(head: string | undefined): Promise<Set<string>> {
    const { directory } = this.options;
    const chain = new Set<string>();
    for (let oid = head, n = 0; oid && n < 10_000; n++) {
      chain.add(oid);
      if (!(await directory.hasObject(oid))) break;
      oid = (await directory.readCommit(oid)).parents[0];
    }
    return chain;
  }

  /** The newest commit of `local`'s first-parent chain that `remoteChain` also holds. */
  private async lastShared(local: string, remoteChain: ReadonlySet<string>): Promise<string | undefined> {
    for (let oid: string | undefined = local, n = 0; oid && n < 10_000; n++) {
      if (remoteChain.has(oid)) return oid;
      oid = (await this.options.directory.readCommit(oid)).parents[0];
    }
    return undefined;
  }

  /** The commits on `local` after `base` (oldest first), as replayable records; undefined when `base` is not on the chain. */
  private async commitsAfter(local: string, base: string): Promise<CommitRecord[] | undefined> {
    const { directory, trees } = this.options;
    const mine: { oid: string; parent: string | undefined }[] = [];
    let oid: string | undefined = local;
    for (let n = 0; oid && oid !== base && n < 10_000; n++) {
      const commit = await directory.readCommit(oid);
      mine.push({ oid, parent: commit.parents[0] });
      oid = commit.parents[0];
    }
    if (oid !== base) return undefined;
    const records: CommitRecord[] = [];
    for (const { oid: commitOid, parent } of mine.reverse()) {
      const commit = await directory.readCommit(commitOid);
      const parentTree = parent ? (await directory.readCommit(parent)).tree : undefined;
      records.push({ changes: await trees.diff(parentTree, commit.tree), message: commit.message, author: commit.author });
    }
    return records;
  }

  /**
   * One commit on `remote` that makes each target folder hold what it holds at `local` (our last known
   * state): files added or updated; `.yaml` files we do not have removed only where the target prunes
   * (`prune: Always`). Files outside our folders are untouched.
   */
  private async freshSeed(local: string, remote: string | undefined): Promise<string | undefined> {
    const { directory, trees, builder } = this.options;
    const localTree = await builder.treeOf(local);
    const remoteTree = await builder.treeOf(remote);
    const changes = new Map<string, string | null>();
    for (const target of this.options.targets().values()) {
      const subtree = async (root: string | undefined) => {
        if (target.path === '') return root;
        const entry = await trees.lookup(root, target.path);
        return entry && isTreeMode(entry.mode) ? entry.oid : undefined;
      };
      const diff = await trees.diff(await subtree(remoteTree), await subtree(localTree));
      for (const [path, oid] of diff) {
        const full = target.path === '' ? path : `${target.path}/${path}`;
        if (oid !== null) changes.set(full, oid);
        else if (target.prune === 'Always' && full.endsWith('.yaml')) changes.set(full, null);
      }
    }
    if (changes.size === 0) return remote;
    const record: CommitRecord = {
      changes,
      message: `reconciled ${changes.size} file(s): the remote history changed, current state written again\n`,
      author: { ...this.options.committer, timestamp: Date.now() / 1000 },
    };
    const rebuilt = await builder.replay(record, remote);
    if (!rebuilt) return remote;
    this.pending = [{ changes: rebuilt.changes, message: rebuilt.message, author: rebuilt.author }];
    await directory.writeBranch(this.options.branch, rebuilt.oid);
    return rebuilt.oid;
  }
}
