import type { KubeObject, ResourceIdentity } from './identity.js';

/** Who made a change, when the source knows it (the audit source does; a watch does not). */
export interface Actor {
  readonly username: string;
  /** Display name for commits, when the source maps the user to one (else the username). */
  readonly name?: string;
  /** Email for commits, when known (else derived from the username). */
  readonly email?: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
  /** Set when the request was impersonated: the user who really sent it. */
  readonly impersonatedBy?: { readonly username: string; readonly uid?: string };
}

/**
 * Which kind of source observed a change.
 * - `watch`: a list+watch stream.
 * - `audit`: an audit webhook event (knows the actor).
 * - `seed`: a full listing of the current state (start-up or a rule change); part of a snapshot.
 * - `sweep`: an object found missing when the live state was compared with what was known.
 */
export type EventOrigin = 'watch' | 'audit' | 'seed' | 'sweep';

export type ChangeOperation = 'upsert' | 'delete';

/**
 * One observed change of one object. It is plain data (JSON-serializable) so a durable bus can carry
 * it unchanged.
 */
export interface ChangeEvent {
  readonly identity: ResourceIdentity;
  readonly operation: ChangeOperation;
  /** True when the source knows the upsert created the object. */
  readonly created: boolean;
  /**
   * The full object for an upsert. For a delete, the last state known, when the source has it.
   * After the normalizer chain it is the sanitized (and possibly encrypted) object.
   */
  readonly object?: KubeObject;
  readonly resourceVersion: string;
  /**
   * `metadata.uid` of the object (the kernel reads it from `object` when the source leaves it out).
   * It tells apart two objects that had the same name one after the other: a delete is matched to
   * the fact of who deleted it by this uid.
   */
  readonly uid?: string;
  /** ISO 8601 time the source observed the change. */
  readonly observedAt: string;
  readonly origin: EventOrigin;
  readonly actor?: Actor;
  readonly auditId?: string;
  /** Set on `seed` events: which snapshot they belong to. */
  readonly snapshotId?: string;
  /** xxhash64 (hex) of the sanitized object, set by the kernel before the event is published. */
  readonly contentHash?: string;
}
