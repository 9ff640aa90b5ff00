import type { GaugeMetric, MetricLabels } from '@gitops-reverser/contract';
import { LabelSets } from './label-sets.js';
import type { Collect, MetricFamily, MetricOptions, MetricSnapshot } from './metric-family.js';

/** A value that goes up and down, per label set. Without label names it exists at 0 from the start. */
export class Gauge<L extends string = string> implements GaugeMetric<L>, MetricFamily {
  readonly type = 'gauge';
  readonly name: string;
  readonly help: string;
  private readonly values: LabelSets<number>;
  private readonly collect: Collect | undefined;
  private readonly unlabelled: boolean;

  constructor(options: MetricOptions<L>) {
    this.name = options.name;
    this.help = options.help;
    this.collect = options.collect;
    this.values = new LabelSets(options.name, options.labelNames ?? []);
    this.unlabelled = !options.labelNames?.length;
    if (this.unlabelled) this.values.entry({}, () => 0);
  }

  set(labels: MetricLabels<L>, value: number): void {
    this.values.entry(labels, () => 0).value = value;
  }

  inc(labels?: MetricLabels<L>, value = 1): void {
    this.values.entry(labels, () => 0).value += value;
  }

  dec(labels?: MetricLabels<L>, value = 1): void {
    this.values.entry(labels, () => 0).value -= value;
  }

  reset(): void {
    this.values.clear();
    if (this.unlabelled) this.values.entry({}, () => 0);
  }

  async get(): Promise<MetricSnapshot> {
    await this.collect?.();
    return { name: this.name, help: this.help, type: this.type, values: [...this.values.all()].map(({ labels, value }) => ({ labels, value })) };
  }
}
