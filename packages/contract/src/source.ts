import type { AdapterHealth } from './adapter-health.js';
import type { AttributionFact } from './bus-message.js';
import type { ChangeEvent } from './change-event.js';
import type { Logger, Metrics } from './observability.js';
import type { Selection } from './selection.js';

/** A running snapshot (seed): emit the current state, then complete it. */
export interface SnapshotWriter {
  readonly snapshotId: string;
  /** Emits one object of the current state (the kernel sets phase `seed` and the snapshot id). Waits for bus capacity. */
  emit(event: Omit<ChangeEvent, 'phase' | 'snapshotId'>): Promise<void>;
  /**
   * All objects were emitted: each covered target gets its snapshot marker. `partialTargets`: targets
   * whose selection could not be listed completely (their markers say so; writers then prune nothing).
   */
  complete(options?: {
    partialTargets?: readonly string[];
    /**
     * Per type (`<group>/<resource>`, the core group empty: `/configmaps`, `apps/deployments`), the
     * resourceVersion the emitted state of that type is as of (its list's). Writers then keep the file
     * of an object they wrote at a newer resourceVersion, which another replica saw after this one
     * listed (ADR 0040). Omitted: such files may be pruned until the object's next change.
     */
    resourceVersions?: Readonly<Record<string, string>>;
  }): Promise<void>;
}

export interface SourceContext {
  /**
   * The cluster this source instance observes (`sources[].cluster`): every identity it emits must
   * carry it. The kernel refuses events and facts of another cluster (GR_ERR_EVENT_FOREIGN_CLUSTER).
   */
  readonly clusterId: string;
  /** Rules for this cluster; a getter: after a reload it returns the new selection. */
  readonly selection: Selection;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * Hands one change to the kernel; resolves when it is on the bus (waits for capacity, never drops).
   * Never rejects for a bad event: the kernel logs and counts it.
   */
  emit(event: ChangeEvent): Promise<void>;
  /**
   * Starts a snapshot covering `targets` (default: every target with rules for this cluster). Its
   * events reach only those targets; other targets see nothing of it.
   */
  beginSnapshot(targets?: readonly string[]): SnapshotWriter;
  /**
   * Hands over who made a write (an audit or admission source does): routed like the object's
   * changes, so the writer of each target authors the matching change's commit with this actor.
   * Resolves when on the bus. Never rejects for a bad fact: the kernel logs and counts it.
   */
  attribute(fact: AttributionFact): Promise<void>;
}

export interface Source {
  /**
   * True for a source that calls `attribute()`: writers then hold live changes without an actor for up
   * to `attribution.waitMs` for their fact to arrive.
   */
  readonly attributes?: boolean;
  /**
   * Set by a source whose facts name the exact write (an audit stream: the resourceVersion a write
   * produced): the `by` word of its facts. With such a source configured, writers wait up to
   * `attribution.waitMs` for its fact even when a fact of another kind already matched (an admission
   * webhook's content match), so the exact match wins and each change is attributed once.
   */
  readonly exactAttributionBy?: string;
  start(context: SourceContext): Promise<void>;
  /** Stop observing and release every connection. Events already emitted stay on the bus. */
  stop(): Promise<void>;
  health(): AdapterHealth;
  /**
   * The rules changed (config reload). `changedTargets` lists targets whose selection changed; the
   * source reseeds them. Sources without it are restarted by the kernel.
   */
  updateSelection?(selection: Selection, changedTargets: readonly string[]): Promise<void>;
}
