import type { Logger } from '@gitops-reverser/contract';
import { ErrorCodes } from '../errors.js';
import type { KernelMetrics } from '../runtime/metrics.js';
import { withTimeout } from '../runtime/with-timeout.js';

/** The `watchdog:` settings, in milliseconds. */
export interface WatchdogSettings {
  /** A sink call running longer is logged once (GR_ERR_SINK_SLOW) and shown in /readyz. */
  readonly applyWarnMs: number;
  /** > 0: an apply() running longer counts as `retry` for its batch; its late answer is ignored. */
  readonly applyTimeoutMs: number;
  /** Answers that all break the Sink contract for this long make /readyz report the sink degraded. */
  readonly refusedAnswersMs: number;
}

export const DEFAULT_WATCHDOG: WatchdogSettings = { applyWarnMs: 60_000, applyTimeoutMs: 0, refusedAnswersMs: 60_000 };

/** How one partition's sink calls are doing, for /readyz. */
export interface SinkCallState {
  /** A call in progress (or abandoned after its timeout and not settled yet). */
  readonly running?: { readonly call: 'apply' | 'flush'; readonly seconds: number; readonly items: number; readonly abandoned: boolean };
  /** Set while every answer since `since` broke the contract: the sink is degraded once it lasted `refusedAnswersMs`. */
  readonly refusing?: { readonly seconds: number; readonly problem: string; readonly degraded: boolean };
}

export type WatchedResult<T> = Awaited<ReturnType<typeof withTimeout<T>>>;

export interface SinkCallWatchOptions {
  readonly settings: WatchdogSettings;
  readonly sinkName: string;
  /** The partition key ("" for calls that cover every partition, as flush() does). */
  readonly partition: string;
  /** Bound to the partition already (its lines name it once). */
  readonly logger: Logger;
  readonly metrics: KernelMetrics;
}

/**
 * The watchdog over one partition's calls into the sink. A call that runs past `applyWarnMs` is
 * logged once with the sink and partition, and shown in /readyz until it returns. With
 * `applyTimeoutMs`, an apply() past it is given up: its batch is retried, its answer (whenever it
 * comes) ignored, and no other apply() of the partition starts before it settles (a sink never runs
 * two applies of one partition at once). Answers that keep breaking the contract are tracked so
 * /readyz can say the sink is degraded instead of ready.
 */
export class SinkCallWatch {
  private running: { call: 'apply' | 'flush'; since: number; items: number } | undefined;
  /** A timed-out call that has not settled: the next call waits for it. */
  private abandoned: Promise<void> | undefined;
  private refusing: { since: number; problem: string } | undefined;

  constructor(private readonly options: SinkCallWatchOptions) {}

  /** Resolves once no abandoned call of this partition is still running (or `signal` aborts). */
  async idle(signal?: AbortSignal): Promise<void> {
    const pending = this.abandoned;
    if (!pending) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      signal?.addEventListener('abort', done, { once: true });
      pending.then(done, done);
    });
  }

  /** Runs one sink call under watch. Rejects when the call rejects (the caller treats a throw as it must). */
  async run<T>(call: 'apply' | 'flush', items: number, run: () => Promise<T>): Promise<WatchedResult<T>> {
    const { settings, logger, sinkName, partition } = this.options;
    const since = Date.now();
    this.running = { call, since, items };
    const where = partition ? ` for ${partition}` : '';
    let slow = false;
    const warn = setTimeout(() => {
      slow = true;
      logger.warn(
        { code: ErrorCodes.SINK_SLOW, sink: sinkName, call, items },
        `${ErrorCodes.SINK_SLOW}: sink "${sinkName}" has been in ${call}()${where} for ${Math.round(settings.applyWarnMs / 1000)} s (${items} item(s)); /readyz shows it until it returns (watchdog.applyWarnSeconds)`,
      );
    }, settings.applyWarnMs);
    warn.unref();
    const pending = Promise.resolve().then(run);
    let timedOut = false;
    try {
      if (call === 'apply' && settings.applyTimeoutMs > 0) {
        const outcome = await withTimeout(pending, settings.applyTimeoutMs);
        if (outcome.timedOut) {
          timedOut = true;
          this.abandon(pending, call, since);
          return { timedOut: true };
        }
        return { timedOut: false, value: outcome.value };
      }
      return { timedOut: false, value: await pending };
    } finally {
      clearTimeout(warn);
      if (!timedOut) {
        this.running = undefined;
        if (slow) logger.info({ sink: sinkName, call }, `sink "${sinkName}" returned from ${call}()${where} after ${seconds(since)} s`);
      }
    }
  }

  /** The sink answered a batch within the contract (or not: `problem` says how it broke it). */
  answered(problem: string | undefined): void {
    if (problem === undefined) this.refusing = undefined;
    else this.refusing = { since: this.refusing?.since ?? Date.now(), problem };
  }

  state(): SinkCallState {
    const running = this.running;
    const refusing = this.refusing;
    const slow = running && Date.now() - running.since >= this.options.settings.applyWarnMs ? running : undefined;
    return {
      ...(slow ? { running: { call: slow.call, seconds: seconds(slow.since), items: slow.items, abandoned: this.abandoned !== undefined } } : {}),
      ...(refusing ? { refusing: { seconds: seconds(refusing.since), problem: refusing.problem, degraded: Date.now() - refusing.since >= this.options.settings.refusedAnswersMs } } : {}),
    };
  }

  private abandon(pending: Promise<unknown>, call: 'apply' | 'flush', since: number): void {
    const { logger, metrics, sinkName, partition, settings } = this.options;
    metrics.sinkTimeouts.inc({ sink: sinkName, partition });
    logger.error(
      { code: ErrorCodes.SINK_TIMEOUT, sink: sinkName },
      `${ErrorCodes.SINK_TIMEOUT}: sink "${sinkName}" did not return from ${call}() for ${partition} within ${Math.round(settings.applyTimeoutMs / 1000)} s (watchdog.applyTimeoutSeconds); its batch will be retried once that call has returned, and its answer is ignored`,
    );
    this.abandoned = pending.then(
      () => undefined,
      () => undefined,
    );
    void this.abandoned.then(() => {
      this.abandoned = undefined;
      this.running = undefined;
      logger.warn({ sink: sinkName }, `the abandoned ${call}() of sink "${sinkName}" for ${partition} returned after ${seconds(since)} s; its answer was ignored`);
    });
  }
}

function seconds(since: number): number {
  return Math.round((Date.now() - since) / 100) / 10;
}
