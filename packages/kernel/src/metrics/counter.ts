import type { CounterMetric, MetricLabels } from '@gitops-reverser/contract';
import { LabelSets } from './label-sets.js';
import type { Collect, MetricFamily, MetricOptions, MetricSnapshot } from './metric-family.js';

/** A value that only goes up, per label set. Without label names it exists at 0 from the start. */
export class Counter<L extends string = string> implements CounterMetric<L>, MetricFamily {
  readonly type = 'counter';
  readonly name: string;
  readonly help: string;
  private readonly values: LabelSets<number>;
  private readonly collect: Collect | undefined;

  constructor(options: MetricOptions<L>) {
    this.name = options.name;
    this.help = options.help;
    this.collect = options.collect;
    this.values = new LabelSets(options.name, options.labelNames ?? []);
    if (!options.labelNames?.length) this.values.entry({}, () => 0);
  }

  inc(labels?: MetricLabels<L>, value = 1): void {
    if (!(value >= 0)) throw new Error(`counter ${this.name} cannot be increased by ${value}: a counter only goes up (use a gauge for a value that goes down)`);
    this.values.entry(labels, () => 0).value += value;
  }

  async get(): Promise<MetricSnapshot> {
    await this.collect?.();
    return { name: this.name, help: this.help, type: this.type, values: [...this.values.all()].map(({ labels, value }) => ({ labels, value })) };
  }
}
