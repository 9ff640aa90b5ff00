import type { GitopsReverserConfig } from '../config/config-types.js';
import type { RouteTable } from '../routing/route-table.js';
import type { AdapterHealth } from './adapter-health.js';
import type { BusMessage } from './bus-message.js';

export interface SinkItem {
  readonly message: BusMessage;
  /** Delivery attempt, 1 = first. */
  readonly attempt: number;
}

/** Messages of one partition, in order, as the kernel's window grouped them. */
export interface SinkBatch {
  readonly partitionKey: string;
  readonly items: readonly SinkItem[];
}

/**
 * What happened to one item.
 * - `applied`: written (and pushed, for a remote); the kernel acks it.
 * - `unchanged`: nothing to write (content already there); acked.
 * - `retry`: not written yet (remote down, conflict); the kernel nacks it and every later item.
 * - `rejected`: can never be written (e.g. a path outside the target); acked away and reported.
 */
export type SinkOutcome =
  | { readonly status: 'applied' | 'unchanged' }
  | { readonly status: 'retry'; readonly reason: string; readonly delayMs?: number }
  | { readonly status: 'rejected'; readonly reason: string };

/** How the kernel should group messages before calling `apply` (the sink itself never waits for more). */
export interface BatchPolicy {
  /** Collect messages this long after the first one before applying; 0 = apply what is there now. */
  readonly windowMs: number;
  /** Close the window early once this many bytes are collected. */
  readonly maxBytes: number;
}

export interface SinkContext {
  readonly config: GitopsReverserConfig;
  readonly routes: RouteTable;
  readonly logger: import('../runtime/logger.js').Logger;
  readonly metrics: import('../runtime/metrics.js').KernelMetrics;
}

/**
 * Writes batches of one partition. Must not throw out of `apply`: report an outcome per item.
 * Must not batch on its own: the kernel's window decides what arrives together.
 */
export interface Sink {
  readonly batchPolicy: BatchPolicy;
  start(context: SinkContext): Promise<void>;
  apply(batch: SinkBatch): Promise<readonly SinkOutcome[]>;
  /** Finish writes in progress (push pending commits). Called on shutdown after the bus drained. */
  flush(): Promise<void>;
  stop(): Promise<void>;
  health(): AdapterHealth;
}
