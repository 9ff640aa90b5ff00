/** The three metric kinds the kernel exposes (Prometheus text format 0.0.4 `# TYPE`). */
export type MetricType = 'counter' | 'gauge' | 'histogram';

export type LabelValues = Readonly<Record<string, string | number>>;

/** One sample line: `metricName{labels} value`. `metricName` is set for a histogram's `_bucket`, `_sum`, `_count`. */
export interface MetricSample {
  readonly metricName?: string;
  readonly labels: LabelValues;
  readonly value: number;
}

/** A metric as read at one moment: what `/metrics` renders as one family and tests read back. */
export interface MetricSnapshot {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly values: readonly MetricSample[];
}

/** What a registry holds: a named metric that can be read (after refreshing values read from elsewhere, e.g. the process). */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  get(): Promise<MetricSnapshot>;
}

/** Reads values that live elsewhere (the process, V8) into a metric just before it is read. */
export type Collect = () => void | Promise<void>;

export interface MetricOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
  readonly collect?: Collect;
}
