import { errorText, grError, type Logger } from '@gitops-reverser/contract';
import type { CommitBuilder, CommitRecord } from './commit-builder.js';
import type { GitDirectory } from './git-directory.js';
import { GitRemoteError, type GitRemote, type RemoteFailureKind } from './git-remote.js';
import { GitErrorCodes } from './git-error-codes.js';
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
  readonly logger: Logger;
  readonly onPush?: (result: 'ok' | RemoteFailureKind) => void;
}

/**
 * The remote no longer holds what this clone last knew it had: its history was rewritten, the branch
 * deleted, or the repository re-created at the same URL (or the clone cannot prove otherwise). The
 * clone's own commits are no use then; the writer continues from `remoteHead` and has the targets seeded.
 */
export interface HistoryLoss {
  /** The remote branch head now; undefined when the branch does not exist. */
  readonly remoteHead: string | undefined;
  /** Why, for logs and the snapshot request (no credentials). */
  readonly reason: string;
}

export type SyncResult =
  | { readonly ok: true; readonly head: string | undefined }
  | { readonly ok: false; readonly head: string | undefined; readonly error: unknown }
  | { readonly ok: false; readonly head: string | undefined; readonly loss: HistoryLoss };

/** How many commits a walk reads at most to prove the remote still holds a commit; beyond, it counts as not proven. */
const MAX_COMMITS_WALKED = 100_000;

/**
 * Keeps a branch's local commits and its remote in step: remembers the commits made since the last
 * push, pushes them with the remote head it expects, and when the remote moved on top of what was
 * pushed (another writer, a crash before the push), fetches and replays them on the new head. When
 * the remote no longer holds what was pushed (ADR 0015), nothing of the clone is replayed or written:
 * the pending commits are dropped and the caller learns of the loss. Nothing here decides what to commit.
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
   * The clone is trusted only as far as the remote still holds the last recorded push (or, for a
   * clone without that record, its branch head): then the commits made after it are replayed on the
   * remote head. Otherwise nothing of the clone is used: the branch continues from the remote head
   * and the loss is returned.
   */
  async open(local: string | undefined): Promise<{ head: string | undefined; loss?: HistoryLoss }> {
    const { branch, logger } = this.options;
    const remote = await this.options.remote.fetch(branch);
    this.remoteHead = remote;
    this.pending = [];
    // The last commit known to be on the remote: the record of the last push, else the branch head.
    const base = (await this.options.directory.readRef(this.pushedRef)) ?? local;
    if (base === undefined) {
      // A new clone: nothing of ours to trust or distrust.
      await this.settle(remote);
      return { head: remote };
    }
    if (remote !== undefined && (base === remote || (await this.holds(remote, base)))) {
      if (local === undefined || local === remote || local === base) {
        if (local !== undefined && local !== remote) logger.info({ branch }, 'local copy was behind the remote; fast-forwarded');
        await this.settle(remote);
        return { head: remote };
      }
      const unpushed = await this.commitsAfter(local, base);
      if (unpushed) {
        this.pending = unpushed;
        logger.warn({ branch, commits: unpushed.length }, `found ${unpushed.length} commit(s) a previous run did not push; replaying them on the remote head`);
        // The remote head is on the remote: the replayed commits are what comes after it.
        await this.settle(remote);
        return { head: await this.replayOn(remote) };
      }
    }
    const dropped = local === undefined ? 0 : ((await this.ownCommits(local, base)) ?? []).length;
    return { head: remote, loss: await this.lost(remote, dropped) };
  }

  /**
   * Pushes `head` with the remote head last seen as the expected old value; when the remote moved on
   * top of it, fetches and replays the pending commits on the new head, a few times. When the remote
   * no longer holds what was last seen, the result is the loss (pending commits dropped).
   */
  async push(head: string | undefined): Promise<SyncResult> {
    const { remote, branch, logger } = this.options;
    let current = head;
    for (let attempt = 1; attempt <= this.options.pushAttempts; attempt++) {
      try {
        // The objects of every pending commit are known: send exactly those (cost independent of repository size).
        const objects = remote.pushObjects && this.pending.every((commit) => commit.objects) ? this.pending.flatMap((commit) => commit.objects ?? []) : undefined;
        if (objects && remote.pushObjects) await remote.pushObjects(branch, this.remoteHead, current as string, objects);
        else await remote.push(branch, this.remoteHead, current as string);
        this.options.onPush?.('ok');
        this.pending = [];
        await this.settle(current);
        return { ok: true, head: current };
      } catch (error) {
        const kind = error instanceof GitRemoteError ? error.kind : 'other';
        this.options.onPush?.(kind);
        if (kind !== 'rejected') return { ok: false, head: current, error };
        logger.info({ branch, attempt, err: errorText(error) }, 'the remote branch moved; fetching it');
        try {
          const seen = this.remoteHead;
          const moved = await remote.fetch(branch);
          if (seen !== undefined && (moved === undefined || !(await this.holds(moved, seen)))) {
            this.remoteHead = moved;
            return { ok: false, head: moved, loss: await this.lost(moved, this.pending.length) };
          }
          this.remoteHead = moved;
          current = await this.replayOn(moved);
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

  /**
   * The clone's copy of the branch is no longer to be trusted: the pending commits are dropped (their
   * objects come back through the fresh seed: their state, not their history), the local branch and
   * the record of the last push follow the remote, so no later open or push ever uses the old commits.
   */
  private async lost(remote: string | undefined, dropped: number): Promise<HistoryLoss> {
    const { branch, logger } = this.options;
    this.pending = [];
    if (remote === undefined) await this.options.directory.deleteRef(`refs/heads/${branch}`);
    else await this.options.directory.writeBranch(branch, remote);
    await this.settle(remote);
    const what = remote === undefined ? `has no branch ${branch}` : `no longer holds what was last pushed to ${branch}`;
    const reason = `the remote ${this.options.remote.location} ${what} (history rewritten, branch deleted or repository re-created)`;
    logger.warn(
      { branch, remoteHead: remote, droppedCommits: dropped },
      `${reason}: continuing from its ${remote === undefined ? 'empty branch' : 'head'}, never from the local copy; ${dropped} unpushed commit(s) dropped (their objects come back with the fresh snapshot)`,
    );
    return { remoteHead: remote, reason };
  }

  /** Records `remote` as the last head known to be on the remote (no record when it has no branch). */
  private async settle(remote: string | undefined): Promise<void> {
    this.remoteHead = remote;
    if (remote === undefined) await this.options.directory.deleteRef(this.pushedRef);
    else await this.options.directory.writeRef(this.pushedRef, remote);
  }

  /** Replays the pending commits on `base` (commits that became empty are dropped) and moves the branch. */
  private async replayOn(base: string | undefined): Promise<string | undefined> {
    const replayed: CommitRecord[] = [];
    let head = base;
    for (const commit of this.pending) {
      const rebuilt = await this.options.builder.replay(commit, head);
      if (!rebuilt) continue;
      head = rebuilt.oid;
      replayed.push({
        changes: rebuilt.changes,
        message: rebuilt.message,
        author: rebuilt.author,
        ...(rebuilt.objects ? { objects: rebuilt.objects } : {}),
        ...(rebuilt.plan ? { plan: rebuilt.plan } : {}),
      });
    }
    this.pending = replayed;
    if (head) await this.options.directory.writeBranch(this.options.branch, head);
    return head;
  }

  /**
   * True when `commit` is `head` or one of its ancestors (all parents, not only the first: a human's
   * merge may have our commit as its second parent). Reads at most MAX_COMMITS_WALKED commits; a
   * commit missing locally ends that path.
   */
  private async holds(head: string, commit: string): Promise<boolean> {
    const { directory } = this.options;
    const seen = new Set<string>([head]);
    const queue = [head];
    for (let read = 0; queue.length > 0 && read < MAX_COMMITS_WALKED; read++) {
      const oid = queue.shift() as string;
      if (oid === commit) return true;
      if (!(await directory.hasObject(oid))) continue;
      for (const parent of (await directory.readCommit(oid)).parents) {
        if (seen.has(parent)) continue;
        seen.add(parent);
        queue.push(parent);
      }
    }
    return false;
  }

  /** Our commits on `local` after `base`, newest first, with their first parents; undefined when `base` is not on the chain. */
  private async ownCommits(local: string, base: string): Promise<{ oid: string; parent: string | undefined }[] | undefined> {
    const mine: { oid: string; parent: string | undefined }[] = [];
    let oid: string | undefined = local;
    for (let n = 0; oid && oid !== base && n < MAX_COMMITS_WALKED; n++) {
      if (!(await this.options.directory.hasObject(oid))) return undefined;
      const commit = await this.options.directory.readCommit(oid);
      mine.push({ oid, parent: commit.parents[0] });
      oid = commit.parents[0];
    }
    return oid === base ? mine : undefined;
  }

  /** The commits on `local` after `base` (oldest first), as replayable records; undefined when `base` is not on the chain. */
  private async commitsAfter(local: string, base: string): Promise<CommitRecord[] | undefined> {
    const { directory, trees } = this.options;
    const mine = await this.ownCommits(local, base);
    if (!mine) return undefined;
    const records: CommitRecord[] = [];
    for (const { oid, parent } of mine.reverse()) {
      const commit = await directory.readCommit(oid);
      const parentTree = parent ? (await directory.readCommit(parent)).tree : undefined;
      records.push({ changes: await trees.diff(parentTree, commit.tree), message: commit.message, author: commit.author });
    }
    return records;
  }
}
