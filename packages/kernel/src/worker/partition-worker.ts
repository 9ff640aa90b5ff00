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
  type SinkChange,
  type SinkItem,
  type SinkOutcome,
  type SinkPartition,
} from '@gitops-reverser/contract';
import { ErrorCodes } from '../errors.js';
import { renderYamlOnce } from '../normalize/render-yaml.js';
import type { KernelMetrics } from '../runtime/metrics.js';
import { AttributionJoin, type AttributedChange } from './attribution-join.js';
import type { AuthorDirectory } from './author-directory.js';
import { staleChanges } from './batch-staleness.js';
import { busMessageProblem } from './bus-message-check.js';
import { OpenSnapshots } from './open-snapshots.js';
import { checkSinkAnswer } from './sink-answer.js';
import { DEFAULT_WATCHDOG, SinkCallWatch, type SinkCallState, type WatchdogSettings } from './sink-call-watch.js';
import { newerThanSnapshot } from './snapshot-horizon.js';
import { StalenessWatermark } from './staleness-watermark.js';

export interface PartitionWorkerOptions {
  readonly lease: PartitionLease;
  readonly sink: Sink;
  /** The sink's instance name, for logs that say whose mistake it was. */
  readonly sinkName: string;
  /** The partition object the sink planned for this key (read per batch: a reload may change it). */
  readonly partition: () => SinkPartition;
  /** Already bound to `{ partition }`: lines name the partition once. */
  readonly logger: Logger;
  readonly metrics: KernelMetrics;
  /** Most messages fetched at once. */
  readonly fetchMax?: number;
  /** How long to hold an incomplete snapshot waiting for its end before applying what came. */
  readonly snapshotWaitMs?: number;
  /** How long a live change without an actor waits for its attribution fact (0: no wait, no attribution). */
  readonly attributionWaitMs?: number;
  readonly watchdog?: WatchdogSettings;
  /** Told how many items the sink reported written (applied or unchanged), for snapshot progress. */
  readonly onWritten?: (count: number) => void;
  /** `attribution.authors`: names for usernames, authors for field managers. */
  readonly authors?: AuthorDirectory;
  /** The `by` words of the configured exact sources (audit): a change waits for their fact before a content match is used. */
  readonly exactAttributionBy?: ReadonlySet<string>;
}

const IDLE_WAIT_MS = 500;

/** A delivery the worker holds, with what it knows of it. */
interface Held {
  readonly delivery: Delivery;
  /** When it was fetched: the attribution wait counts from there. */
  readonly fetchedAt: number;
}

/**
 * Consumes one partition (for git: one repo+branch) and feeds its sink in order. It decides what
 * arrives together (the sink's commit window, and a snapshot's seed events held until their end so
 * they become one commit), and it settles each delivery by the sink's outcome. The concepts it uses
 * have their own owners: the attribution join, the staleness watermark, open snapshots, the sink
 * answer check and the watchdog over sink calls.
 */
export class PartitionWorker {
  private readonly stopController = new AbortController();
  private readonly facts: AttributionJoin;
  private readonly watermark = new StalenessWatermark();
  readonly watch: SinkCallWatch;

  constructor(private readonly options: PartitionWorkerOptions) {
    this.facts = new AttributionJoin({ exactBy: options.exactAttributionBy ?? new Set() });
    this.watch = new SinkCallWatch({
      settings: options.watchdog ?? DEFAULT_WATCHDOG,
      sinkName: options.sinkName,
      partition: options.lease.partitionKey,
      logger: options.logger,
      metrics: options.metrics,
    });
  }

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

  /** How the sink's calls for this partition are doing (for /readyz). */
  sinkState(): SinkCallState {
    return this.watch.state();
  }

  private async loop(): Promise<void> {
    const { lease, sink } = this.options;
    const signal = AbortSignal.any([this.stopController.signal, lease.revoked]);
    let buffer: Held[] = [];
    let applying: readonly Held[] = [];
    let windowOpenedAt = 0;
    let bytes = 0;
    // Kept as messages arrive, not recomputed from the buffer: a seed buffers tens of thousands.
    const snapshots = new OpenSnapshots(this.options.snapshotWaitMs ?? 600_000, (target, snapshotId) =>
      this.options.logger.warn({ target, snapshotId }, 'snapshot end did not arrive in time; applying the seed events received so far (nothing is pruned on their basis)'),
    );
    try {
      while (!signal.aborted) {
        const policy = sink.batchPolicy;
        const elapsed = Date.now() - windowOpenedAt;
        const holdMs = this.attributionHoldMs(buffer);
        const maxWaitMs = buffer.length === 0 || snapshots.open(windowOpenedAt) ? IDLE_WAIT_MS : Math.max(0, Math.max(policy.windowMs - elapsed, holdMs));
        const fetched = await this.usable(await lease.fetch({ max: this.options.fetchMax ?? 1000, maxWaitMs, signal }));
        if (fetched.length > 0) {
          if (buffer.length === 0) windowOpenedAt = Date.now();
          const now = Date.now();
          for (const delivery of fetched) {
            buffer.push({ delivery, fetchedAt: now });
            bytes += delivery.sizeBytes;
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
        // One sink call of a partition at a time, also after a timed-out one.
        await this.watch.idle(signal);
        if (signal.aborted) break;
        await this.apply(applying);
        applying = [];
      }
    } finally {
      // Stopped mid-window (or broken mid-batch): give the messages back, in order, for whoever
      // consumes next. Settled deliveries ignore the nack (a delivery settles once).
      for (const held of [...applying, ...buffer]) await held.delivery.nack(0).catch(() => undefined);
    }
  }

  /**
   * The fetched deliveries the worker keeps: a malformed message is dead-lettered with its reason
   * (the partition goes on), and attribution facts are filed in the join (acked: consumed here).
   */
  private async usable(fetched: Delivery[]): Promise<Delivery[]> {
    const rest: Delivery[] = [];
    const now = Date.now();
    for (const delivery of fetched) {
      const problem = busMessageProblem(delivery.message);
      if (problem) {
        this.options.metrics.busMessagesInvalid.inc({ partition: this.partitionKey });
        this.options.logger.error(
          { code: ErrorCodes.BUS_MESSAGE_INVALID, problem },
          `${ErrorCodes.BUS_MESSAGE_INVALID}: a message on ${this.partitionKey} cannot be handled (${problem}); it goes to the dead-letter place and the partition goes on`,
        );
        await delivery.reject(`${ErrorCodes.BUS_MESSAGE_INVALID}: ${problem}`);
        continue;
      }
      const message = delivery.message;
      if (message.kind === 'attribution') {
        this.facts.add(message.fact, now);
        await delivery.ack();
        continue;
      }
      rest.push(delivery);
    }
    return rest;
  }

  private async apply(batch: readonly Held[]): Promise<void> {
    const { sink, metrics, sinkName } = this.options;
    const partition = this.partitionKey;
    const stopTimer = metrics.sinkApplySeconds.startTimer({ partition });
    // Older than what was written, or than an earlier change in this batch (from another replica's
    // lagging view): live changes are settled as unchanged without the sink; seed events go with
    // `superseded` so the snapshot still counts them.
    const messages = batch.map((held) => held.delivery.message);
    const stale = staleChanges(messages, this.watermark);
    const forSink = batch.flatMap((held, i) => (!stale[i] || isSeed(held.delivery.message) ? [i] : []));
    let outcomes: SinkOutcome[] = batch.map((): SinkOutcome => ({ status: 'unchanged' }));
    try {
      const items = forSink.map((i): SinkItem => {
        const delivery = (batch[i] as Held).delivery;
        const message = delivery.message;
        if (message.kind === 'snapshot-end') {
          // Objects written after the snapshot's source listed are not in it: its prune keeps them.
          const newerWritten = newerThanSnapshot(message, messages, stale, this.watermark);
          return { message: newerWritten.length > 0 ? { ...message, newerWritten } : message, attempt: delivery.attempt };
        }
        return { message: this.sinkMessage(message, stale[i] === true), attempt: delivery.attempt };
      });
      const watched = forSink.length === 0 ? { timedOut: false as const, value: [] } : await this.watch.run('apply', items.length, () => sink.apply({ partition: this.options.partition(), items }));
      if (watched.timedOut) {
        outcomes = batch.map(() => ({ status: 'retry', reason: `sink "${sinkName}" did not answer within watchdog.applyTimeoutSeconds` }));
      } else {
        const answer = checkSinkAnswer(watched.value, forSink.length, sinkName);
        if (answer.problem) this.brokeContract(answer.problem);
        if (forSink.length > 0) this.watch.answered(answer.problem);
        forSink.forEach((i, n) => {
          outcomes[i] = answer.outcomes[n] as SinkOutcome;
        });
      }
    } catch (error) {
      // A sink must not throw; if one does, nothing is assumed written.
      this.brokeContract(`apply() threw: ${errorText(error)}`);
      this.watch.answered(`apply() threw: ${errorText(error)}`);
      outcomes = batch.map(() => ({ status: 'retry', reason: errorText(error) }));
    }
    stopTimer();
    await this.settle(batch, outcomes);
  }

  /** Acks, rejects or nacks each delivery by its outcome, in order; everything after a retry is retried after it. */
  private async settle(batch: readonly Held[], outcomes: readonly SinkOutcome[]): Promise<void> {
    const { logger, metrics } = this.options;
    const partition = this.partitionKey;
    let retryFrom: { delayMs: number } | undefined;
    let written = 0;
    for (const [index, held] of batch.entries()) {
      const { delivery } = held;
      const outcome = outcomes[index] as SinkOutcome;
      if (retryFrom) {
        await delivery.nack(retryFrom.delayMs);
        metrics.sinkOutcomes.inc({ partition, status: 'retry' });
        continue;
      }
      metrics.sinkOutcomes.inc({ partition, status: outcome.status });
      switch (outcome.status) {
        case 'applied':
        case 'unchanged':
          // The fact first: the join reads the version this change replaced from the watermark.
          this.settleAttribution(held);
          if (delivery.message.kind === 'change') {
            this.watermark.written(delivery.message);
            // Objects only: a snapshot's end marker is no file (snapshot's "N file(s) written").
            written++;
          }
          await delivery.ack();
          break;
        case 'rejected':
          this.settleAttribution(held);
          logger.error({ message: describe(delivery.message), reason: outcome.reason }, `sink rejected ${describe(delivery.message)}: ${outcome.reason}`);
          await delivery.reject(outcome.reason);
          break;
        case 'retry': {
          const delayMs = typeof outcome.delayMs === 'number' && outcome.delayMs >= 0 ? outcome.delayMs : backoffDelayMs(delivery.attempt);
          retryFrom = { delayMs };
          logger.warn({ attempt: delivery.attempt, reason: outcome.reason, retryInMs: delayMs }, `write not done, will retry: ${outcome.reason}`);
          await delivery.nack(delayMs);
          break;
        }
      }
    }
    if (written > 0) this.options.onWritten?.(written);
  }

  /** A bus message as the sink receives it: a change with its rendered text, its actor when a fact names one. */
  private sinkMessage(message: BusMessage, stale: boolean): SinkItem['message'] {
    if (message.kind !== 'change') return message as SinkItem['message'];
    const fact = this.needsActor(message) ? this.facts.peek(this.joinable(message)) : undefined;
    const joined = fact ? { ...message.event, actor: fact.actor, attribution: { by: fact.by, id: fact.id } } : message.event;
    const event = this.options.authors ? this.options.authors.name(joined) : joined;
    const yaml = event.operation === 'upsert' && event.object ? renderYamlOnce(event.object) : undefined;
    const { target } = message;
    // Literals, not spreads: a spread of the message plus conditional spreads gave every change its own
    // hidden class (~400 B each, held by a seed's batch until its commit; ADR 0041).
    let change: SinkChange;
    if (yaml === undefined) change = stale ? { kind: 'change', target, event, superseded: true } : { kind: 'change', target, event };
    else change = stale ? { kind: 'change', target, event, yaml, superseded: true } : { kind: 'change', target, event, yaml };
    return change;
  }

  private brokeContract(problem: string): void {
    const { metrics, logger, sinkName } = this.options;
    metrics.sinkOutcomeErrors.inc({ sink: sinkName });
    logger.error({ sink: sinkName, code: ErrorCodes.SINK_OUTCOME, problem }, `${ErrorCodes.SINK_OUTCOME}: sink "${sinkName}" broke the Sink contract (${problem}); the affected items are retried`);
  }

  /** A live change without an actor, when this partition attributes. */
  private needsActor(message: BusMessage): message is ChangeMessage {
    return (this.options.attributionWaitMs ?? 0) > 0 && message.kind === 'change' && message.event.phase === 'live' && message.event.actor === undefined;
  }

  /** What the join reads of a change: its event and the version it replaced (the newest this writer wrote). */
  private joinable(message: ChangeMessage): AttributedChange {
    const previous = this.watermark.newestOf(message);
    return previous ? { ...message.event, previousResourceVersion: previous } : message.event;
  }

  /** Milliseconds until the oldest buffered change still waiting for its actor gives up; 0 when none waits. */
  private attributionHoldMs(buffer: readonly Held[]): number {
    const waitMs = this.options.attributionWaitMs ?? 0;
    if (waitMs === 0) return 0;
    const now = Date.now();
    let hold = 0;
    for (const held of buffer) {
      const message = held.delivery.message;
      // With an exact source configured, only its fact ends the wait; at the end of it, the best fact found is used.
      if (!this.needsActor(message) || this.facts.peek(this.joinable(message), now, (this.options.exactAttributionBy?.size ?? 0) > 0)) continue;
      hold = Math.max(hold, held.fetchedAt + waitMs - now);
    }
    return Math.max(0, hold);
  }

  /** A change is settled: its fact is used up (it never authors another change), counted as hit or miss. */
  private settleAttribution(held: Held): void {
    const message = held.delivery.message;
    if (!this.needsActor(message)) return;
    const fact = this.facts.take(this.joinable(message));
    const { metrics } = this.options;
    metrics.attributions.inc({ result: fact ? 'hit' : 'miss' });
    metrics.attributionWaitSeconds.observe({}, (Date.now() - held.fetchedAt) / 1000);
  }
}

function isSeed(message: BusMessage): boolean {
  return message.kind === 'change' && message.event.phase === 'seed';
}

function describe(message: BusMessage): string {
  if (message.kind === 'snapshot-end') return `snapshot ${message.snapshotId} end for target ${message.target}`;
  if (message.kind === 'attribution') return `attribution of ${identityKey(message.fact.identity)} for target ${message.target}`;
  return `${message.event.operation} of ${identityKey(message.event.identity)} for target ${message.target}`;
}
