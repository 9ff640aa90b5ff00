import { describe, expect, it } from 'vitest';
import { Counter } from '../src/metrics/counter.js';
import { EXPOSITION_CONTENT_TYPE, escapeHelp, escapeLabelValue, formatValue, renderExposition } from '../src/metrics/exposition.js';
import { Gauge } from '../src/metrics/gauge.js';
import { Histogram } from '../src/metrics/histogram.js';
import { MetricRegistry } from '../src/metrics/metric-registry.js';
import { KernelMetrics } from '../src/runtime/metrics.js';

describe('Prometheus text exposition (format 0.0.4)', () => {
  it('escapes backslash, double quote and line feed in label values; backslash and line feed in help', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(escapeLabelValue('plain value, with {braces} = and spaces')).toBe('plain value, with {braces} = and spaces');
    expect(escapeHelp('one \\ two\nthree "quoted"')).toBe('one \\\\ two\\nthree "quoted"');
  });

  it('writes values as Prometheus parses them', () => {
    expect([0, 1, -2.5, 0.000001, 1e21, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN].map(formatValue)).toEqual(['0', '1', '-2.5', '0.000001', '1e+21', '+Inf', '-Inf', 'NaN']);
  });

  it('renders each family as HELP, TYPE and its samples, a blank line between families, ending with a line feed', async () => {
    const registry = new MetricRegistry();
    const counter = registry.register(new Counter({ name: 'app_events_total', help: 'Events.\nSecond line.', labelNames: ['source', 'phase'] }));
    registry.register(new Gauge({ name: 'app_depth', help: 'Depth.' }));
    counter.inc({ phase: 'live', source: 'x"y' });
    counter.inc({ source: 'x"y', phase: 'live' }, 2);
    expect(registry.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(EXPOSITION_CONTENT_TYPE).toBe(registry.contentType);
    expect(await registry.metrics()).toBe(
      [
        '# HELP app_events_total Events.\\nSecond line.',
        '# TYPE app_events_total counter',
        // Labels in the order the metric declares them, whatever order a caller passed them in: one series.
        'app_events_total{source="x\\"y",phase="live"} 3',
        '',
        '# HELP app_depth Depth.',
        '# TYPE app_depth gauge',
        'app_depth 0',
        '',
      ].join('\n'),
    );
  });

  it('renders a labelled metric nobody has used yet as HELP and TYPE only', () => {
    expect(renderExposition([{ name: 'app_refused_total', help: 'Refused.', type: 'counter', values: [] }])).toBe('# HELP app_refused_total Refused.\n# TYPE app_refused_total counter\n');
  });
});

describe('metric types', () => {
  it('a histogram counts into cumulative buckets ending with +Inf, with _sum and _count, le after the other labels', async () => {
    const histogram = new Histogram({ name: 'app_seconds', help: 'Time.', labelNames: ['partition'], buckets: [1, 0.1, 0.5] });
    expect(histogram.buckets).toEqual([0.1, 0.5, 1]);
    for (const value of [0.05, 0.1, 0.3, 2]) histogram.observe({ partition: 'p' }, value);
    expect(renderExposition([await histogram.get()])).toBe(
      [
        '# HELP app_seconds Time.',
        '# TYPE app_seconds histogram',
        'app_seconds_bucket{partition="p",le="0.1"} 2',
        'app_seconds_bucket{partition="p",le="0.5"} 3',
        'app_seconds_bucket{partition="p",le="1"} 3',
        'app_seconds_bucket{partition="p",le="+Inf"} 4',
        'app_seconds_sum{partition="p"} 2.45',
        'app_seconds_count{partition="p"} 4',
        '',
      ].join('\n'),
    );
  });

  it('a histogram without labels exists at zero; its timer records the seconds elapsed with the labels of start and end', async () => {
    const plain = new Histogram({ name: 'app_wait_seconds', help: 'Wait.', buckets: [1] });
    expect((await plain.get()).values.map((v) => [v.metricName, v.value])).toEqual([
      ['app_wait_seconds_bucket', 0],
      ['app_wait_seconds_bucket', 0],
      ['app_wait_seconds_sum', 0],
      ['app_wait_seconds_count', 0],
    ]);
    const timed = new Histogram({ name: 'app_apply_seconds', help: 'Apply.', labelNames: ['partition', 'status'], buckets: [60] });
    const stop = timed.startTimer({ partition: 'p' });
    const seconds = stop({ status: 'applied' });
    expect(seconds).toBeGreaterThanOrEqual(0);
    const values = (await timed.get()).values;
    expect(values.find((v) => v.metricName === 'app_apply_seconds_count')).toEqual({ metricName: 'app_apply_seconds_count', labels: { partition: 'p', status: 'applied' }, value: 1 });
    expect(values.find((v) => v.metricName === 'app_apply_seconds_sum')?.value).toBe(seconds);
  });

  it('refuses what would make a wrong series: an undeclared label, a counter going down, a histogram label named le, bad buckets', () => {
    const counter = new Counter({ name: 'app_total', help: 'x', labelNames: ['target'] });
    expect(() => counter.inc({ tagret: 'a' } as never)).toThrow('metric app_total has no label "tagret" (its labels: target)');
    expect(() => counter.inc({ target: 'a' }, -1)).toThrow('counter app_total cannot be increased by -1');
    expect(() => counter.inc({ target: 'a' }, Number.NaN)).toThrow('cannot be increased by NaN');
    expect(() => new Histogram({ name: 'app_h', help: 'x', labelNames: ['le'] })).toThrow('cannot have a label "le"');
    expect(() => new Histogram({ name: 'app_h', help: 'x', buckets: [1, 1] })).toThrow('give distinct finite upper bounds');
    expect(() => new Histogram({ name: 'app_h', help: 'x', buckets: [1, Number.POSITIVE_INFINITY] })).toThrow('give distinct finite upper bounds');
  });

  it('a gauge goes up and down per label set; reset forgets every label set (an unlabelled gauge goes back to 0)', async () => {
    const gauge = new Gauge({ name: 'app_queue', help: 'x', labelNames: ['partition'] });
    gauge.set({ partition: 'a' }, 5);
    gauge.inc({ partition: 'a' }, 2);
    gauge.dec({ partition: 'b' });
    expect((await gauge.get()).values).toEqual([
      { labels: { partition: 'a' }, value: 7 },
      { labels: { partition: 'b' }, value: -1 },
    ]);
    gauge.reset();
    expect((await gauge.get()).values).toEqual([]);
    const plain = new Gauge({ name: 'app_up', help: 'x' });
    plain.set({}, 1);
    plain.reset();
    expect((await plain.get()).values).toEqual([{ labels: {}, value: 0 }]);
  });

  it('a registry refuses a second metric of one name and reads one metric alone', async () => {
    const registry = new MetricRegistry();
    registry.register(new Counter({ name: 'app_total', help: 'x' })).inc();
    expect(() => registry.register(new Gauge({ name: 'app_total', help: 'y' }))).toThrow('a metric named app_total is already registered');
    expect(await registry.getSingleMetricAsString('app_total')).toBe('# HELP app_total x\n# TYPE app_total counter\napp_total 1');
    expect(await registry.getSingleMetricAsString('app_none')).toBe('');
    expect((await registry.getSingleMetric('app_total')?.get())?.values).toEqual([{ labels: {}, value: 1 }]);
  });
});

describe('KernelMetrics', () => {
  it('gives an adapter its metric again when asked twice (get-or-create), and names a clash of kinds', () => {
    const metrics = new KernelMetrics();
    const first = metrics.counter('x_total', 'x', ['a']);
    expect(metrics.counter('x_total', 'x', ['a'])).toBe(first);
    expect(metrics.histogram('y_seconds', 'y', [], [1])).toBe(metrics.histogram('y_seconds', 'y', [], [1]));
    expect(metrics.gauge('z', 'z', [])).toBe(metrics.gauge('z', 'z', []));
    expect(() => metrics.gauge('x_total', 'x', ['a'])).toThrow('metric gitops_reverser_x_total is already registered as a counter; asked for again as a gauge');
  });

  it('with processMetrics, serves the process and Node.js metrics README.md lists, read from this process', async () => {
    const metrics = new KernelMetrics({ processMetrics: true });
    const byName = new Map((await metrics.registry.getMetricsAsJSON()).map((m) => [m.name, m]));
    const value = (name: string) => byName.get(`gitops_reverser_${name}`)?.values[0]?.value;
    // The names README.md promises (packages/kernel/README.md, "Metrics").
    const promised = [
      ['process_cpu_user_seconds_total', 'counter'],
      ['process_cpu_system_seconds_total', 'counter'],
      ['process_cpu_seconds_total', 'counter'],
      ['process_start_time_seconds', 'gauge'],
      ['process_resident_memory_bytes', 'gauge'],
      ['process_virtual_memory_bytes', 'gauge'],
      ['process_heap_bytes', 'gauge'],
      ['process_open_fds', 'gauge'],
      ['process_max_fds', 'gauge'],
      ['nodejs_eventloop_lag_seconds', 'gauge'],
      ['nodejs_eventloop_lag_min_seconds', 'gauge'],
      ['nodejs_eventloop_lag_max_seconds', 'gauge'],
      ['nodejs_eventloop_lag_mean_seconds', 'gauge'],
      ['nodejs_eventloop_lag_stddev_seconds', 'gauge'],
      ['nodejs_eventloop_lag_p50_seconds', 'gauge'],
      ['nodejs_eventloop_lag_p90_seconds', 'gauge'],
      ['nodejs_eventloop_lag_p99_seconds', 'gauge'],
      ['nodejs_active_resources', 'gauge'],
      ['nodejs_active_resources_total', 'gauge'],
      ['nodejs_heap_size_total_bytes', 'gauge'],
      ['nodejs_heap_size_used_bytes', 'gauge'],
      ['nodejs_external_memory_bytes', 'gauge'],
      ['nodejs_heap_space_size_total_bytes', 'gauge'],
      ['nodejs_heap_space_size_used_bytes', 'gauge'],
      ['nodejs_heap_space_size_available_bytes', 'gauge'],
      ['nodejs_version_info', 'gauge'],
      ['nodejs_gc_duration_seconds', 'histogram'],
    ];
    expect(promised.filter(([name, type]) => byName.get(`gitops_reverser_${name}`)?.type !== type)).toEqual([]);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    // Whole seconds, as prom-client wrote it: this process started within a second of that.
    expect(Math.abs((value('process_start_time_seconds') ?? 0) - (Date.now() / 1000 - process.uptime()))).toBeLessThanOrEqual(1);
    expect(value('process_open_fds')).toBeGreaterThan(2);
    expect(value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(value('nodejs_eventloop_lag_seconds')).toBeGreaterThan(0);
    expect(byName.get('gitops_reverser_nodejs_version_info')?.values).toEqual([
      { labels: { version: process.version, major: Number(process.versions.node.split('.')[0]), minor: expect.any(Number), patch: expect.any(Number) }, value: 1 },
    ]);
    expect(byName.get('gitops_reverser_nodejs_heap_space_size_used_bytes')?.values.map((v) => v.labels.space)).toContain('old');
  });
});
