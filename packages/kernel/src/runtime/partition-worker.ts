import type { Delivery, PartitionLease } from '../contracts/bus.js';
import type { Sink, SinkOutcome } from '../contracts/sink.js';
import { errorText } from '../errors.js';
import { identityKey } from '../model/identity.js';
import type { Logger } from './logger.js';
import type { KernelMetrics } from './metrics.js';

export interface PartitionWorkerOptions {
  readonly lease: PartitionLease;
  readonly sink: Sink;
  readonly logger: Logger;
  readonly metrics: KernelMetrics;
  /** Most messages fetched at once. */
  readonly fetchMax?: number;
  /** How long to hold an incomplete snapshot waiting for its marker before applying what came. */
  readonly snapshotWaitMs?: number;
}

const IDLE_WAIT_MS = 500;

/** Retry delay after a failed attempt: 0.5 s doubling to 30 s, with jitter so replicas spread out. */
export function retryDelayMs(attempt: number): number {
  const base = Math.min(30_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * Consumes one partition (one repo+branch) and feeds its sink in order. It decides what arrives
 * together: a commit window (the sink's batchPolicy), and a snapshot's seed events held until their
 * marker so they become one commit. Acks only what the sink reports written.
 */
export class PartitionWorker {
  private readonly stopController = new AbortController();
  private running: Promise<void> | undefined;

  constructor(private readonly options: PartitionWorkerOptions) {}

  get partitionKey(): string {
    return this.options.lease.partitionKey;
  }

  start(): void {
    this.running ??= this.loop().catch((error) => {
      this.options.logger.error({ partition: this.partitionKey, err: errorText(error) }, `partition worker stopped on an error: ${errorText(error)}`);
    });
  }

  /** Stops after the batch in progress; unsettled deliveries are nacked so they are redelivered. */
  async stop(): Promise<void> {
    this.stopController.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { lease, sink } = this.options;
    const signal = AbortSignal.any([this.stopController.signal, lease.revoked]);
    let buffer: Delivery[] = [];
    let windowOpenedAt = 0;
    let bytes = 0;
    try {
      while (!signal.aborted) {
        const policy = sink.batchPolicy;
        const elapsed = Date.now() - windowOpenedAt;
        const maxWaitMs =
          buffer.length === 0 || this.hasOpenSnapshot(buffer, windowOpenedAt) ? IDLE_WAIT_MS : Math.max(0, policy.windowMs - elapsed);
        const fetched = await lease.fetch({ max: this.options.fetchMax ?? 1000, maxWaitMs, signal });
        if (fetched.length > 0) {
          if (buffer.length === 0) windowOpenedAt = Date.now();
          buffer.push(...fetched);
          for (const delivery of fetched) bytes += delivery.sizeBytes;
        }
        if (buffer.length === 0 || this.hasOpenSnapshot(buffer, windowOpenedAt)) continue;
        if (policy.windowMs > 0 && Date.now() - windowOpenedAt < policy.windowMs && bytes < policy.maxBytes) continue;
        await this.apply(buffer);
        buffer = [];
        bytes = 0;
      }
    } finally {
      // Stopped mid-window: give the messages back, in order, for whoever consumes next.
      for (const delivery of buffer) await delivery.nack(0).catch(() => undefined);
    }
  }

  /**
   * True while a snapshot in the buffer lacks its marker (and is neither superseded by a newer
   * snapshot of the same target nor waiting longer than snapshotWaitMs).
   */
  private hasOpenSnapshot(buffer: readonly Delivery[], since: number): boolean {
    const latestSnapshot = new Map<string, string>();
    const completed = new Set<string>();
    for (const { message } of buffer) {
      if (message.kind === 'snapshot') completed.add(`${message.target}|${message.snapshotId}`);
      else if (message.event.snapshotId) latestSnapshot.set(message.target, message.event.snapshotId);
    }
    for (const [target, snapshotId] of latestSnapshot) {
      if (completed.has(`${target}|${snapshotId}`)) continue;
      if (Date.now() - since > (this.options.snapshotWaitMs ?? 600_000)) {
        this.options.logger.warn({ partition: this.partitionKey, target, snapshotId }, 'snapshot marker did not arrive in time; applying the seed events received so far');
        return false;
      }
      return true;
    }
    return false;
  }

  private async apply(deliveries: readonly Delivery[]): Promise<void> {
    const { sink, logger, metrics } = this.options;
    const partition = this.partitionKey;
    const stopTimer = metrics.sinkApplySeconds.startTimer({ partition });
    let outcomes: readonly SinkOutcome[];
    try {
      outcomes = await sink.apply({ partitionKey: partition, items: deliveries.map((d) => ({ message: d.message, attempt: d.attempt })) });
    } catch (error) {
      // A sink must not throw; if one does, nothing is assumed written.
      logger.error({ partition, err: errorText(error) }, `sink threw instead of reporting outcomes; retrying the batch: ${errorText(error)}`);
      outcomes = deliveries.map(() => ({ status: 'retry', reason: errorText(error) }));
    }
    stopTimer();
    if (outcomes.length !== deliveries.length) {
      logger.error({ partition, expected: deliveries.length, got: outcomes.length }, 'sink returned the wrong number of outcomes; retrying the ones without one');
    }

    let retryFrom: { reason: string; delayMs: number } | undefined;
    for (const [index, delivery] of deliveries.entries()) {
      const outcome: SinkOutcome = outcomes[index] ?? { status: 'retry', reason: 'no outcome reported' };
      if (retryFrom) {
        // Keep partition order: everything after a retry is retried after it.
        await delivery.nack(retryFrom.delayMs);
        metrics.sinkOutcomes.inc({ partition, status: 'retry' });
        continue;
      }
      metrics.sinkOutcomes.inc({ partition, status: outcome.status });
      switch (outcome.status) {
        case 'applied':
        case 'unchanged':
          await delivery.ack();
          break;
        case 'rejected':
          logger.error({ partition, message: describe(delivery), reason: outcome.reason }, `sink rejected ${describe(delivery)}: ${outcome.reason}`);
          await delivery.reject(outcome.reason);
          break;
        case 'retry': {
          retryFrom = { reason: outcome.reason, delayMs: outcome.delayMs ?? retryDelayMs(delivery.attempt) };
          logger.warn({ partition, attempt: delivery.attempt, reason: outcome.reason, retryInMs: retryFrom.delayMs }, `write not done, will retry: ${outcome.reason}`);
          await delivery.nack(retryFrom.delayMs);
          break;
        }
      }
    }
  }
}

function describe(delivery: Delivery): string {
  const message = delivery.message;
  if (message.kind === 'snapshot') return `snapshot ${message.snapshotId} marker for target ${message.target}`;
  return `${message.event.operation} of ${identityKey(message.event.identity)} for target ${message.target}`;
}
