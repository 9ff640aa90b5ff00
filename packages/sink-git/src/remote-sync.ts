import { errorText, grError, type Logger } from '@gitops-reverser/contract';
import type { CommitBuilder, CommitRecord } from './commit-builder.js';
import { GitRemoteError, type GitEngine, type RemoteFailureKind } from './git-engine.js';
import { GitErrorCodes } from './git-error-codes.js';
import type { TreeStore } from './tree-store.js';

export interface RemoteSyncOptions {
  readonly engine: GitEngine;
  readonly branch: string;
  readonly builder: CommitBuilder;
  readonly trees: TreeStore;
  /** How often one push replays on a moved remote before giving up for this batch. */
  readonly pushAttempts: number;
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

  constructor(private readonly options: RemoteSyncOptions) {}

  get pendingCount(): number {
    return this.pending.length;
  }

  /** A commit made locally, to push with the next `push`. */
  record(commit: CommitRecord): void {
    this.pending.push(commit);
  }

  /**
   * Fetches the remote branch and reconciles it with the local one a previous run left: fast-forward
   * when local is behind, otherwise the local-only commits are replayed on the remote head. Returns
   * the head to continue from.
   */
  async open(local: string | undefined): Promise<string | undefined> {
    const { engine, branch, logger } = this.options;
    const remote = await engine.fetch(branch);
    this.pending = [];
    let head = remote;
    if (local && local !== remote) {
      const unpushed = await this.localOnlyCommits(local, remote);
      if (unpushed === 'behind') {
        logger.info({ branch }, 'local copy was behind the remote; fast-forwarded');
      } else {
        this.pending = unpushed;
        logger.warn({ branch, commits: unpushed.length }, `found ${unpushed.length} commit(s) a previous run did not push; replaying them on the remote head`);
        head = await this.replayOn(remote);
      }
    }
    if (head) await engine.writeBranch(branch, head);
    return head;
  }

  /** Pushes `head`; when the remote moved, fetches and replays the pending commits on it, a few times. */
  async push(head: string | undefined): Promise<SyncResult> {
    const { engine, branch, logger } = this.options;
    let current = head;
    for (let attempt = 1; attempt <= this.options.pushAttempts; attempt++) {
      try {
        await engine.push(branch, current as string);
        this.options.onPush?.('ok');
        this.pending = [];
        return { ok: true, head: current };
      } catch (error) {
        const kind = error instanceof GitRemoteError ? error.kind : 'other';
        this.options.onPush?.(kind);
        if (kind !== 'rejected') return { ok: false, head: current, error };
        logger.info({ branch, attempt, err: errorText(error) }, 'the remote branch moved; replaying our commits on its new head');
        try {
          current = await this.replayOn(await engine.fetch(branch));
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
      replayed.push({ changes: rebuilt.changes, message: rebuilt.message, author: rebuilt.author });
    }
    this.pending = replayed;
    if (head) await this.options.engine.writeBranch(this.options.branch, head);
    return head;
  }

  /**
   * Commits on `local` that `remote` lacks (oldest first), or 'behind' when local is an ancestor of
   * remote. Follows first parents; our writer never makes merges.
   */
  private async localOnlyCommits(local: string, remote: string | undefined): Promise<CommitRecord[] | 'behind'> {
    const { engine, trees } = this.options;
    const remoteChain = new Set<string>();
    for (let oid = remote, n = 0; oid && n < 10_000; n++) {
      remoteChain.add(oid);
      if (!(await engine.hasObject(oid))) break;
      oid = (await engine.readCommit(oid)).parents[0];
    }
    if (remoteChain.has(local)) return 'behind';
    const mine: { oid: string; parent: string | undefined }[] = [];
    for (let oid: string | undefined = local, n = 0; oid && !remoteChain.has(oid) && n < 10_000; n++) {
      const commit = await engine.readCommit(oid);
      mine.push({ oid, parent: commit.parents[0] });
      oid = commit.parents[0];
    }
    const records: CommitRecord[] = [];
    for (const { oid, parent } of mine.reverse()) {
      const commit = await engine.readCommit(oid);
      const parentTree = parent ? (await engine.readCommit(parent)).tree : undefined;
      records.push({ changes: await trees.diff(parentTree, commit.tree), message: commit.message, author: commit.author });
    }
    return records;
  }
}
