import {
  backoffDelayMs,
  errorText,
  identityKey,
  type BusMessage,
  type ChangeMessage,
  type Delivery,
  type Logger,
  type PartitionLease,
  type Sink,
  type SinkOutcome,
  type SinkPartition,
} from '@gitops-reverser/contract';
import { ErrorCodes } from '../errors.js';
import { AttributionJoin } from './attribution-join.js';
import type { KernelMetrics } from './metrics.js';

export interface PartitionWorkerOptions {
  readonly lease: PartitionLease;
  readonly sink: Sink;
  /** The sink's instance name, for logs that say whose mistake it was. */
  readonly sinkName: string;
  /** The partition object the sink planned for this key (read per batch: a reload may change it). */
  readonly partition: () => SinkPartition;
  readonly logger: Logger;
  readonly metrics: KernelMetrics;
  /** Most messages fetched at once. */
  readonly fetchMax?: number;
  /** How long to hold an incomplete snapshot waiting for its marker before applying what came. */
  readonly snapshotWaitMs?: number;
  /** How long a watch change without an actor waits for its audit fact (0: no wait, no attribution). */
  readonly attributionWaitMs?: number;
}

/** resourceVersions remembered per worker for the staleness check (bounded, oldest dropped). */
const MAX_NEWEST = 50_000;

const IDLE_WAIT_MS = 500;
const STATUSES: ReadonlySet<string> = new Set(['applied', 'unchanged', 'retry', 'rejected']);

/**
 * Consumes one partition (for git: one repo+branch) and feeds its sink in order. It decides what
 * arrives together: a commit window (the sink's batchPolicy), and a snapshot's seed events held until
 * their marker so they become one commit. Acks only what the sink reports written; whatever else the
 * sink answers counts as `retry`.
 */
export class PartitionWorker {
  private readonly stopController = new AbortController();
  /** Who made each write, waiting for the change it describes. */
  private readonly facts = new AttributionJoin();
  /** Newest resourceVersion written per `{target}|{identityKey}`: an older state is never written over it. */
  private readonly newest = new Map<string, bigint>();
  /** When each buffered delivery was fetched: the attribution wait counts from there. */
  private readonly fetchedAt = new WeakMap<Delivery, number>();

  constructor(private readonly options: PartitionWorkerOptions) {}

  get partitionKey(): string {
    return this.options.lease.partitionKey;
  }

  /** Runs until stopped or the lease is revoked; rejects when something unexpected broke the loop. */
  run(): Promise<void> {
    return this.loop();
  }

  /** Stops after the batch in progress; unsettled deliveries are nacked so they are redelivered. */
  stop(): void {
    this.stopController.abort();
  }

  get stopped(): boolean {
    return this.stopController.signal.aborted || this.options.lease.revoked.aborted;
  }

  private async loop(): Promise<void> {
    const { lease, sink } = this.options;
    const signal = AbortSignal.any([this.stopController.signal, lease.revoked]);
    let buffer: Delivery[] = [];
    let applying: readonly Delivery[] = [];
    let windowOpenedAt = 0;
    let bytes = 0;
    // Kept as messages arrive, not recomputed from the buffer: a seed buffers tens of thousands.
    const snapshots = new OpenSnapshots(this.options.snapshotWaitMs ?? 600_000, (target, snapshotId) =>
      this.options.logger.warn({ partition: this.partitionKey, target, snapshotId }, 'snapshot marker did not arrive in time; applying the seed events received so far'),
    );
    try {
      while (!signal.aborted) {
        const policy = sink.batchPolicy;
        const elapsed = Date.now() - windowOpenedAt;
        const holdMs = this.attributionHoldMs(buffer);
        const maxWaitMs = buffer.length === 0 || snapshots.open(windowOpenedAt) ? IDLE_WAIT_MS : Math.max(0, Math.max(policy.windowMs - elapsed, holdMs));
        const fetched = await this.takeFacts(await lease.fetch({ max: this.options.fetchMax ?? 1000, maxWaitMs, signal }));
        if (fetched.length > 0) {
          if (buffer.length === 0) windowOpenedAt = Date.now();
          buffer.push(...fetched);
          const now = Date.now();
          for (const delivery of fetched) {
            bytes += delivery.sizeBytes;
            this.fetchedAt.set(delivery, now);
            snapshots.add(delivery.message);
          }
        }
        if (buffer.length === 0 || snapshots.open(windowOpenedAt)) continue;
        if (policy.windowMs > 0 && Date.now() - windowOpenedAt < policy.windowMs && bytes < policy.maxBytes) continue;
        // Partition order: a change waiting for its actor holds everything behind it, for at most waitMs.
        if (this.attributionHoldMs(buffer) > 0) continue;
        applying = buffer;
        buffer = [];
        snapshots.clear();
        bytes = 0;
        await this.apply(applying);
        applying = [];
      }
    } finally {
      // Stopped mid-window (or broken mid-batch): give the messages back, in order, for whoever
      // consumes next. Settled deliveries ignore the nack (a delivery settles once).
      for (const delivery of [...applying, ...buffer]) await delivery.nack(0).catch(() => undefined);
    }
  }

  private async apply(deliveries: readonly Delivery[]): Promise<void> {
    const { sink, logger, metrics } = this.options;
    const partition = this.partitionKey;
    const stopTimer = metrics.sinkApplySeconds.startTimer({ partition });
    let outcomes: readonly SinkOutcome[];
    // Older than what was written (from another replica's lagging view): live changes are settled as
    // unchanged without the sink; seed events go with `superseded` so the snapshot still counts them.
    const stale = deliveries.map((d) => this.isStale(d.message));
    // Indexes of the deliveries the sink sees (in order); stale live changes skip it.
    const forSink = deliveries.flatMap((d, i) => (!stale[i] || (d.message.kind === 'change' && d.message.event.origin === 'seed') ? [i] : []));
    try {
      const answer: unknown =
        forSink.length === 0
          ? []
          : await sink.apply({
              partition: this.options.partition(),
              items: forSink.map((i) => {
                const delivery = deliveries[i] as Delivery;
                const message = this.attributed(delivery.message);
                return { message: stale[i] && message.kind === 'change' ? { ...message, superseded: true } : message, attempt: delivery.attempt };
              }),
            });
      const sinkOutcomes = this.checkedOutcomes(answer, forSink.length);
      outcomes = deliveries.map((): SinkOutcome => ({ status: 'unchanged' }));
      forSink.forEach((i, n) => {
        (outcomes as SinkOutcome[])[i] = sinkOutcomes[n] as SinkOutcome;
      });
    } catch (error) {
      // A sink must not throw; if one does, nothing is assumed written.
      metrics.sinkOutcomeErrors.inc({ sink: this.options.sinkName });
      logger.error(
        { partition, sink: this.options.sinkName, code: ErrorCodes.SINK_OUTCOME, err: errorText(error) },
        `sink "${this.options.sinkName}" threw instead of reporting outcomes; retrying the batch: ${errorText(error)}`,
      );
      outcomes = deliveries.map(() => ({ status: 'retry', reason: errorText(error) }));
    }
    stopTimer();

    let retryFrom: { reason: string; delayMs: number } | undefined;
    for (const [index, delivery] of deliveries.entries()) {
      const outcome = outcomes[index] as SinkOutcome;
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
          this.remember(delivery.message);
          this.settleAttribution(delivery);
          await delivery.ack();
          break;
        case 'rejected':
          this.settleAttribution(delivery);
          logger.error({ partition, message: describe(delivery), reason: outcome.reason }, `sink rejected ${describe(delivery)}: ${outcome.reason}`);
          await delivery.reject(outcome.reason);
          break;
        case 'retry': {
          const delayMs = typeof outcome.delayMs === 'number' && outcome.delayMs >= 0 ? outcome.delayMs : backoffDelayMs(delivery.attempt);
          retryFrom = { reason: outcome.reason, delayMs };
          logger.warn({ partition, attempt: delivery.attempt, reason: outcome.reason, retryInMs: delayMs }, `write not done, will retry: ${outcome.reason}`);
          await delivery.nack(delayMs);
          break;
        }
      }
    }
  }

  /** True for a change with a numeric resourceVersion older than the newest written for its object and target. */
  private isStale(message: BusMessage): boolean {
    if (message.kind !== 'change' || !/^\d+$/.test(message.event.resourceVersion)) return false;
    const newest = this.newest.get(`${message.target}|${identityKey(message.event.identity)}`);
    return newest !== undefined && BigInt(message.event.resourceVersion) < newest;
  }

  private remember(message: BusMessage): void {
    if (message.kind !== 'change' || !/^\d+$/.test(message.event.resourceVersion)) return;
    const key = `${message.target}|${identityKey(message.event.identity)}`;
    const rv = BigInt(message.event.resourceVersion);
    const known = this.newest.get(key);
    if (known !== undefined) {
      if (known >= rv) return;
      // Moved to the end: the map drops its oldest entries first.
      this.newest.delete(key);
    }
    this.newest.set(key, rv);
    if (this.newest.size > MAX_NEWEST) this.newest.delete(this.newest.keys().next().value as string);
  }

  /** Stores the audit facts among `fetched` (acking them: they are consumed here) and returns the rest. */
  private async takeFacts(fetched: Delivery[]): Promise<Delivery[]> {
    if (!fetched.some((d) => d.message.kind === 'attribution')) return fetched;
    const rest: Delivery[] = [];
    const now = Date.now();
    for (const delivery of fetched) {
      const message = delivery.message;
      if (message.kind !== 'attribution') {
        rest.push(delivery);
        continue;
      }
      this.facts.add(message.fact, now);
      await delivery.ack();
    }
    return rest;
  }

  /** A watch change without an actor, when this partition attributes. */
  private needsActor(message: BusMessage): message is ChangeMessage {
    return (this.options.attributionWaitMs ?? 0) > 0 && message.kind === 'change' && message.event.origin === 'watch' && message.event.actor === undefined;
  }

  /** Milliseconds until the oldest buffered change still waiting for its actor gives up; 0 when none waits. */
  private attributionHoldMs(buffer: readonly Delivery[]): number {
    const waitMs = this.options.attributionWaitMs ?? 0;
    if (waitMs === 0) return 0;
    const now = Date.now();
    let hold = 0;
    for (const delivery of buffer) {
      if (!this.needsActor(delivery.message) || this.facts.peek(delivery.message.event)) continue;
      hold = Math.max(hold, (this.fetchedAt.get(delivery) ?? now) + waitMs - now);
    }
    return Math.max(0, hold);
  }

  /** The message with its actor from the matching fact, when one has arrived. */
  private attributed(message: BusMessage): BusMessage {
    if (!this.needsActor(message)) return message;
    // Looked at, not taken: a batch that is retried needs the same fact again.
    const fact = this.facts.peek(message.event);
    if (!fact) return message;
    return { ...message, event: { ...message.event, actor: fact.actor, auditId: fact.auditId } };
  }

  /** A change is settled: its fact is used up (never authors another change) and counted as hit or miss. */
  private settleAttribution(delivery: Delivery): void {
    if (!this.needsActor(delivery.message)) return;
    const fact = this.facts.take(delivery.message.event);
    const { metrics } = this.options;
    metrics.attributions.inc({ result: fact ? 'hit' : 'miss' });
    metrics.attributionWaitSeconds.observe((Date.now() - (this.fetchedAt.get(delivery) ?? Date.now())) / 1000);
  }

  /** One known outcome per item; anything else becomes `retry`, logged once per batch with the sink's name. */
  private checkedOutcomes(answer: unknown, count: number): SinkOutcome[] {
    const { logger, metrics, sinkName } = this.options;
    const complain = (problem: string) => {
      metrics.sinkOutcomeErrors.inc({ sink: sinkName });
      logger.error({ partition: this.partitionKey, sink: sinkName, code: ErrorCodes.SINK_OUTCOME, problem }, `sink "${sinkName}" broke the Sink contract (${problem}); the affected items are retried`);
    };
    if (!Array.isArray(answer)) {
      complain(`apply() resolved to ${answer === null ? 'null' : typeof answer}, not an array of outcomes`);
      return Array.from({ length: count }, () => ({ status: 'retry', reason: `sink "${sinkName}" reported no outcomes` }));
    }
    if (answer.length !== count) complain(`apply() returned ${answer.length} outcomes for ${count} items`);
    let unknown = 0;
    const outcomes = Array.from({ length: count }, (_, index): SinkOutcome => {
      const outcome = answer[index] as { status?: unknown; reason?: unknown } | undefined;
      if (outcome && typeof outcome === 'object' && typeof outcome.status === 'string' && STATUSES.has(outcome.status)) {
        if ((outcome.status === 'retry' || outcome.status === 'rejected') && typeof outcome.reason !== 'string') return { ...(outcome as SinkOutcome), reason: 'no reason given' } as SinkOutcome;
        return outcome as SinkOutcome;
      }
      if (index < answer.length) unknown++;
      return { status: 'retry', reason: `sink "${sinkName}" reported no known outcome for this item` };
    });
    if (unknown > 0) complain(`${unknown} outcome(s) without a known status (applied, unchanged, retry, rejected)`);
    return outcomes;
  }
}

function describe(delivery: Delivery): string {
  const message = delivery.message;
  if (message.kind === 'snapshot') return `snapshot ${message.snapshotId} marker for target ${message.target}`;
  if (message.kind === 'attribution') return `attribution of ${identityKey(message.fact.identity)} for target ${message.target}`;
  return `${message.event.operation} of ${identityKey(message.event.identity)} for target ${message.target}`;
}

/**
 * Which snapshots in a worker's buffer still lack their marker. A snapshot is open while its
 * target's newest seed events have no marker yet (older snapshots of a target are superseded), until
 * the buffer has waited `waitMs`.
 */
class OpenSnapshots {
  private readonly latest = new Map<string, string>();
  private readonly completed = new Set<string>();

  constructor(
    private readonly waitMs: number,
    private readonly onTimeout: (target: string, snapshotId: string) => void,
  ) {}

  add(message: BusMessage): void {
    if (message.kind === 'snapshot') this.completed.add(`${message.target}|${message.snapshotId}`);
    else if (message.kind === 'change' && message.event.snapshotId) this.latest.set(message.target, message.event.snapshotId);
  }

  clear(): void {
    this.latest.clear();
    this.completed.clear();
  }

  /** True while one is open; past the wait, says so once and lets the buffer go. */
  open(since: number): boolean {
    for (const [target, snapshotId] of this.latest) {
      if (this.completed.has(`${target}|${snapshotId}`)) continue;
      if (Date.now() - since > this.waitMs) {
        this.onTimeout(target, snapshotId);
        return false;
      }
      return true;
    }
    return false;
  }
}
