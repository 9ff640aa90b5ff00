import type { MetricLabels } from '@gitops-reverser/contract';
import type { LabelValues } from './metric-family.js';

/**
 * The values of one metric per label set. A label set is keyed by its values in the order the
 * metric declares its label names, so `{a, b}` and `{b, a}` are one series and render alike; a label
 * the metric does not declare is a programming error and throws (Prometheus would reject the line
 * or, worse, split a series silently).
 */
export class LabelSets<V> {
  private readonly entries = new Map<string, { readonly labels: LabelValues; value: V }>();

  constructor(
    private readonly metricName: string,
    private readonly labelNames: readonly string[],
  ) {}

  /** The entry of a label set, created with `initial()` when new. */
  entry(labels: MetricLabels<string> | undefined, initial: () => V): { readonly labels: LabelValues; value: V } {
    const key = this.key(labels ?? {});
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { labels: this.ordered(labels ?? {}), value: initial() };
      this.entries.set(key, entry);
    }
    return entry;
  }

  all(): IterableIterator<{ readonly labels: LabelValues; value: V }> {
    return this.entries.values();
  }

  clear(): void {
    this.entries.clear();
  }

  private key(labels: MetricLabels<string>): string {
    for (const name of Object.keys(labels)) {
      if (!this.labelNames.includes(name)) {
        throw new Error(`metric ${this.metricName} has no label "${name}" (its labels: ${this.labelNames.join(', ') || 'none'}): pass only the label names it was created with`);
      }
    }
    // \u0001 marks a label left out, so it is a different series from an empty value.
    return this.labelNames.map((name) => (labels[name] === undefined ? '\u0001' : String(labels[name]))).join('\u0000');
  }

  private ordered(labels: MetricLabels<string>): LabelValues {
    const ordered: Record<string, string | number> = {};
    for (const name of this.labelNames) {
      const value = labels[name];
      if (value !== undefined) ordered[name] = value;
    }
    return ordered;
  }
}
