import type { ChangeEvent } from './change-event.js';

/** A change routed to one target. */
export interface ChangeMessage {
  readonly kind: 'change';
  /** Target name (config `targets[].name`). */
  readonly target: string;
  readonly event: ChangeEvent;
  /**
   * Upserts: `event.object` rendered as the deterministic YAML file content (set by the kernel, which
   * renders each event once). Sinks write this text instead of rendering the object again.
   */
  readonly yaml?: string;
}

/**
 * Published after the last seed event of a snapshot, once per target the snapshot covers (also when
 * it routed no object there). It tells the writer the snapshot is complete: the seed events before it
 * become one commit, and with prune: Always files of objects not in the snapshot are removed.
 */
export interface SnapshotMessage {
  readonly kind: 'snapshot';
  readonly target: string;
  readonly snapshotId: string;
  /** How many seed events of this snapshot were routed to this target. */
  readonly objectCount: number;
  /**
   * True when the source could not list all of this target's selection (a type was forbidden or
   * failed): the seed events are the objects it did see, and nothing may be pruned on its basis.
   */
  readonly partial?: boolean;
  readonly clusterId: string;
  readonly completedAt: string;
}

export type BusMessage = ChangeMessage | SnapshotMessage;
