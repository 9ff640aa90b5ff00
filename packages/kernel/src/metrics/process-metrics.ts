import { readFileSync, readdirSync } from 'node:fs';
import { PerformanceObserver, constants, monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { Counter } from './counter.js';
import { Gauge } from './gauge.js';
import { Histogram } from './histogram.js';
import type { MetricRegistry } from './metric-registry.js';

/**
 * The process and Node.js metrics a Prometheus user expects of a Node.js process, with the names,
 * help texts and labels prom-client's default metrics gave them (the kernel used those until
 * docs/adr/0042-own-metrics-exposition.md), each under `prefix`. Values that live elsewhere are read
 * when scraped; only the event loop delay monitor and the GC observer run between scrapes.
 */
export function registerProcessMetrics(registry: MetricRegistry, prefix: string): void {
  const add = <M extends Counter | Gauge | Histogram>(metric: M): M => registry.register(metric);

  let lastCpu = process.cpuUsage();
  const cpuUser = add(
    new Counter({
      name: `${prefix}process_cpu_user_seconds_total`,
      help: 'Total user CPU time spent in seconds.',
      collect: () => {
        const now = process.cpuUsage();
        const user = (now.user - lastCpu.user) / 1e6;
        const system = (now.system - lastCpu.system) / 1e6;
        lastCpu = now;
        cpuUser.inc({}, user);
        cpuSystem.inc({}, system);
        cpuTotal.inc({}, user + system);
      },
    }),
  );
  const cpuSystem = add(new Counter({ name: `${prefix}process_cpu_system_seconds_total`, help: 'Total system CPU time spent in seconds.' }));
  const cpuTotal = add(new Counter({ name: `${prefix}process_cpu_seconds_total`, help: 'Total user and system CPU time spent in seconds.' }));

  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  const start: Gauge = add(new Gauge({ name: `${prefix}process_start_time_seconds`, help: 'Start time of the process since unix epoch in seconds.', collect: () => start.set({}, startSeconds) }));

  // /proc/self/status (Linux): resident, virtual and data segment sizes; elsewhere only the RSS Node.js reports.
  const resident: Gauge = add(
    new Gauge({
      name: `${prefix}process_resident_memory_bytes`,
      help: 'Resident memory size in bytes.',
      collect: () => {
        const status = procStatus();
        resident.set({}, status?.VmRSS ?? process.memoryUsage.rss());
        if (status?.VmSize !== undefined) virtual.set({}, status.VmSize);
        if (status?.VmData !== undefined) data.set({}, status.VmData);
      },
    }),
  );
  const virtual = add(new Gauge({ name: `${prefix}process_virtual_memory_bytes`, help: 'Virtual memory size in bytes.' }));
  const data = add(new Gauge({ name: `${prefix}process_heap_bytes`, help: 'Process heap size in bytes.' }));

  if (process.platform === 'linux') {
    const openFds: Gauge = add(
      new Gauge({
        name: `${prefix}process_open_fds`,
        help: 'Number of open file descriptors.',
        // Minus the descriptor readdirSync itself opened to list the directory.
        collect: () => {
          try {
            openFds.set({}, readdirSync('/proc/self/fd').length - 1);
          } catch {
            // procfs not mounted: the gauge keeps its last value rather than failing the scrape.
          }
        },
      }),
    );
    const maxFds = maxOpenFiles();
    if (maxFds !== undefined) {
      const max: Gauge = add(new Gauge({ name: `${prefix}process_max_fds`, help: 'Maximum number of open file descriptors.', collect: () => max.set({}, maxFds) }));
    }
  }

  // The delay of one setImmediate at scrape time, and the distribution between two scrapes sampled every 10 ms.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const lag: Gauge = add(
    new Gauge({
      name: `${prefix}nodejs_eventloop_lag_seconds`,
      help: 'Lag of event loop in seconds.',
      collect: async () => {
        const started = process.hrtime.bigint();
        await new Promise<void>((resolve) => setImmediate(resolve));
        lag.set({}, Number(process.hrtime.bigint() - started) / 1e9);
        lagMin.set({}, delay.min / 1e9);
        lagMax.set({}, delay.max / 1e9);
        lagMean.set({}, delay.mean / 1e9);
        lagStddev.set({}, delay.stddev / 1e9);
        lagP50.set({}, delay.percentile(50) / 1e9);
        lagP90.set({}, delay.percentile(90) / 1e9);
        lagP99.set({}, delay.percentile(99) / 1e9);
        delay.reset();
      },
    }),
  );
  const lagMin = add(new Gauge({ name: `${prefix}nodejs_eventloop_lag_min_seconds`, help: 'The minimum recorded event loop delay.' }));
  const lagMax = add(new Gauge({ name: `${prefix}nodejs_eventloop_lag_max_seconds`, help: 'The maximum recorded event loop delay.' }));
  const lagMean = add(new Gauge({ name: `${prefix}nodejs_eventloop_lag_mean_seconds`, help: 'The mean of the recorded event loop delays.' }));
  const lagStddev = add(new Gauge({ name: `${prefix}nodejs_eventloop_lag_stddev_seconds`, help: 'The standard deviation of the recorded event loop delays.' }));
  const lagP50 = add(new Gauge({ name: `${prefix}nodejs_eventloop_lag_p50_seconds`, help: 'The 50th percentile of the recorded event loop delays.' }));
  const lagP90 = add(new Gauge({ name: `${prefix}nodejs_eventloop_lag_p90_seconds`, help: 'The 90th percentile of the recorded event loop delays.' }));
  const lagP99 = add(new Gauge({ name: `${prefix}nodejs_eventloop_lag_p99_seconds`, help: 'The 99th percentile of the recorded event loop delays.' }));

  const resources: Gauge<'type'> = add(
    new Gauge({
      name: `${prefix}nodejs_active_resources`,
      help: 'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.',
      labelNames: ['type'],
      collect: () => {
        const active = process.getActiveResourcesInfo();
        resources.reset();
        for (const type of active) resources.inc({ type });
        resourcesTotal.set({}, active.length);
      },
    }),
  );
  const resourcesTotal = add(new Gauge({ name: `${prefix}nodejs_active_resources_total`, help: 'Total number of active resources.' }));

  const heapTotal: Gauge = add(
    new Gauge({
      name: `${prefix}nodejs_heap_size_total_bytes`,
      help: 'Process heap size from Node.js in bytes.',
      collect: () => {
        const usage = process.memoryUsage();
        heapTotal.set({}, usage.heapTotal);
        heapUsed.set({}, usage.heapUsed);
        external.set({}, usage.external);
      },
    }),
  );
  const heapUsed = add(new Gauge({ name: `${prefix}nodejs_heap_size_used_bytes`, help: 'Process heap size used from Node.js in bytes.' }));
  const external = add(new Gauge({ name: `${prefix}nodejs_external_memory_bytes`, help: 'Node.js external memory size in bytes.' }));

  const spaceTotal: Gauge<'space'> = add(
    new Gauge({
      name: `${prefix}nodejs_heap_space_size_total_bytes`,
      help: 'Process heap space size total from Node.js in bytes.',
      labelNames: ['space'],
      collect: () => {
        for (const space of getHeapSpaceStatistics()) {
          const name = space.space_name.replace(/_space$/, '');
          spaceTotal.set({ space: name }, space.space_size);
          spaceUsed.set({ space: name }, space.space_used_size);
          spaceAvailable.set({ space: name }, space.space_available_size);
        }
      },
    }),
  );
  const spaceUsed = add(new Gauge({ name: `${prefix}nodejs_heap_space_size_used_bytes`, help: 'Process heap space size used from Node.js in bytes.', labelNames: ['space'] }));
  const spaceAvailable = add(new Gauge({ name: `${prefix}nodejs_heap_space_size_available_bytes`, help: 'Process heap space size available from Node.js in bytes.', labelNames: ['space'] }));

  const [major, minor, patch] = process.versions.node.split('.');
  const version: Gauge<'version' | 'major' | 'minor' | 'patch'> = add(
    new Gauge({
      name: `${prefix}nodejs_version_info`,
      help: 'Node.js version info.',
      labelNames: ['version', 'major', 'minor', 'patch'],
      collect: () => version.set({ version: process.version, major: Number(major), minor: Number(minor), patch: Number(patch) }, 1),
    }),
  );

  const gc = add(
    new Histogram<'kind'>({
      name: `${prefix}nodejs_gc_duration_seconds`,
      help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
      labelNames: ['kind'],
      buckets: [0.001, 0.01, 0.1, 1, 2, 5],
    }),
  );
  const gcKinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      // The GC kind is in `detail` since Node.js 16 (the entry's own `kind` is deprecated).
      const kind = gcKinds[(entry as { detail?: { kind?: number } }).detail?.kind ?? -1];
      if (kind) gc.observe({ kind }, entry.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
}

/** VmRSS, VmSize and VmData of /proc/self/status in bytes; undefined where there is no procfs. */
function procStatus(): Partial<Record<'VmRSS' | 'VmSize' | 'VmData', number>> | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return undefined;
  }
  const values: Partial<Record<'VmRSS' | 'VmSize' | 'VmData', number>> = {};
  for (const match of text.matchAll(/^(VmRSS|VmSize|VmData):\s+(\d+) kB$/gm)) values[match[1] as 'VmRSS'] = Number(match[2]) * 1024;
  return values;
}

/** The soft limit of open files (/proc/self/limits), undefined where it cannot be read. */
function maxOpenFiles(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const limit = Number(line?.split(/ {2,}/)[1]);
    return Number.isFinite(limit) ? limit : undefined;
  } catch {
    return undefined;
  }
}
