import type { HistogramMetric, MetricLabels } from '@gitops-reverser/contract';
import { LabelSets } from './label-sets.js';
import type { MetricFamily, MetricOptions, MetricSample, MetricSnapshot } from './metric-family.js';

/** Prometheus' default buckets (seconds of a typical request), used when a histogram names none. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Observations {
  /** Observations per bucket, not cumulative (index i counts values in (bucket i-1, bucket i]); the last counts those above every bucket. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/**
 * Observations counted into buckets, per label set: read as `_bucket{le}` (cumulative, ending with
 * `le="+Inf"`), `_sum` and `_count`. Without label names it exists at 0 from the start.
 */
export class Histogram<L extends string = string> implements HistogramMetric<L>, MetricFamily {
  readonly type = 'histogram';
  readonly name: string;
  readonly help: string;
  readonly buckets: readonly number[];
  private readonly values: LabelSets<Observations>;

  constructor(options: Omit<MetricOptions<L>, 'collect'> & { readonly buckets?: readonly number[] }) {
    this.name = options.name;
    this.help = options.help;
    const buckets = [...(options.buckets ?? DEFAULT_BUCKETS)].sort((a, b) => a - b);
    if (buckets.some((bound) => !Number.isFinite(bound)) || new Set(buckets).size !== buckets.length) {
      throw new Error(`histogram ${this.name} has buckets ${JSON.stringify(options.buckets)}: give distinct finite upper bounds (+Inf is always added)`);
    }
    if ((options.labelNames ?? []).includes('le' as L)) throw new Error(`histogram ${this.name} cannot have a label "le": Prometheus reserves it for the bucket bound`);
    this.buckets = buckets;
    this.values = new LabelSets(options.name, options.labelNames ?? []);
    if (!options.labelNames?.length) this.values.entry({}, () => this.empty());
  }

  observe(labels: MetricLabels<L>, value: number): void {
    const observations = this.values.entry(labels, () => this.empty()).value;
    let bucket = this.buckets.findIndex((bound) => value <= bound);
    if (bucket < 0) bucket = this.buckets.length;
    observations.counts[bucket] = (observations.counts[bucket] ?? 0) + 1;
    observations.sum += value;
    observations.count += 1;
  }

  startTimer(labels?: MetricLabels<L>): (labels?: MetricLabels<L>) => number {
    const started = process.hrtime.bigint();
    return (endLabels) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.observe({ ...labels, ...endLabels } as MetricLabels<L>, seconds);
      return seconds;
    };
  }

  async get(): Promise<MetricSnapshot> {
    const values: MetricSample[] = [];
    for (const { labels, value: observations } of this.values.all()) {
      let cumulative = 0;
      this.buckets.forEach((bound, index) => {
        cumulative += observations.counts[index] ?? 0;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: bound }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: observations.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: observations.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: observations.count });
    }
    return { name: this.name, help: this.help, type: this.type, values };
  }

  private empty(): Observations {
    return { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }
}
