import type { AdapterHealth } from './adapter-health.js';
import type { ChangeMessage, SnapshotEndMessage } from './bus-message.js';
import type { ResourceIdentity } from './identity.js';
import type { Logger, Metrics } from './observability.js';
import type { TargetConfig } from './selection.js';

/**
 * Where a sink writes: one ordered stream of messages (for git: one branch of one repository). The
 * sink defines partitions in `planTargets`; the bus partitions by `key`, so one writer at a time
 * applies a partition's messages in order. A sink may extend this with its own fields (repository,
 * branch, ...): batches carry back the object it returned.
 */
export interface SinkPartition {
  /** Stable across restarts and replicas; no credentials (it appears in logs and metric labels). */
  readonly key: string;
}

/** Something wrong with one target's options, found by `planTargets`. */
export interface TargetProblem {
  /** The target's name. */
  readonly target: string;
  /** Key path inside the target entry, e.g. `with.branch` ("" for the entry itself). */
  readonly path: string;
  readonly code: string;
  readonly message: string;
  readonly fix?: string;
}

export interface TargetPlan<P extends SinkPartition = SinkPartition> {
  /** The partition of every target the sink can serve, by target name. */
  readonly partitions: ReadonlyMap<string, P>;
  /** Targets it cannot serve, and why. Any problem makes the config invalid. */
  readonly problems: readonly TargetProblem[];
}

/**
 * A change as a sink receives it: the bus message, plus what the kernel adds where it hands it over.
 * Why the content is here twice (the object and its text): `yaml` is the kernel's one deterministic
 * rendering, the bytes no-op detection compared (a sink that writes files writes exactly these);
 * `event.object` is the same content as data, for sinks that store structure (a database, JSON lines)
 * and for fields a file writer reads (sink-git reads the `sops` block). Only the object travels the
 * bus; the text is rendered in the process that writes.
 */
export interface SinkChange extends ChangeMessage {
  /** Upserts: `event.object` rendered as the file content. Unset for deletes. */
  readonly yaml?: string;
  /**
   * Set by the kernel on a seed event whose object already has a newer state written (a snapshot taken
   * by another replica can lag behind what a faster one sent): write nothing for it, but count the
   * object as present in the snapshot (so pruning keeps its file).
   */
  readonly superseded?: boolean;
}

/** A snapshot end as a sink receives it: the bus message, plus what the kernel knows of newer writes. */
export interface SinkSnapshotEnd extends SnapshotEndMessage {
  /**
   * Set by the kernel: objects not in the snapshot that were written at a newer resourceVersion than
   * the snapshot shows their type as of (created or changed after another replica listed, ADR 0040).
   * A sink that prunes on this snapshot must keep them, like superseded seeds.
   */
  readonly newerWritten?: readonly ResourceIdentity[];
}

/** What sinks receive: changes and snapshot ends. Attribution facts are the kernel's; sinks never see one. */
export type SinkMessage = SinkChange | SinkSnapshotEnd;

export interface SinkItem {
  readonly message: SinkMessage;
  /** Delivery attempt, 1 = first. */
  readonly attempt: number;
}

/** Messages of one partition, in order, as the kernel's window grouped them. */
export interface SinkBatch<P extends SinkPartition = SinkPartition> {
  /**
   * The partition object `planTargets` returned. After a reload removed every target of a partition,
   * messages still on the bus arrive with `{ key }` only: report them `rejected`.
   */
  readonly partition: P | SinkPartition;
  readonly items: readonly SinkItem[];
}

/**
 * What happened to one item.
 * - `applied`: written (and pushed, for a remote); the kernel acks it.
 * - `unchanged`: nothing to write (content already there, or a redelivery already written); acked.
 * - `retry`: not written yet (remote down, conflict); the kernel nacks it and every later item of the
 *   batch, and redelivers them after `delayMs` (default: the kernel's backoff).
 * - `rejected`: can never be written (e.g. a path outside the target); removed and reported.
 * Anything else (no array, a wrong length, an unknown status, a throw) counts as `retry` and is logged
 * with the sink's name.
 */
export type SinkOutcome =
  | { readonly status: 'applied' | 'unchanged' }
  | { readonly status: 'retry'; readonly reason: string; readonly delayMs?: number }
  | { readonly status: 'rejected'; readonly reason: string };

/** How the kernel groups messages before calling `apply` (the sink itself never waits for more). */
export interface BatchPolicy {
  /** Collect messages this long after the first one before applying; 0 = apply what is there now. */
  readonly windowMs: number;
  /** Close the window early once this many bytes are collected (> 0). */
  readonly maxBytes: number;
}

/** A target in effect, with the partition the sink planned for it. */
export interface PlannedTarget<P extends SinkPartition = SinkPartition> {
  readonly target: TargetConfig;
  readonly partition: P;
}

export interface SinkContext<P extends SinkPartition = SinkPartition> {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The targets in effect now (a reload changes them), with their partitions. */
  targets(): readonly PlannedTarget<P>[];
  /**
   * The sink lost, or cannot trust, what it holds for these targets (for git: the remote's history
   * was rewritten, its branch deleted, the repository re-created): the sources seed them again.
   * Returns at once; the kernel logs `reason` once, collects requests for a moment (several
   * partitions finding one loss ask once) and has every source whose selection covers one of the
   * targets write a fresh snapshot of them (a source without `updateSelection` is restarted). Until
   * that snapshot arrives the sink keeps applying what comes; the snapshot brings back every object.
   */
  requestSnapshot(targets: readonly string[], reason: string): void;
}

/**
 * Writes batches of one partition. Must not throw out of `apply`: report an outcome per item, in
 * order. Must not batch on its own: the kernel's window (`batchPolicy`) decides what arrives together.
 * Must be idempotent: a redelivered item that is already written is `unchanged`, not written twice.
 */
export interface Sink<P extends SinkPartition = SinkPartition> {
  readonly batchPolicy: BatchPolicy;
  /**
   * Which partition each target writes to. Pure (no I/O): it runs for `validate`, at start and before
   * a reload takes effect. `targets[].with` is already checked against the descriptor's `targetOptionsSchema`.
   */
  planTargets(targets: readonly TargetConfig[]): TargetPlan<P>;
  start(context: SinkContext<P>): Promise<void>;
  apply(batch: SinkBatch<P>): Promise<readonly SinkOutcome[]>;
  /** Finish writes in progress (push pending commits). Called on shutdown after the bus drained. */
  flush(): Promise<void>;
  stop(): Promise<void>;
  health(): AdapterHealth;
}
