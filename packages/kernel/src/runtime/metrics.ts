import type { Metrics } from '@gitops-reverser/contract';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const METRIC_PREFIX = 'gitops_reverser_';

/**
 * The kernel's metrics, on a private registry (never prom-client's global one, so two runtimes in
 * one process, as in tests, do not collide). Adapters register theirs on `registry` with the same prefix.
 */
export class KernelMetrics implements Metrics {
  readonly registry = new Registry();

  readonly eventsReceived = new Counter({
    name: `${METRIC_PREFIX}events_received_total`,
    help: 'Change events handed to the kernel by sources, by source and phase (seed, live, sweep).',
    labelNames: ['source', 'phase'] as const,
    registers: [this.registry],
  });

  readonly eventsSuppressed = new Counter({
    name: `${METRIC_PREFIX}events_suppressed_total`,
    help: 'Events that produced nothing downstream: unchanged after sanitizing, matched no rule, or dropped by a normalizer.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly eventsRefused = new Counter({
    name: `${METRIC_PREFIX}events_refused_total`,
    help: 'Changes not written because something refused or failed on them, by source, the adapter (or kernel part) whose doing it was, and error code.',
    labelNames: ['source', 'adapter', 'code'] as const,
    registers: [this.registry],
  });

  readonly credentialsFound = new Counter({
    name: `${METRIC_PREFIX}credentials_found_total`,
    help: 'Credentials the credential gate found in objects written unencrypted, per target, rule of its rule set and mode (what was done: refuse, redact, encrypt, warn).',
    labelNames: ['target', 'rule', 'mode'] as const,
    registers: [this.registry],
  });

  readonly objectsUnselected = new Counter({
    name: `${METRIC_PREFIX}objects_unselected_total`,
    help: "Objects that stopped matching a rule's label selectors (objectSelector, namespaceSelector) and were removed from a target.",
    labelNames: ['target'] as const,
    registers: [this.registry],
  });

  readonly messagesPublished = new Counter({
    name: `${METRIC_PREFIX}messages_published_total`,
    help: 'Messages published to the bus, per target and kind.',
    labelNames: ['target', 'kind'] as const,
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: `${METRIC_PREFIX}queue_depth`,
    help: 'Messages on the bus not yet acked, per partition (repo#branch).',
    labelNames: ['partition'] as const,
    registers: [this.registry],
  });

  readonly sinkOutcomes = new Counter({
    name: `${METRIC_PREFIX}sink_outcomes_total`,
    help: 'Outcomes reported by the sink per message: applied, unchanged, retry, rejected.',
    labelNames: ['partition', 'status'] as const,
    registers: [this.registry],
  });

  readonly sinkOutcomeErrors = new Counter({
    name: `${METRIC_PREFIX}sink_outcome_errors_total`,
    help: 'Batches a sink answered with no array, a wrong length or an unknown status, or threw on (treated as retry).',
    labelNames: ['sink'] as const,
    registers: [this.registry],
  });

  readonly attributions = new Counter({
    name: `${METRIC_PREFIX}attribution_total`,
    help: 'Live changes without an actor: hit (a fact named the actor), miss (none matched within attribution.waitMs; the committer authors it).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly attributionWaitSeconds = new Histogram({
    name: `${METRIC_PREFIX}attribution_wait_seconds`,
    help: 'How long a live change waited for its attribution fact before it was written.',
    buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [this.registry],
  });

  readonly workerRestarts = new Counter({
    name: `${METRIC_PREFIX}partition_worker_restarts_total`,
    help: 'Partition workers restarted after they stopped on an error.',
    labelNames: ['partition'] as const,
    registers: [this.registry],
  });

  readonly sinkTimeouts = new Counter({
    name: `${METRIC_PREFIX}sink_apply_timeouts_total`,
    help: 'apply() calls given up after watchdog.applyTimeoutSeconds (their batch retried, their late answer ignored).',
    labelNames: ['sink', 'partition'] as const,
    registers: [this.registry],
  });

  readonly busMessagesInvalid = new Counter({
    name: `${METRIC_PREFIX}bus_messages_invalid_total`,
    help: 'Messages taken off the bus that are not a valid change, snapshot end or attribution fact: dead-lettered.',
    labelNames: ['partition'] as const,
    registers: [this.registry],
  });

  readonly snapshotRequests = new Counter({
    name: `${METRIC_PREFIX}snapshot_requests_total`,
    help: 'Fresh snapshots the sink asked for, per target: it lost or could not trust what it held (e.g. a git remote whose history was rewritten).',
    labelNames: ['target'] as const,
    registers: [this.registry],
  });

  readonly sinkApplySeconds = new Histogram({
    name: `${METRIC_PREFIX}sink_apply_seconds`,
    help: 'Time the sink took to apply one batch.',
    labelNames: ['partition'] as const,
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 60],
    registers: [this.registry],
  });

  readonly adapterUp = new Gauge({
    name: `${METRIC_PREFIX}adapter_ready`,
    help: '1 when the adapter reports ready or degraded, else 0.',
    labelNames: ['slot', 'adapter'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  /**
   * An adapter's counter, `gitops_reverser_{name}`. Get-or-create: an adapter started twice on one
   * registry (a restart after reload, two sources of one package) shares the metric instead of failing.
   */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    const full = `${METRIC_PREFIX}${name}`;
    return (this.registry.getSingleMetric(full) as Counter<L> | undefined) ?? new Counter({ name: full, help, labelNames, registers: [this.registry] });
  }

  /** An adapter's histogram, `gitops_reverser_{name}`; get-or-create like counter(). */
  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets?: readonly number[]): Histogram<L> {
    const full = `${METRIC_PREFIX}${name}`;
    return (
      (this.registry.getSingleMetric(full) as Histogram<L> | undefined) ?? new Histogram({ name: full, help, labelNames, registers: [this.registry], ...(buckets ? { buckets: [...buckets] } : {}) })
    );
  }

  /** An adapter's gauge, `gitops_reverser_{name}`; get-or-create like counter(). */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    const full = `${METRIC_PREFIX}${name}`;
    return (this.registry.getSingleMetric(full) as Gauge<L> | undefined) ?? new Gauge({ name: full, help, labelNames, registers: [this.registry] });
  }
}
