import { grError, identityKey, type KubeObject, type ResourceIdentity, type SinkChange, type SinkItem, type SinkOutcome } from '@gitops-reverser/contract';
import { GitErrorCodes } from './git-error-codes.js';
import type { GitTarget } from './git-target.js';
import { isSopsObject } from './sops-files.js';
import type { WriteRefusal } from './write-refusal.js';

/**
 * One object write resolved from a message: its new state, or a delete. Where it lands is decided
 * when the commit is built (file-placement.ts): the document that holds the object wherever it
 * lives, else `path`.
 */
export interface FileWrite {
  readonly itemIndex: number;
  /** The object's file at the target's layout, for its state (plain or `.sops.yaml`): where a new object goes. */
  readonly path: string;
  /** The object's other file variant at the layout (`.yaml` vs `.sops.yaml`), removed when present. */
  readonly alsoDelete?: string;
  /** Set for SOPS-encrypted objects: their `sops` block (for the folder's `.sops.yaml`). */
  readonly sops?: Record<string, unknown>;
  /** The kernel's rendering of the object (`message.yaml`); null for a delete. */
  readonly yaml: string | null;
  /** The object as data (upserts): what an in-place edit makes a document hold. */
  readonly object?: KubeObject;
  readonly identity: ResourceIdentity;
  readonly event: SinkChange['event'];
}

/** A write a person's file stopped, with what that file was when it did (its blob or folder id; none: absent). */
export interface PlannedRefusal extends WriteRefusal {
  readonly identity: ResourceIdentity;
  readonly blob?: string;
}

/** What one commit will contain, before anything is read from or written to git. */
export interface PlannedCommit {
  kind: 'event' | 'group' | 'seed';
  readonly target: GitTarget;
  /** Indexes of the batch items this commit settles. */
  readonly items: number[];
  readonly writes: FileWrite[];
  /** Seeds: the snapshot end, when it arrived. */
  end?: { index: number; objectCount: number; clusterId: string; partial: boolean };
  /** Username of the actor: consecutive writes of one author share a commit when grouping. */
  readonly authorKey: string;
  /** Seeds: items of the snapshot that were rejected; they count as seen, so they never block pruning. */
  rejected?: number;
  /** Seeds: objects whose newer state is already written (superseded seeds, the end's `newerWritten`): kept, never pruned. */
  kept?: ResourceIdentity[];
  /** Seeds: how many objects `kept` holds. */
  keptObjects?: number;
  /**
   * Items whose object a person's file stopped when the commit was last built (write-refusal.ts):
   * set by each build, so a replay on a moved remote reports what that placement found.
   */
  refused?: Map<number, PlannedRefusal>;
}

export interface PlanOptions {
  readonly partitionKey: string;
  /** Consecutive events of one author on one target share a commit (commit window > 0). */
  readonly grouping: boolean;
}

/**
 * Groups a batch into commits and resolves each change to a file write. Pure: no git access. Items
 * that can never be written get their `rejected` outcome here; the rest stay `unchanged` until a
 * commit settles them.
 */
export function planCommits(items: readonly SinkItem[], targets: ReadonlyMap<string, GitTarget>, outcomes: SinkOutcome[], options: PlanOptions): PlannedCommit[] {
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
      outcomes[index] = { status: 'rejected', reason: `target "${message.target}" is not configured on ${options.partitionKey}` };
      return;
    }
    if (message.kind === 'snapshot-end') {
      const plan = snapshotPlan(message.target, message.snapshotId, target);
      plan.items.push(index);
      plan.end = { index, objectCount: message.objectCount, clusterId: message.clusterId, partial: message.partial === true };
      // Written after the snapshot's source listed (the kernel says which): kept, not counted as its objects.
      if (message.newerWritten && message.newerWritten.length > 0) (plan.kept ??= []).push(...message.newerWritten);
      return;
    }
    if (message.superseded && message.event.snapshotId) {
      // A newer state of this object is written already: keep its file, write nothing.
      const plan = snapshotPlan(message.target, message.event.snapshotId, target);
      plan.items.push(index);
      const placed = target.layout.pathOf(target.path, message.event.identity);
      if ('problem' in placed) plan.rejected = (plan.rejected ?? 0) + 1;
      else {
        (plan.kept ??= []).push(message.event.identity);
        plan.keptObjects = (plan.keptObjects ?? 0) + 1;
      }
      return;
    }
    const write = resolveWrite(message, index, target, outcomes);
    if (message.event.snapshotId) {
      const plan = snapshotPlan(message.target, message.event.snapshotId, target);
      plan.items.push(index);
      if (write) plan.writes.push(write);
      else if (outcomes[index]?.status === 'rejected') plan.rejected = (plan.rejected ?? 0) + 1;
      return;
    }
    if (!write) return;
    const authorKey = message.event.actor?.username ?? '';
    const last = plans[plans.length - 1];
    if (options.grouping && last && last.kind !== 'seed' && last.target === target && last.authorKey === authorKey) {
      last.kind = 'group';
      last.items.push(index);
      last.writes.push(write);
    } else {
      plans.push({ kind: 'event', target, items: [index], writes: [write], authorKey });
    }
  });
  return plans;
}

/** The objects a seed plan accounts for: written, rejected (seen, no file) and superseded (kept). */
export function seedObjectCount(plan: PlannedCommit): number {
  return plan.writes.length + (plan.rejected ?? 0) + (plan.keptObjects ?? 0);
}

/** A seed plan that holds its whole snapshot: its end arrived, not partial, and every object it counted is here. */
export function snapshotComplete(plan: PlannedCommit): boolean {
  return plan.kind === 'seed' && plan.end !== undefined && !plan.end.partial && plan.end.objectCount === seedObjectCount(plan);
}

/** Targets whose complete snapshot the plans hold: written from them, those targets are the source's current state. */
export function completeSnapshotTargets(plans: readonly PlannedCommit[]): Set<string> {
  return new Set(plans.filter(snapshotComplete).map((plan) => plan.target.name));
}

/** The file write of a change, or undefined with its outcome set (rejected, or a delete not mirrored). */
function resolveWrite(message: SinkChange, index: number, target: GitTarget, outcomes: SinkOutcome[]): FileWrite | undefined {
  const { event } = message;
  const placed = target.layout.pathOf(target.path, event.identity);
  if ('problem' in placed) {
    const error = grError(GitErrorCodes.PATH_ESCAPE, `${identityKey(event.identity)} cannot be written: ${placed.problem}`);
    outcomes[index] = { status: 'rejected', reason: error.describe() };
    return undefined;
  }
  // Both names are this object's own (sops-files.ts): removing the other one never touches another object's file.
  const { path: plain, encrypted: sopsPath } = placed;
  if (event.operation === 'delete') {
    if (target.prune === 'Never') return undefined; // deletes are not mirrored on this target
    return { itemIndex: index, path: plain, ...(sopsPath ? { alsoDelete: sopsPath } : {}), yaml: null, identity: event.identity, event };
  }
  const encrypted = isSopsObject(event.object);
  if (typeof message.yaml !== 'string') {
    outcomes[index] = { status: 'rejected', reason: `${identityKey(event.identity)}: an upsert without its rendered yaml cannot be written (messages come from the kernel's ingest)` };
    return undefined;
  }
  const path = encrypted && sopsPath ? sopsPath : plain;
  const alsoDelete = sopsPath ? (encrypted ? plain : sopsPath) : undefined;
  return {
    itemIndex: index,
    path,
    ...(alsoDelete ? { alsoDelete } : {}),
    ...(encrypted ? { sops: event.object?.['sops'] as Record<string, unknown> } : {}),
    yaml: message.yaml,
    ...(event.object ? { object: event.object } : {}),
    identity: event.identity,
    event,
  };
}
