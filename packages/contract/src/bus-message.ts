import type { Actor, ChangeEvent, ChangeOperation, ObservedBy } from './change-event.js';
import type { KubeObject, ResourceIdentity } from './identity.js';

/**
 * A change routed to one target. On the bus `event.object` is the object in its stored form (after
 * the normalizers, encrypted where an encoder protects it); the file text is rendered from it where
 * it is written, so the bus never carries the content twice.
 */
export interface ChangeMessage {
  readonly kind: 'change';
  /** Target name (config `targets[].name`). */
  readonly target: string;
  readonly event: ChangeEvent;
}

/**
 * Published after the last seed event of a snapshot, once per target the snapshot covers (also when
 * it routed no object there). It tells the writer the snapshot is complete: the seed events before it
 * become one commit, and with prune: Always files of objects not in the snapshot are removed.
 */
export interface SnapshotEndMessage {
  readonly kind: 'snapshot-end';
  readonly target: string;
  readonly snapshotId: string;
  /** How many seed events of this snapshot were routed to this target. */
  readonly objectCount: number;
  /**
   * True when the target's selection was not seen completely: the source could not list all of it
   * (a type was forbidden or failed), or the kernel refused one of its objects (a normalizer threw,
   * an unprotected Secret, an invalid object). Writers prune nothing on its basis.
   */
  readonly partial?: boolean;
  readonly clusterId: string;
  readonly completedAt: string;
  /**
   * Per type (`<group>/<resource>`, the core group empty), the resourceVersion the snapshot shows it
   * as of (`SnapshotWriter.complete`): a change of that type with a newer one happened after it.
   */
  readonly resourceVersions?: Readonly<Record<string, string>>;
}

/**
 * Who made a write, routed to the partition that writes the object so its writer can author the
 * matching change's commit; works the same with several replicas, since the fact travels the bus
 * instead of living in one process. Consumed by the kernel's partition worker: sinks never see it.
 */
export interface AttributionMessage {
  readonly kind: 'attribution';
  readonly target: string;
  readonly fact: AttributionFact;
}

/** One write a source saw the author of (an audit event, an admission request). */
export interface AttributionFact {
  readonly identity: ResourceIdentity;
  readonly operation: ChangeOperation;
  /** The resourceVersion the write produced ("" when unknown, e.g. deletes). Upserts are matched on it. */
  readonly resourceVersion: string;
  /**
   * Deletes: `metadata.uid` of the deleted object. A delete is matched on it, so the fact describes
   * this one incarnation of the name, never a later object of the same name.
   */
  readonly uid?: string;
  readonly actor: Actor;
  /**
   * A source that sees a write before it is stored (an admission webhook) gives the object as the
   * write will store it, and no resourceVersion: the kernel sanitizes and hashes it exactly as it
   * hashes changes (`contentHash`) and drops the object; it never travels the bus.
   */
  readonly object?: KubeObject;
  /** Set by the kernel from `object`: matched against the `contentHash` of changes of the object. */
  readonly contentHash?: string;
  /**
   * An update seen before it was stored whose resulting content is not known (a `scale` subresource
   * write): the resourceVersion it replaced. It matches the change that directly followed that version.
   */
  readonly baseResourceVersion?: string;
  /** The `observedBy` word of the source that saw the write (`audit`, `admission`, ...). */
  readonly by: ObservedBy;
  /** That source's id of the write (audit ID, admission request UID): it reaches the commit trailers. */
  readonly id: string;
  /** ISO 8601 time of the write. */
  readonly at: string;
}

/** What travels the bus. */
export type BusMessage = ChangeMessage | SnapshotEndMessage | AttributionMessage;
