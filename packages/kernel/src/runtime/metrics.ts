import type { Metrics } from '@gitops-reverser/contract';
import { Counter } from '../metrics/counter.js';
import { Gauge } from '../metrics/gauge.js';
import { Histogram } from '../metrics/histogram.js';
import { MetricRegistry } from '../metrics/metric-registry.js';
import { registerProcessMetrics } from '../metrics/process-metrics.js';

export const METRIC_PREFIX = 'gitops_reverser_';

/**
 * The kernel's metrics, on a private registry (two runtimes in one process, as in tests, do not
 * collide). Adapters register theirs on `registry` with the same prefix. The kernel's own metric
 * types and text exposition, not prom-client's: docs/adr/0042-own-metrics-exposition.md.
 */
export class KernelMetrics implements Metrics {
  readonly registry = new MetricRegistry();

  readonly eventsReceived = this.registry.register(
    new Counter({
      name: `${METRIC_PREFIX}events_received_total`,
      help: 'Change events handed to the kernel by sources, by source and phase (seed, live, sweep).',
      labelNames: ['source', 'phase'] as const,
    }),
  );

  readonly eventsSuppressed = this.registry.register(
    new Counter({
      name: `${METRIC_PREFIX}events_suppressed_total`,
      help: 'Events that produced nothing downstream: unchanged after sanitizing, matched no rule, or dropped by a normalizer.',
      labelNames: ['reason'] as const,
    }),
  );

  readonly eventsRefused = this.registry.register(
    new Counter({
      name: `${METRIC_PREFIX}events_refused_total`,
      help: 'Changes not written because something refused or failed on them, by source, the adapter (or kernel part) whose doing it was, and error code.',
      labelNames: ['source', 'adapter', 'code'] as const,
    }),
  );

  readonly credentialsFound = this.registry.register(
    new Counter({
      name: `${METRIC_PREFIX}credentials_found_total`,
      help: 'Credentials the credential gate found in objects written unencrypted, per target, rule of its rule set and mode (what was done: refuse, redact, encrypt, warn).',
      labelNames: ['target', 'rule', 'mode'] as const,
    }),
  );

  readonly objectsUnselected = this.registry.register(
    new Counter({
      name: `${METRIC_PREFIX}objects_unselected_total`,
      help: "Objects that stopped matching a rule's label selectors (objectSelector, namespaceSelector) and were removed from a target.",
      labelNames: ['target'] as const,
    }),
  );

  readonly messagesPublished = this.registry.register(
    new Counter({
      name: `${METRIC_PREFIX}messages_published_total`,
      help: 'Messages published to the bus, per target and kind.',
      labelNames: ['target', 'kind'] as const,
    }),
  );

  readonly queueDepth = this.registry.register(
    new Gauge({
      name: `${METRIC_PREFIX}queue_depth`,
      help: 'Messages on the bus not yet acked, per partition (repo#branch).',
      labelNames: ['partition'] as const,
    }),
  );

  readonly sinkOutcomes = this.registry.register(
    new Counter({
      name: `${METRIC_PREFIX}sink_outcomes_total`,
      help: 'Outcomes reported by the sink per message: applied, unchanged, retry, rejected.',
      labelNames: ['partition', 'status'] as const,
    }),
  );

  readonly sinkOutcomeErrors = this.registry.register(
    new Counter({
      name: `${METRIC_PREFIX}sink_outcome_errors_total`,
      help: 'Batches a sink answered with no array, a wrong length or an unknown status, or threw on (treated as retry).',
      labelNames: ['sink'] as const,
    }),
  );

  readonly attributions = this.registry.register(
    new Counter({
      name: `${METRIC_PREFIX}attribution_total`,
      help: 'Live changes without an actor: hit (a fact named the actor), miss (none matched within attribution.waitMs; the committer authors it).',
      labelNames: ['result'] as const,
    }),
  );

  readonly attributionWaitSeconds = this.registry.register(
    new Histogram({
      name: `${METRIC_PREFIX}attribution_wait_seconds`,
      help: 'How long a live change waited for its attribution fact before it was written.',
      buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    }),
  );

  readonly workerRestarts = this.registry.register(
    new Counter({
      name: `${METRIC_PREFIX}partition_worker_restarts_total`,
      help: 'Partition workers restarted after they stopped on an error.',
      labelNames: ['partition'] as const,
    }),
  );

  readonly sinkTimeouts = this.registry.register(
    new Counter({
      name: `${METRIC_PREFIX}sink_apply_timeouts_total`,
      help: 'apply() calls given up after watchdog.applyTimeoutSeconds (their batch retried, their late answer ignored).',
      labelNames: ['sink', 'partition'] as const,
    }),
  );

  readonly busMessagesInvalid = this.registry.register(
    new Counter({
      name: `${METRIC_PREFIX}bus_messages_invalid_total`,
      help: 'Messages taken off the bus that are not a valid change, snapshot end or attribution fact: dead-lettered.',
      labelNames: ['partition'] as const,
    }),
  );

  readonly snapshotRequests = this.registry.register(
    new Counter({
      name: `${METRIC_PREFIX}snapshot_requests_total`,
      help: 'Fresh snapshots the sink asked for, per target: it lost or could not trust what it held (e.g. a git remote whose history was rewritten).',
      labelNames: ['target'] as const,
    }),
  );

  readonly sinkApplySeconds = this.registry.register(
    new Histogram({
      name: `${METRIC_PREFIX}sink_apply_seconds`,
      help: 'Time the sink took to apply one batch.',
      labelNames: ['partition'] as const,
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 60],
    }),
  );

  readonly adapterUp = this.registry.register(
    new Gauge({
      name: `${METRIC_PREFIX}adapter_ready`,
      help: '1 when the adapter reports ready or degraded, else 0.',
      labelNames: ['slot', 'adapter'] as const,
    }),
  );

  /** `processMetrics`: also the process and Node.js metrics (CPU, memory, event loop lag, GC, ...), as `gitops-reverser run` serves them. */
  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) registerProcessMetrics(this.registry, METRIC_PREFIX);
  }

  /**
   * An adapter's counter, `gitops_reverser_{name}`. Get-or-create: an adapter started twice on one
   * registry (a restart after reload, two sources of one package) shares the metric instead of failing.
   */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    const full = `${METRIC_PREFIX}${name}`;
    return this.existing(full, Counter) ?? this.registry.register(new Counter({ name: full, help, labelNames }));
  }

  /** An adapter's histogram, `gitops_reverser_{name}`; get-or-create like counter(). */
  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets?: readonly number[]): Histogram<L> {
    const full = `${METRIC_PREFIX}${name}`;
    return this.existing(full, Histogram) ?? this.registry.register(new Histogram({ name: full, help, labelNames, ...(buckets ? { buckets } : {}) }));
  }

  /** An adapter's gauge, `gitops_reverser_{name}`; get-or-create like counter(). */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    const full = `${METRIC_PREFIX}${name}`;
    return this.existing(full, Gauge) ?? this.registry.register(new Gauge({ name: full, help, labelNames }));
  }

  /** The metric already registered under `name`, when there is one; of another kind it is a naming clash between two adapters. */
  private existing<M>(name: string, kind: abstract new (...args: never[]) => M): M | undefined {
    const found = this.registry.getSingleMetric(name);
    if (found === undefined) return undefined;
    if (!(found instanceof kind)) throw new Error(`metric ${name} is already registered as a ${found.type}; asked for again as a ${kind.name.toLowerCase()}: give one of them another name`);
    return found;
  }
}
