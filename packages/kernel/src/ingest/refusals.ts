import type { Logger } from '@gitops-reverser/contract';
import type { KernelMetrics } from '../runtime/metrics.js';

/** One change the pipeline did not write, and whose doing that was. */
export interface Refusal {
  /** Error code (`GR_ERR_NORMALIZER_FAILED`, `GR_ERR_SECRET_PLAINTEXT`, ...). */
  readonly code: string;
  /**
   * The adapter (or kernel part) that refused it or failed on it: a normalizer's name for a throw,
   * the source's name for an invalid event, `secret-guard` / `kernel` for the kernel's own checks.
   */
  readonly adapter: string;
  /** The source that emitted the change. */
  readonly source: string;
  /** The object's identity key, when it has one. */
  readonly key?: string;
  /** The target it was meant for, when the refusal concerns one target only. */
  readonly target?: string;
  readonly message: string;
  readonly fix?: string;
}

/** What one adapter refused so far: shown in /readyz and in a snapshot's report. */
export interface RefusalSummary {
  readonly adapter: string;
  readonly count: number;
  readonly lastCode: string;
  readonly lastMessage: string;
  readonly lastAt: number;
}

/** Objects logged per adapter and code before further refusals of the same object are only counted. */
const REMEMBERED = 10_000;

/**
 * The one owner of refusals: each is counted with the adapter's name
 * (`gitops_reverser_events_refused_total{source,adapter,code}`), logged with its code (once per
 * object, adapter, code and target: a Secret refused on every update is one line), and summed per
 * adapter for /readyz and `Runtime.snapshot()`.
 */
export class Refusals {
  private readonly logged = new Set<string>();
  private readonly byAdapter = new Map<string, RefusalSummary>();

  constructor(
    private readonly logger: Logger,
    private readonly metrics: KernelMetrics,
  ) {}

  record(refusal: Refusal): void {
    this.metrics.eventsRefused.inc({ source: refusal.source, adapter: refusal.adapter, code: refusal.code });
    const previous = this.byAdapter.get(refusal.adapter);
    this.byAdapter.set(refusal.adapter, { adapter: refusal.adapter, count: (previous?.count ?? 0) + 1, lastCode: refusal.code, lastMessage: refusal.message, lastAt: Date.now() });
    const once = `${refusal.adapter}|${refusal.code}|${refusal.key ?? ''}|${refusal.target ?? ''}`;
    if (this.logged.has(once)) return;
    this.logged.add(once);
    if (this.logged.size > REMEMBERED) this.logged.delete(this.logged.values().next().value as string);
    this.logger.error(
      { code: refusal.code, adapter: refusal.adapter, source: refusal.source, ...(refusal.key ? { key: refusal.key } : {}), ...(refusal.target ? { target: refusal.target } : {}) },
      `${refusal.code}: ${refusal.message}${refusal.fix ? ` (fix: ${refusal.fix})` : ''}`,
    );
  }

  /** Refusals so far, per adapter. */
  summary(): readonly RefusalSummary[] {
    return [...this.byAdapter.values()];
  }

  /** The summary of one adapter, if it refused anything. */
  of(adapter: string): RefusalSummary | undefined {
    return this.byAdapter.get(adapter);
  }
}
