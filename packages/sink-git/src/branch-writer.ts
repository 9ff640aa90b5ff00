import { errorText, grError, isGitopsReverserError, type Logger, type SinkItem, type SinkOutcome } from '@gitops-reverser/contract';
import { CommitBuilder } from './commit-builder.js';
import type { Identity, MessageTemplates } from './commit-message.js';
import { completeSnapshotTargets, planCommits, type PlannedCommit } from './commit-plan.js';
import { objectName } from './write-refusal.js';
import type { GitDirectory } from './git-directory.js';
import { GitRemoteError, type GitRemote, type RemoteFailureKind } from './git-remote.js';
import { GitErrorCodes } from './git-error-codes.js';
import type { GitTarget } from './git-target.js';
import { RefusedObjects } from './refused-objects.js';
import { type HistoryLoss, RemoteSync } from './remote-sync.js';
import { TreeStore } from './tree-store.js';

export interface BranchWriterOptions {
  /** The local repository, or the clone of the remote. */
  readonly directory: GitDirectory;
  /** The remote half of the engine; undefined for a local repository written in place. */
  readonly remote?: GitRemote;
  readonly branch: string;
  readonly partitionKey: string;
  /** Targets on this (repo, branch), by name; read on every batch so a reload takes effect. */
  readonly targets: () => ReadonlyMap<string, GitTarget>;
  readonly committer: Identity;
  readonly messages: MessageTemplates;
  /** Email domain for actors whose username is not an email; `{cluster}` is replaced. */
  readonly authorEmailDomain: string;
  /** > 0: consecutive events of one author on one target share a commit. */
  readonly grouping: boolean;
  readonly pushAttempts: number;
  readonly logger: Logger;
  readonly onCommit?: (kind: 'event' | 'group' | 'seed') => void;
  readonly onPush?: (result: 'ok' | RemoteFailureKind) => void;
  readonly onRemoteState?: (ok: boolean, pendingCommits: number) => void;
  /**
   * The remote lost what this branch held for these targets (history rewritten, branch deleted,
   * repository re-created): the sources must seed them again (SinkContext.requestSnapshot).
   */
  readonly onHistoryLost?: (targets: readonly string[], reason: string) => void;
  /** A person's file stopped an object's write (ADR 0039): counted by code. */
  readonly onRefused?: (code: string) => void;
  /** How many objects are not written because a person's file stops them. */
  readonly onRefusedCount?: (count: number) => void;
  /**
   * A file that stopped objects changed (fixed or removed): a fresh snapshot of these targets writes
   * them (SinkContext.requestSnapshot).
   */
  readonly onRefusedFileChanged?: (targets: readonly string[], reason: string) => void;
}

export interface WriterState {
  readonly ok: boolean;
  readonly reason?: string;
  readonly code?: string;
  readonly pendingCommits: number;
}

const EMPTY_OUTCOME: SinkOutcome = { status: 'unchanged' };

function retryAll(items: readonly SinkItem[], reason: string): SinkOutcome[] {
  return items.map(() => ({ status: 'retry', reason }));
}

/**
 * Writes one branch of one repository, in three rooms: `planCommits` groups a batch into commits
 * (pure), `CommitBuilder` turns each into git objects (no index, no checkout), `RemoteSync` pushes and
 * replays on a moved remote. The writer owns the branch head and the health state. A batch is
 * `applied` only once pushed (or written, for a local repository); until then its items are `retry`
 * and stay on the bus.
 */
export class BranchWriter {
  private readonly builder: CommitBuilder;
  private readonly trees: TreeStore;
  private readonly remote: RemoteSync | undefined;
  private opened = false;
  private opening: Promise<void> | undefined;
  /** Local branch head: remote head + commits not pushed yet. */
  private head: string | undefined;
  /** Found at open: the remote lost our history; the snapshot is asked for with the first batch. */
  private unseeded: HistoryLoss | undefined;
  private state: WriterState = { ok: true, pendingCommits: 0 };
  /** Objects a person's file stops (ADR 0039): the writer is degraded while there are any. */
  private readonly refused = new RefusedObjects();

  /** The repository as logs and errors name it (no credentials). */
  private readonly location: string;

  /** Releases open connections and spare files; the writer reconnects if used again. */
  async close(): Promise<void> {
    await this.options.remote?.close();
    await this.options.directory.close();
  }

  constructor(private readonly options: BranchWriterOptions) {
    const { directory } = options;
    this.location = options.remote?.location ?? directory.path;
    const trees = new TreeStore(directory);
    this.trees = trees;
    this.builder = new CommitBuilder({ directory, trees, committer: options.committer, messages: options.messages, authorEmailDomain: options.authorEmailDomain, logger: options.logger });
    if (options.remote) {
      this.remote = new RemoteSync({
        directory,
        remote: options.remote,
        branch: options.branch,
        builder: this.builder,
        trees,
        pushAttempts: options.pushAttempts,
        logger: options.logger,
        ...(options.onPush ? { onPush: options.onPush } : {}),
      });
    }
  }

  get status(): WriterState {
    return this.state;
  }

  /** The objects not written because a person's file stops them, with why (for health). */
  get refusedObjects(): RefusedObjects {
    return this.refused;
  }

  async apply(items: readonly SinkItem[]): Promise<SinkOutcome[]> {
    if (!this.opened) {
      try {
        await this.ensureOpen();
      } catch (error) {
        const reason = this.failure(error);
        return items.map(() => ({ status: 'retry', reason }));
      }
    }
    const planned: SinkOutcome[] = items.map(() => EMPTY_OUTCOME);
    const plans = planCommits(items, this.options.targets(), planned, { partitionKey: this.options.partitionKey, grouping: this.options.grouping });
    if (this.unseeded) {
      this.askForSeed(this.unseeded, plans);
      this.unseeded = undefined;
    }
    let committed = await this.commit(plans, planned);
    if (!committed.ok) return retryAll(items, committed.reason);
    const refusedFirst = new Set(plans.flatMap((plan) => [...(plan.refused?.keys() ?? [])]));
    if (!this.remote || this.remote.pendingCount === 0) return await this.settleRefusals(items, plans, committed.outcomes, refusedFirst);
    let pushed = await this.push(plans);
    if (!pushed.ok && pushed.lost) {
      // The remote lost our history: this batch goes on what it holds now (the seed asked for brings the rest).
      committed = await this.commit(plans, planned);
      if (!committed.ok) return retryAll(items, committed.reason);
      pushed = this.remote.pendingCount > 0 ? await this.push(plans) : { ok: true };
    }
    // A replay on a moved remote placed the writes again: its refusals are the ones that count.
    const outcomes = await this.settleRefusals(items, plans, committed.outcomes, refusedFirst);
    if (!pushed.ok) {
      const { reason } = pushed;
      return items.map((_, i) => (outcomes[i]?.status === 'rejected' ? (outcomes[i] as SinkOutcome) : { status: 'retry', reason }));
    }
    return outcomes;
  }

  /**
   * Objects a person's file stopped are `rejected` with the refusal's code, file and fix (the kernel
   * logs and dead-letters them; the rest of the partition goes on); each is logged here once, with
   * its code, and counted. A file that stopped objects before and has changed since (a person fixed
   * or removed it) has its target snapshotted again, which writes them.
   */
  private async settleRefusals(items: readonly SinkItem[], plans: readonly PlannedCommit[], outcomes: SinkOutcome[], refusedFirst: ReadonlySet<number>): Promise<SinkOutcome[]> {
    const fresh = this.refused.settle(items, plans, outcomes, refusedFirst);
    for (const refusal of fresh) {
      this.options.onRefused?.(refusal.code);
      this.options.logger.warn({ code: refusal.code, path: refusal.path, object: objectName(refusal.identity) }, refusal.reason);
    }
    if (this.refused.size > 0 && this.options.onRefusedFileChanged) {
      const tree = await this.builder.treeOf(this.head);
      const { targets, paths } = await this.refused.fixed(async (path) => (await this.trees.lookup(tree, path))?.oid);
      if (targets.length > 0) this.options.onRefusedFileChanged(targets, `${paths.join(', ')} changed since it stopped objects from being written (ADR 0039): a fresh snapshot writes them`);
    }
    this.options.onRefusedCount?.(this.refused.size);
    return outcomes;
  }

  /**
   * Builds the planned commits on the head and moves the local branch. Outcomes start from the
   * planned ones (rejections); an item becomes `applied` when a commit changed its file.
   */
  private async commit(plans: readonly PlannedCommit[], planned: readonly SinkOutcome[]): Promise<{ ok: true; outcomes: SinkOutcome[] } | { ok: false; reason: string }> {
    const outcomes = [...planned];
    let committed = false;
    try {
      for (const plan of plans) {
        const commit = await this.builder.build(plan, this.head);
        // Objects a person's file stopped are not written; the commit holds the others (ADR 0039).
        for (const [index, refusal] of plan.refused ?? []) outcomes[index] = { status: 'rejected', reason: refusal.reason };
        if (!commit) continue;
        this.head = commit.oid;
        committed = true;
        this.remote?.record(commit);
        for (const index of plan.items) {
          // A rejected item stays rejected (reported on every delivery), also inside a snapshot.
          if (outcomes[index]?.status === 'rejected') continue;
          if (commit.changedItems.has(index) || plan.kind === 'seed') outcomes[index] = { status: 'applied' };
        }
        this.options.onCommit?.(plan.kind);
      }
      if (committed && this.head) await this.options.directory.writeBranch(this.options.branch, this.head);
    } catch (error) {
      // Writing the local repository failed (disk full, permissions): nothing is acked.
      const reason = `writing ${this.location} failed: ${errorText(error)}`;
      this.setState({ ok: false, reason, code: GitErrorCodes.REPO, pendingCommits: this.remote?.pendingCount ?? 0 });
      this.opened = false;
      return { ok: false, reason };
    }
    if (!this.remote && !this.state.ok) this.setState({ ok: true, pendingCommits: 0 });
    return { ok: true, outcomes };
  }

  /**
   * Asks for a fresh snapshot of this branch's targets after the remote lost what they held; a target
   * whose complete snapshot is in the batch at hand is left out (that snapshot is the fresh state).
   */
  private askForSeed(loss: HistoryLoss, plans: readonly PlannedCommit[]): void {
    const seeded = completeSnapshotTargets(plans);
    const targets = [...this.options.targets().keys()].filter((name) => !seeded.has(name)).sort();
    if (targets.length > 0) this.options.onHistoryLost?.(targets, loss.reason);
  }

  /** True once the branch is loaded (for a remote: fetched and reconciled); `readFile` reads its head. */
  get isOpen(): boolean {
    return this.opened;
  }

  /**
   * The content of a file at the writer's head (its last commit, pushed or not), or undefined when it
   * has none. Only for an open writer: it never opens the branch and never fetches.
   */
  async readFile(path: string): Promise<string | undefined> {
    if (!this.opened) throw new Error('the branch writer is not open');
    return await this.trees.fileText(await this.builder.treeOf(this.head), path);
  }

  /** Pushes pending commits once (shutdown flush). */
  async flush(): Promise<void> {
    if (this.remote && this.remote.pendingCount > 0) await this.push([]);
  }

  /** Loads the branch (for a remote: fetches it) unless it is open; one open at a time. */
  ensureOpen(): Promise<void> {
    this.opening ??= this.open().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  /** Loads the branch; for a remote, fetches it and reconciles with commits a previous run left unpushed. */
  private async open(): Promise<void> {
    const { directory, remote, branch, logger } = this.options;
    await directory.open({ initialBranch: branch, ...(remote ? { origin: { url: remote.url, location: remote.location } } : {}) });
    await remote?.open?.();
    const local = await directory.readBranch(branch);
    if (!this.remote) {
      this.head = local;
      this.opened = true;
      const worktree = directory.checkedOutWorktree(branch);
      if (worktree) {
        logger.warn(
          { worktree, branch },
          `${worktree} has ${branch} checked out: commits land in git, but its files and index will not follow; use a bare repository, or run git reset --hard there to look at the files`,
        );
      }
      return;
    }
    const { head, loss } = await this.remote.open(local);
    this.head = head;
    // Asked for with the first batch, which may itself hold the fresh snapshot.
    this.unseeded = loss;
    this.opened = true;
    this.setState({ ok: true, pendingCommits: this.remote.pendingCount });
  }

  /**
   * Pushes the pending commits. `lost`: the remote lost our history; the head is now the remote's,
   * the pending commits are gone and a fresh snapshot was asked for (`plans`: the batch at hand).
   */
  private async push(plans: readonly PlannedCommit[]): Promise<{ ok: true } | { ok: false; reason: string; lost?: true }> {
    const result = await (this.remote as RemoteSync).push(this.head);
    this.head = result.head;
    if (result.ok) {
      this.setState({ ok: true, pendingCommits: 0 });
      return { ok: true };
    }
    if ('loss' in result) {
      this.askForSeed(result.loss, plans);
      return { ok: false, reason: result.loss.reason, lost: true };
    }
    return { ok: false, reason: this.failure(result.error) };
  }

  /** The reason a write or push failed, with its code and fix; also sets the (logged) state. */
  private failure(error: unknown): string {
    let code: string;
    let reason: string;
    if (isGitopsReverserError(error)) {
      code = error.code;
      reason = error.describe();
    } else {
      const kind = error instanceof GitRemoteError ? error.kind : 'other';
      const precise = error instanceof GitRemoteError ? error : undefined;
      code =
        precise?.code ?? (kind === 'auth' ? GitErrorCodes.AUTH : kind === 'unreachable' ? GitErrorCodes.REMOTE_UNREACHABLE : kind === 'rejected' ? GitErrorCodes.PUSH_REJECTED : GitErrorCodes.REPO);
      const fix =
        precise?.fix ??
        (kind === 'auth'
          ? 'check the provider auth (username/password or token) in sink.with.providers and that it may push to this repository'
          : kind === 'unreachable'
            ? 'check the URL and that the git server is up; changes are kept and retried'
            : 'see the message; changes are kept and retried');
      reason = grError(code, errorText(error), { fix }).describe();
    }
    this.setState({ ok: false, reason, code, pendingCommits: this.remote?.pendingCount ?? 0 });
    return reason;
  }

  /** Logs only when the state changes, so an outage is one line, not one per retry. */
  private setState(next: WriterState): void {
    const previous = this.state;
    this.state = next;
    this.options.onRemoteState?.(next.ok, next.pendingCommits);
    if (previous.ok === next.ok && previous.code === next.code) return;
    // The logger is bound to the partition: the line names it once, as a field.
    const where = { code: next.code, pendingCommits: next.pendingCommits };
    if (next.ok) this.options.logger.info(where, 'git writer is healthy again');
    else this.options.logger.error(where, `git writer cannot write: ${next.reason}`);
  }
}
