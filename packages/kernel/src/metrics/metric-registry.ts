import { EXPOSITION_CONTENT_TYPE, renderExposition, renderFamily } from './exposition.js';
import type { MetricFamily, MetricSnapshot } from './metric-family.js';

/**
 * The metrics of one runtime, rendered for `/metrics`. Private to the runtime (two runtimes in one
 * process, as in tests, keep their own). Its read methods have the names and shapes of prom-client's
 * registry, which it replaced (docs/adr/0042-own-metrics-exposition.md), so code that read that one
 * reads this one.
 */
export class MetricRegistry {
  readonly contentType = EXPOSITION_CONTENT_TYPE;
  private readonly families = new Map<string, MetricFamily>();

  /** Adds a metric; a second metric of the same name is refused (get it with `getSingleMetric`). */
  register<M extends MetricFamily>(metric: M): M {
    if (this.families.has(metric.name)) throw new Error(`a metric named ${metric.name} is already registered: reuse it (getSingleMetric) or choose another name`);
    this.families.set(metric.name, metric);
    return metric;
  }

  getSingleMetric(name: string): MetricFamily | undefined {
    return this.families.get(name);
  }

  /** Every metric as read now, in the order registered. */
  async getMetricsAsJSON(): Promise<MetricSnapshot[]> {
    return await Promise.all([...this.families.values()].map((metric) => metric.get()));
  }

  /** One metric in the text format, `''` when there is none of that name. */
  async getSingleMetricAsString(name: string): Promise<string> {
    const metric = this.families.get(name);
    return metric ? renderFamily(await metric.get()) : '';
  }

  /** The `/metrics` body (Prometheus text exposition format 0.0.4, `contentType`). */
  async metrics(): Promise<string> {
    return renderExposition(await this.getMetricsAsJSON());
  }
}
