import type { AdapterHealth } from './adapter-health.js';
import type { BusMessage } from './bus-message.js';
import type { Logger, Metrics } from './observability.js';

/** One message handed to a consumer. Settle it exactly once: ack, nack or reject. */
export interface Delivery {
  readonly message: BusMessage;
  readonly partitionKey: string;
  /** 1 on first delivery, +1 on each redelivery. */
  readonly attempt: number;
  /** Serialized size in bytes (drives the commit window's byte limit). */
  readonly sizeBytes: number;
  /** Done: the bus forgets it. */
  ack(): Promise<void>;
  /** Not done: redeliver it (in partition order, before anything published after it), after `delayMs`. */
  nack(delayMs?: number): Promise<void>;
  /** Can never succeed: remove it (to a dead-letter place when the bus has one). */
  reject(reason: string): Promise<void>;
}

export interface FetchOptions {
  /** At most this many deliveries. */
  readonly max: number;
  /** Wait at most this long for the first delivery; [] when none came. */
  readonly maxWaitMs: number;
  readonly signal?: AbortSignal;
}

/**
 * The right to consume one partition. A bus grants it to one consumer at a time (the memory bus to
 * its single process; a durable bus to the replica holding the partition's lease), so one writer
 * applies a (repo, branch) in order.
 */
export interface PartitionLease {
  readonly partitionKey: string;
  /** Next deliveries in partition order; redeliveries of nacked messages come first. */
  fetch(options: FetchOptions): Promise<Delivery[]>;
  /** Aborted when the lease is lost (another replica took over) or the bus stops. */
  readonly revoked: AbortSignal;
}

export interface BusContext {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * Carries routed messages from sources to the writer, partitioned by (repo, branch).
 * At-least-once: a message is redelivered until acked. Ordered per partition. `publish` waits for
 * capacity instead of dropping.
 */
export interface Bus {
  start(context: BusContext): Promise<void>;
  /**
   * Resolves once the message is accepted (durably, for a durable bus). Waits while the partition is
   * full, and retries while the bus is unreachable. The one error that is not waited out: a message
   * the bus can never carry rejects at once with `GR_ERR_BUS_MESSAGE_TOO_LARGE`
   * (`ContractErrorCodes.BUS_MESSAGE_TOO_LARGE`), so one oversized object cannot stall its source.
   */
  publish(partitionKey: string, message: BusMessage, options?: { signal?: AbortSignal }): Promise<void>;
  /** Called for every partition this process may consume, now and as new partitions appear. */
  consume(onPartition: (lease: PartitionLease) => void): void;
  /** Messages not yet acked, per partition key. */
  depth(): ReadonlyMap<string, number>;
  /** Resolves when every published message is acked, or after `timeoutMs` (false then). */
  drain(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
  health(): AdapterHealth;
}
