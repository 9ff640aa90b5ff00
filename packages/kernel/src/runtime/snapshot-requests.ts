import { errorText, type Logger } from '@gitops-reverser/contract';
import type { KernelMetrics } from './metrics.js';

/** Requests are collected this long before sources are asked: several partitions finding one loss ask once. */
export const SNAPSHOT_REQUEST_DEBOUNCE_MS = 500;

/** Whether the runtime can reseed now: `wait` (starting: keep the request), `ready`, `gone` (stopping: drop it). */
export type ReseedReadiness = 'wait' | 'ready' | 'gone';

export interface SnapshotRequestsOptions {
  readonly logger: Logger;
  readonly metrics: KernelMetrics;
  /** Has the sources covering these targets write a fresh snapshot of them. */
  readonly reseed: (targets: readonly string[]) => Promise<void>;
  readonly readiness: () => ReseedReadiness;
  readonly debounceMs?: number;
}

/**
 * What sinks ask with `SinkContext.requestSnapshot`: targets whose written state the sink lost or
 * cannot trust. Requests are collected for a moment, their reasons logged once, then the sources
 * reseed the targets. One reseed runs at a time; requests arriving meanwhile make the next one.
 * `request` never throws and never waits: a sink calls it from inside `apply`.
 */
export class SnapshotRequests {
  private readonly targets = new Set<string>();
  private readonly reasons = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: SnapshotRequestsOptions) {}

  request(targets: readonly string[], reason: string): void {
    if (this.closed || this.options.readiness() === 'gone') return;
    const named = [...new Set(targets)].filter((target) => typeof target === 'string' && target !== '');
    if (named.length === 0) return;
    for (const target of named) {
      this.targets.add(target);
      this.options.metrics.snapshotRequests.inc({ target });
    }
    this.reasons.add(String(reason));
    this.schedule();
  }

  /** No more requests are taken; one not yet started is dropped (a new start seeds every target anyway). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.targets.clear();
    this.reasons.clear();
  }

  /** Resolves when no reseed is running (stop waits for it before it stops the sources). */
  async idle(): Promise<void> {
    for (let running = this.running; running !== undefined; running = this.running) await running;
  }

  private schedule(): void {
    // A running reseed schedules the next one when it ends.
    if (this.timer || this.running || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.reseed().finally(() => {
        this.running = undefined;
        if (this.targets.size > 0) this.schedule();
      });
    }, this.options.debounceMs ?? SNAPSHOT_REQUEST_DEBOUNCE_MS);
    this.timer.unref();
  }

  private async reseed(): Promise<void> {
    const readiness = this.options.readiness();
    if (readiness === 'gone' || this.closed) return this.close();
    // Starting: the requests stay and are tried again after the next pause.
    if (readiness === 'wait') return;
    const targets = [...this.targets].sort();
    const reasons = [...this.reasons];
    this.targets.clear();
    this.reasons.clear();
    const { logger } = this.options;
    logger.warn({ targets, reasons }, `the sink lost or cannot trust what it holds for ${targets.join(', ')} (${reasons.join('; ')}): the sources seed these targets again`);
    try {
      await this.options.reseed(targets);
    } catch (error) {
      logger.error({ targets, err: errorText(error) }, `reseeding ${targets.join(', ')} failed: ${errorText(error)}`);
    }
  }
}
