/**
 * The logging and metrics surface adapters see. The kernel implements it with pino and its own metrics;
 * adapters type against these small interfaces only, so the contract carries no runtime dependency
 * and a test can pass its own implementation.
 */

export interface LogFn {
  (fields: object, message?: string): void;
  (message: string): void;
}

/** A structured logger (pino's shape): fields first, then the message. */
export interface Logger {
  readonly fatal: LogFn;
  readonly error: LogFn;
  readonly warn: LogFn;
  readonly info: LogFn;
  readonly debug: LogFn;
  readonly trace: LogFn;
  /** A logger that adds `bindings` to every line. */
  child(bindings: Record<string, unknown>): Logger;
}

export type MetricLabels<L extends string> = Partial<Record<L, string | number>>;

export interface CounterMetric<L extends string = string> {
  inc(labels?: MetricLabels<L>, value?: number): void;
}

export interface GaugeMetric<L extends string = string> {
  set(labels: MetricLabels<L>, value: number): void;
  inc(labels?: MetricLabels<L>, value?: number): void;
  dec(labels?: MetricLabels<L>, value?: number): void;
  /** Forgets every label set (for gauges rebuilt from scratch on each scrape). */
  reset(): void;
}

export interface HistogramMetric<L extends string = string> {
  observe(labels: MetricLabels<L>, value: number): void;
  /** Starts a timer; calling the result records the seconds elapsed. */
  startTimer(labels?: MetricLabels<L>): (labels?: MetricLabels<L>) => number;
}

/**
 * Adapter metrics, all named `gitops_reverser_{name}` on the kernel's registry. Get-or-create: an
 * adapter started twice (a restart after reload, two instances of one package) shares the metric.
 */
export interface Metrics {
  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): CounterMetric<L>;
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): GaugeMetric<L>;
  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets?: readonly number[]): HistogramMetric<L>;
}

/** Time, as a service, so tests can drive it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}
