import {
  errorText,
  grError,
  identityKey,
  type ChangeMessage,
  type Logger,
  type ResourceIdentity,
  type SinkItem,
  type SinkOutcome,
} from '@gitops-reverser/contract';
import { authorOf, renderMessage, withTrailers, type FileOperation, type Identity, type MessageTemplates } from './commit-message.js';
import { GitRemoteError, type GitEngine, type RemoteFailureKind } from './git-engine.js';
import { GitErrorCodes } from './git-error-codes.js';
import { encodeObject, serializeCommit, type EncodedObject, type Signature } from './git-objects.js';
import type { GitTarget } from './git-target.js';
import { TreeStore } from './tree-store.js';

export interface BranchWriterOptions {
  readonly engine: GitEngine;
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
}

/** A commit made locally and not yet on the remote; replayable on a new remote head. */
interface PendingCommit {
  readonly changes: ReadonlyMap<string, string | null>;
  readonly message: string;
  readonly author: Signature;
}

/** One file write resolved from a message. */
interface FileWrite {
  readonly itemIndex: number;
  readonly path: string;
  readonly blob: EncodedObject | null;
  readonly identity: ResourceIdentity;
  readonly event: ChangeMessage['event'];
}

interface PlannedCommit {
  kind: 'event' | 'group' | 'seed';
  readonly target: GitTarget;
  readonly items: number[];
  readonly writes: FileWrite[];
  /** Seeds: the marker, when it arrived. */
  marker?: { index: number; objectCount: number; clusterId: string; partial: boolean };
  readonly authorKey: string;
}

export interface WriterState {
  readonly ok: boolean;
  readonly reason?: string;
  readonly code?: string;
  readonly pendingCommits: number;
}

const EMPTY_OUTCOME: SinkOutcome = { status: 'unchanged' };

/**
 * Writes one branch of one repository. Builds commits from blobs and trees directly (no index,
 * no checkout), pushes after each batch, and when the remote moved, replays its unpushed commits on
 * the new remote head. A batch is reported `applied` only once it is pushed (or written, for a
 * local repository); until then its items are `retry` and stay on the bus.
 */
export class BranchWriter {
  private readonly trees: TreeStore;
  private opened = false;
  /** Local branch head: remote head + pending commits. */
  private head: string | undefined;
  private pending: PendingCommit[] = [];
  /** Tree of `head`, remembered because every commit needs it and we made most heads ourselves. */
  private headTree: { commit: string; tree: string } | undefined;
  private state: WriterState = { ok: true, pendingCommits: 0 };

  constructor(private readonly options: BranchWriterOptions) {
    this.trees = new TreeStore(options.engine);
  }

  get status(): WriterState {
    return this.state;
  }

  async apply(items: readonly SinkItem[]): Promise<SinkOutcome[]> {
    if (!this.opened) {
      try {
        await this.open();
      } catch (error) {
        const reason = this.remoteFailure(error);
        return items.map(() => ({ status: 'retry', reason }));
      }
    }
    const outcomes: SinkOutcome[] = items.map(() => EMPTY_OUTCOME);
    const plans = this.plan(items, outcomes);
    let committed = false;
    try {
      for (const plan of plans) committed = (await this.commit(plan, outcomes)) || committed;
    } catch (error) {
      // Writing the local repository failed (disk full, permissions): nothing is acked.
      const reason = `writing ${this.options.engine.location} failed: ${errorText(error)}`;
      this.setState({ ok: false, reason, code: GitErrorCodes.REPO, pendingCommits: this.pending.length });
      this.opened = false;
      return items.map(() => ({ status: 'retry', reason }));
    }
    const engine = this.options.engine;
    if (!engine.hasRemote) {
      if (committed && this.head) await engine.writeBranch(this.options.branch, this.head);
      if (!this.state.ok) this.setState({ ok: true, pendingCommits: 0 });
      return outcomes;
    }
    if (this.head) await engine.writeBranch(this.options.branch, this.head);
    if (this.pending.length > 0) {
      const pushed = await this.pushPending();
      if (!pushed.ok) return items.map((_, i) => (outcomes[i]?.status === 'rejected' ? (outcomes[i] as SinkOutcome) : { status: 'retry', reason: pushed.reason }));
    }
    return outcomes;
  }

  /** Pushes pending commits once (shutdown flush). */
  async flush(): Promise<void> {
    if (this.options.engine.hasRemote && this.pending.length > 0) await this.pushPending();
  }

  /** Loads the branch; for a remote, fetches it and reconciles with commits a previous run left unpushed. */
  private async open(): Promise<void> {
    const { engine, branch, logger } = this.options;
    await engine.open();
    const local = await engine.readBranch(branch);
    if (!engine.hasRemote) {
      this.head = local;
      this.opened = true;
      const worktree = await engine.checkedOutWorktree?.(branch);
      if (worktree) {
        logger.warn({ worktree, branch }, `${worktree} has ${branch} checked out: commits land in git, but its files and index will not follow; use a bare repository, or run git reset --hard there to look at the files`);
      }
      return;
    }
    const remote = await engine.fetch(branch);
    this.pending = [];
    this.head = remote;
    if (local && local !== remote) {
      const unpushed = await this.localOnlyCommits(local, remote);
      if (unpushed === 'behind') {
        logger.info({ branch }, 'local copy was behind the remote; fast-forwarded');
      } else {
        this.pending = unpushed;
        logger.warn({ branch, commits: unpushed.length }, `found ${unpushed.length} commit(s) a previous run did not push; replaying them on the remote head`);
        await this.rebuildOn(remote);
      }
    }
    if (this.head) await engine.writeBranch(branch, this.head);
    this.opened = true;
    this.setState({ ok: true, pendingCommits: this.pending.length });
  }

  /** Groups items into planned commits, resolving each change to a file write. */
  private plan(items: readonly SinkItem[], outcomes: SinkOutcome[]): PlannedCommit[] {
    const targets = this.options.targets();
    const plans: PlannedCommit[] = [];
    const snapshots = new Map<string, PlannedCommit>();
    const snapshotPlan = (targetName: string, snapshotId: string, target: GitTarget) => {
      const key = `${targetName}|${snapshotId}`;
      let plan = snapshots.get(key);
      if (!plan) {
        plan = { kind: 'seed', target, items: [], writes: [], authorKey: '' };
        snapshots.set(key, plan);
        plans.push(plan);
      }
      return plan;
    };

    items.forEach((item, index) => {
      const message = item.message;
      const target = targets.get(message.target);
      if (!target) {
        outcomes[index] = { status: 'rejected', reason: `target "${message.target}" is not configured on ${this.options.partitionKey}` };
        return;
      }
      if (message.kind === 'snapshot') {
        const plan = snapshotPlan(message.target, message.snapshotId, target);
        plan.items.push(index);
        plan.marker = { index, objectCount: message.objectCount, clusterId: message.clusterId, partial: message.partial === true };
        return;
      }
      const write = this.resolve(message, index, target, outcomes);
      if (message.event.snapshotId) {
        const plan = snapshotPlan(message.target, message.event.snapshotId, target);
        plan.items.push(index);
        if (write) plan.writes.push(write);
        return;
      }
      if (!write) return;
      const authorKey = message.event.actor?.username ?? '';
      const last = plans[plans.length - 1];
      if (this.options.grouping && last && last.kind !== 'seed' && last.target === target && last.authorKey === authorKey) {
        last.kind = 'group';
        last.items.push(index);
        last.writes.push(write);
      } else {
        plans.push({ kind: 'event', target, items: [index], writes: [write], authorKey });
      }
    });
    return plans;
  }

  /** The file write of a change, or undefined with its outcome set (rejected, or a delete not mirrored). */
  private resolve(message: ChangeMessage, index: number, target: GitTarget, outcomes: SinkOutcome[]): FileWrite | undefined {
    const { event } = message;
    const placed = target.layout.pathOf(target.path, event.identity);
    if ('problem' in placed) {
      const error = grError(GitErrorCodes.PATH_ESCAPE, `${identityKey(event.identity)} cannot be written: ${placed.problem}`);
      outcomes[index] = { status: 'rejected', reason: error.describe() };
      return undefined;
    }
    if (event.operation === 'delete') {
      if (target.prune === 'Never') return undefined; // deletes are not mirrored on this target
      return { itemIndex: index, path: placed.path, blob: null, identity: event.identity, event };
    }
    if (typeof message.yaml !== 'string') {
      outcomes[index] = { status: 'rejected', reason: `${identityKey(event.identity)}: an upsert without its rendered yaml cannot be written (messages come from the kernel's ingest)` };
      return undefined;
    }
    return { itemIndex: index, path: placed.path, blob: encodeObject('blob', Buffer.from(message.yaml)), identity: event.identity, event };
  }

  /** Makes one commit for a plan if it changes anything. Returns whether a commit was made. */
  private async commit(plan: PlannedCommit, outcomes: SinkOutcome[]): Promise<boolean> {
    const headTree = await this.treeOf(this.head);
    // Last write to a path wins; what each path held before decides CREATE vs UPDATE.
    const finalWrites = new Map<string, FileWrite>();
    for (const write of plan.writes) finalWrites.set(write.path, write);
    const changes = new Map<string, string | null>();
    const blobs: EncodedObject[] = [];
    const lines: { write: FileWrite; operation: FileOperation }[] = [];
    for (const [path, write] of finalWrites) {
      const existing = await this.trees.lookup(headTree, path);
      const existingBlob = existing && !existing.mode.startsWith('4') ? existing.oid : undefined;
      if (write.blob === null) {
        if (!existingBlob) continue;
        changes.set(path, null);
        lines.push({ write, operation: 'DELETE' });
      } else {
        if (existingBlob === write.blob.oid) continue;
        changes.set(path, write.blob.oid);
        blobs.push(write.blob);
        lines.push({ write, operation: existingBlob ? 'UPDATE' : 'CREATE' });
      }
    }
    if (plan.kind === 'seed' && plan.target.prune === 'Always') {
      const expected = plan.marker?.objectCount;
      const seedCount = plan.writes.length;
      if (plan.marker && !plan.marker.partial && expected === seedCount) {
        const live = new Set(plan.writes.map((w) => w.path));
        for (const file of await this.trees.listFiles(headTree, plan.target.path)) {
          if (file.endsWith('.yaml') && !live.has(file)) changes.set(file, null);
        }
      } else {
        this.options.logger.warn({ target: plan.target.name, expected, received: seedCount }, 'snapshot incomplete: not pruning files of objects that may still exist');
      }
    }

    const changedItems = new Set(lines.map((l) => l.write.itemIndex));
    if (changes.size === 0) return false;

    const { root, objects } = await this.trees.apply(headTree, changes);
    const author = this.authorFor(plan, lines.map((l) => l.write));
    const message = this.messageFor(plan, lines);
    const commit = encodeObject('commit', serializeCommit({
      tree: root,
      parents: this.head ? [this.head] : [],
      author,
      committer: { ...this.options.committer, timestamp: Date.now() / 1000 },
      message,
    }));
    await this.options.engine.writeObjects([...blobs, ...objects, commit]);
    this.head = commit.oid;
    this.headTree = { commit: commit.oid, tree: root };
    if (this.options.engine.hasRemote) this.pending.push({ changes, message, author });
    for (const index of plan.items) if (changedItems.has(index) || plan.kind === 'seed') outcomes[index] = { status: 'applied' };
    this.options.onCommit?.(plan.kind);
    return true;
  }

  private authorFor(plan: PlannedCommit, writes: readonly FileWrite[]): Signature {
    const committer = this.options.committer;
    if (plan.kind === 'seed') return { ...committer, timestamp: Date.now() / 1000 };
    const event = (writes[writes.length - 1] ?? plan.writes[plan.writes.length - 1])?.event;
    const cluster = event?.identity.clusterId ?? '';
    const who = authorOf(event?.actor, committer, this.options.authorEmailDomain.replace('{cluster}', cluster));
    const observed = Date.parse(event?.observedAt ?? '');
    return { ...who, timestamp: Number.isFinite(observed) ? observed / 1000 : Date.now() / 1000 };
  }

  private messageFor(plan: PlannedCommit, lines: readonly { write: FileWrite; operation: FileOperation }[]): string {
    const templates = this.options.messages;
    const first = lines[0] as { write: FileWrite; operation: FileOperation };
    const cluster = plan.marker?.clusterId ?? first?.write.identity.clusterId;
    if (plan.kind === 'seed') {
      const count = plan.marker?.objectCount ?? plan.writes.length;
      return withTrailers(renderMessage(templates.seed, { count, target: plan.target.name }), [], [['Cluster', cluster]]);
    }
    if (lines.length === 1) {
      const { write, operation } = first;
      return withTrailers(renderMessage(templates.event, { operation, identity: write.identity, target: plan.target.name }), [], [
        ['Cluster', cluster],
        ['Resource-Version', write.event.resourceVersion],
        ['Audit-ID', write.event.auditId],
      ]);
    }
    const author = first.write.event.actor?.username ?? this.options.committer.name;
    const subject = renderMessage(templates.group, { author, target: plan.target.name, count: lines.length });
    const body = lines.map(({ write, operation }) => renderMessage(templates.event, { operation, identity: write.identity }));
    const auditIds = [...new Set(lines.map((l) => l.write.event.auditId).filter((id): id is string => Boolean(id)))];
    return withTrailers(subject, body, [['Cluster', cluster], ...auditIds.map((id): [string, string] => ['Audit-ID', id])]);
  }

  /** Pushes; when the remote moved, fetches and replays pending commits on its head, a few times. */
  private async pushPending(): Promise<{ ok: true } | { ok: false; reason: string }> {
    const { engine, branch, logger } = this.options;
    for (let attempt = 1; attempt <= this.options.pushAttempts; attempt++) {
      try {
        await engine.push(branch, this.head as string);
        this.options.onPush?.('ok');
        this.pending = [];
        this.setState({ ok: true, pendingCommits: 0 });
        return { ok: true };
      } catch (error) {
        const kind = error instanceof GitRemoteError ? error.kind : 'other';
        this.options.onPush?.(kind);
        if (kind !== 'rejected') return { ok: false, reason: this.remoteFailure(error) };
        logger.info({ branch, attempt, err: errorText(error) }, 'the remote branch moved; replaying our commits on its new head');
        try {
          const remote = await engine.fetch(branch);
          await this.rebuildOn(remote);
        } catch (fetchError) {
          return { ok: false, reason: this.remoteFailure(fetchError) };
        }
        await new Promise((r) => setTimeout(r, Math.random() * 100 * attempt));
      }
    }
    const reason = grError(GitErrorCodes.PUSH_REJECTED, `the remote rejected the push ${this.options.pushAttempts} times in a row: another writer keeps moving ${branch}`, {
      fix: 'make sure one writer owns this branch; the changes are kept and retried',
    }).describe();
    this.setState({ ok: false, reason, code: GitErrorCodes.PUSH_REJECTED, pendingCommits: this.pending.length });
    return { ok: false, reason };
  }

  /**
   * Replays pending commits on `base` (the remote head): each commit's file changes are applied to
   * the new tree, so files the other writer changed outside our paths stay as they are, and
   * commits that became empty are dropped.
   */
  private async rebuildOn(base: string | undefined): Promise<void> {
    const engine = this.options.engine;
    const rebuilt: PendingCommit[] = [];
    let head = base;
    for (const commit of this.pending) {
      const tree = await this.treeOf(head);
      const effective = new Map<string, string | null>();
      for (const [path, oid] of commit.changes) {
        const existing = (await this.trees.lookup(tree, path))?.oid;
        if ((oid === null && existing !== undefined) || (oid !== null && existing !== oid)) effective.set(path, oid);
      }
      if (effective.size === 0) continue;
      const { root, objects } = await this.trees.apply(tree, effective);
      const encoded = encodeObject('commit', serializeCommit({
        tree: root,
        parents: head ? [head] : [],
        author: commit.author,
        committer: { ...this.options.committer, timestamp: Date.now() / 1000 },
        message: commit.message,
      }));
      await engine.writeObjects([...objects, encoded]);
      head = encoded.oid;
      this.headTree = { commit: head, tree: root };
      rebuilt.push({ ...commit, changes: effective });
    }
    this.pending = rebuilt;
    this.head = head;
    if (head) await engine.writeBranch(this.options.branch, head);
  }

  /**
   * Commits on `local` that `remote` lacks (oldest first), or 'behind' when local is an ancestor of
   * remote. Follows first parents; our writer never makes merges.
   */
  private async localOnlyCommits(local: string, remote: string | undefined): Promise<PendingCommit[] | 'behind'> {
    const engine = this.options.engine;
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
    const pending: PendingCommit[] = [];
    for (const { oid, parent } of mine.reverse()) {
      const commit = await engine.readCommit(oid);
      const parentTree = parent ? (await engine.readCommit(parent)).tree : undefined;
      pending.push({ changes: await this.trees.diff(parentTree, commit.tree), message: commit.message, author: commit.author });
    }
    return pending;
  }

  private async treeOf(commit: string | undefined): Promise<string | undefined> {
    if (!commit) return undefined;
    if (this.headTree?.commit === commit) return this.headTree.tree;
    const tree = (await this.options.engine.readCommit(commit)).tree;
    this.headTree = { commit, tree };
    return tree;
  }

  private remoteFailure(error: unknown): string {
    const kind = error instanceof GitRemoteError ? error.kind : 'other';
    const code = kind === 'auth' ? GitErrorCodes.AUTH : kind === 'unreachable' ? GitErrorCodes.REMOTE_UNREACHABLE : kind === 'rejected' ? GitErrorCodes.PUSH_REJECTED : GitErrorCodes.REPO;
    const fix =
      kind === 'auth'
        ? 'check providers[].auth (username/password or token) and that it may push to this repository'
        : kind === 'unreachable'
          ? 'check the URL and that the git server is up; changes are kept and retried'
          : 'see the message; changes are kept and retried';
    const reason = grError(code, errorText(error), { fix }).describe();
    this.setState({ ok: false, reason, code, pendingCommits: this.pending.length });
    return reason;
  }

  /** Logs only when the state changes, so an outage is one line, not one per retry. */
  private setState(next: WriterState): void {
    const previous = this.state;
    this.state = next;
    this.options.onRemoteState?.(next.ok, next.pendingCommits);
    if (previous.ok === next.ok && previous.code === next.code) return;
    const where = { partition: this.options.partitionKey, code: next.code, pendingCommits: next.pendingCommits };
    if (next.ok) this.options.logger.info(where, `git writer for ${this.options.partitionKey} is healthy again`);
    else this.options.logger.error(where, `git writer for ${this.options.partitionKey} cannot write: ${next.reason}`);
  }
}
