import type { LabelValues, MetricSnapshot } from './metric-family.js';

/** The content type of the Prometheus text exposition format this renders. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A `# HELP` text: backslash and line feed escaped (format 0.0.4; a double quote stays as is there). */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A label value between double quotes: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value as Prometheus parses it: `+Inf`, `-Inf`, `NaN` or a Go-parsable float. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function formatLabels(labels: LabelValues): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(String(value))}"`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

/** One metric family: its `# HELP` and `# TYPE` lines, then one line per sample. */
export function renderFamily(metric: MetricSnapshot): string {
  const lines = [`# HELP ${metric.name} ${escapeHelp(metric.help)}`, `# TYPE ${metric.name} ${metric.type}`];
  for (const sample of metric.values) lines.push(`${sample.metricName ?? metric.name}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
  return lines.join('\n');
}

/** A whole scrape: the families, a blank line between two, ending with a line feed. */
export function renderExposition(metrics: readonly MetricSnapshot[]): string {
  return `${metrics.map(renderFamily).join('\n\n')}\n`;
}
