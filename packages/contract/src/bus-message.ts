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
  /**
   * Set by the kernel on a seed event whose object already has a newer state written (a snapshot taken
   * by another replica can lag behind what a faster one sent): write nothing for it, but count the
   * object as present in the snapshot (so pruning keeps its file).
   */
  readonly superseded?: boolean;
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

/**
 * Who made a change (from an audit event), routed to the partition that writes the object so its
 * writer can author the commit of the matching watch event; works the same with several replicas,
 * since the fact travels the bus instead of living in one process. Consumed by the kernel's partition
 * worker; sinks never see it.
 */
export interface AttributionMessage {
  readonly kind: 'attribution';
  readonly target: string;
  readonly fact: AttributionFact;
}

/** One write the API server audited: the object, the resourceVersion it produced, and its actor. */
export interface AttributionFact {
  readonly identity: import('./identity.js').ResourceIdentity;
  readonly operation: 'upsert' | 'delete';
  /** The resourceVersion the write produced ("" when unknown, e.g. some deletes). */
  readonly resourceVersion: string;
  /**
   * Deletes: `metadata.uid` of the deleted object (from the response: the object, or the Status
   * details). It matches the delete to this one incarnation of the name, not a later one.
   */
  readonly uid?: string;
  readonly actor: import('./change-event.js').Actor;
  readonly auditId: string;
  /** ISO 8601 time of the write (the audit event's stageTimestamp). */
  readonly at: string;
}

export type BusMessage = ChangeMessage | SnapshotMessage | AttributionMessage;
