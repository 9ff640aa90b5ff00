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
 * When in the life of a selection a change was seen.
 * - `seed`: part of a snapshot, a full listing of the current state (start-up, a rule change);
 *   carries `snapshotId`.
 * - `live`: a write observed as it happened.
 * - `sweep`: an object found missing when the live state was compared with what was known (a relist).
 */
export type ChangePhase = 'seed' | 'live' | 'sweep';

/**
 * Which kind of source observed a change, as a word: `watch` (list+watch), `audit` (an audit
 * webhook), `admission` (an admission webhook), or any adapter's own (e.g. `cloudtrail`). Open on
 * purpose: a new kind of source names itself instead of posing as an existing one. The kernel gives
 * no word a meaning of its own; it is carried for logs, metrics and sinks.
 */
export type ObservedBy = 'watch' | 'audit' | 'admission' | (string & {});

/** How the actor of a change is known: which kind of source named them, and that source's id of the write. */
export interface Attribution {
  /** The `observedBy` word of the source that knew the actor (`audit`, `admission`, ...). */
  readonly by: ObservedBy;
  /** That source's id of the write (an audit ID, an admission request UID), for the commit trailers. */
  readonly id: string;
}

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
  readonly phase: ChangePhase;
  readonly observedBy: ObservedBy;
  /** Who made the change, when known (a source that sees it, or a fact joined by the kernel). */
  readonly actor?: Actor;
  /** How `actor` is known; set together with it. */
  readonly attribution?: Attribution;
  /** Seed events: which snapshot they belong to (set by the kernel's SnapshotWriter). */
  readonly snapshotId?: string;
  /**
   * Set by the kernel on upserts it publishes: a keyed hash (HMAC-SHA-256) of the sanitized content,
   * so a fact about a write seen before it was stored (admission) can find the change it made. Never
   * an unkeyed hash of a protected object's plaintext: without `attribution.contentKeyFile`, protected
   * objects get none.
   */
  readonly contentHash?: string;
  /**
   * Set by the kernel from the object's `managedFields` before sanitizing: the manager of its latest
   * write (`kubectl-client-side-apply`, `helm`, `kustomize-controller`, ...). Shown beside a commit
   * nobody is known to have authored; never taken for the author.
   */
  readonly fieldManager?: string;
  /**
   * The labels of the object's namespace when the event was seen, set by a source that knows them
   * (source-informer does when a rule has a `namespaceSelector`). A rule with a `namespaceSelector`
   * never selects an event without them. Used for routing only: the kernel does not put them on the bus.
   */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
}
