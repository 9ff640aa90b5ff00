import type { GitopsReverserConfig, RuleConfig, TargetConfig } from '../config/config-types.js';
import type { ChangeEvent } from '../model/change-event.js';
import type { AdapterHealth } from './adapter-health.js';

/** What the sources should observe: the rules, and the targets they feed. */
export interface Selection {
  readonly rules: readonly RuleConfig[];
  readonly targets: readonly TargetConfig[];
}

/** A running snapshot (seed): emit the current state, then complete it. */
export interface SnapshotWriter {
  readonly snapshotId: string;
  /** Emits one object of the current state (origin `seed`). Waits for bus capacity. */
  emit(event: Omit<ChangeEvent, 'origin' | 'snapshotId'>): Promise<void>;
  /**
   * All objects were emitted: each covered target gets its snapshot marker. `partialTargets`: targets
   * whose selection could not be listed completely (their markers say so; writers then prune nothing).
   */
  complete(options?: { partialTargets?: readonly string[] }): Promise<void>;
}

export interface SourceContext {
  readonly clusterId: string;
  readonly config: GitopsReverserConfig;
  readonly selection: Selection;
  readonly logger: import('../runtime/logger.js').Logger;
  readonly metrics: import('../runtime/metrics.js').KernelMetrics;
  /** Hands one change to the kernel; resolves when it is on the bus (waits for capacity, never drops). */
  emit(event: ChangeEvent): Promise<void>;
  /**
   * Starts a snapshot covering `targets` (default: every target with rules). Its events reach only
   * those targets; other targets see nothing of it.
   */
  beginSnapshot(targets?: readonly string[]): SnapshotWriter;
}

export interface Source {
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
