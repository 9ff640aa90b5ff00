import {
  backoffDelayMs,
  errorText,
  grError,
  rulesForCluster,
  type AdapterHealth,
  type AdapterSlot,
  type Clock,
  type Normalizer,
  type PartitionLease,
  type PlannedTarget,
  type Selection,
  type SinkContext,
  type SinkPartition,
  type SourceContext,
} from '@gitops-reverser/contract';
import type { DependencyContainer } from 'tsyringe';
import { assemble, type AssembledAdapter, type AssembledSource, type Assembly, type GivenAdapters } from '../assembly/assemble.js';
import type { GitopsReverserConfig } from '../config/config-types.js';
import { defineConfig, type ConfigInput, type LoadConfigOptions } from '../config/load-config.js';
import { ErrorCodes } from '../errors.js';
import { createDefaultSanitizer } from '../normalize/default-sanitizer.js';
import { RouteTable } from '../routing/route-table.js';
import { OperationsServer, type HealthReport } from './http-server.js';
import { Ingest } from './ingest.js';
import { createLogger, type Logger } from './logger.js';
import { KernelMetrics } from './metrics.js';
import { PartitionWorker } from './partition-worker.js';
import { withTimeout } from './with-timeout.js';

export interface RuntimeOptions {
  readonly logger?: Logger;
  readonly metrics?: KernelMetrics;
  readonly clock?: Clock;
  /** Adapters given in code; each slot given replaces that slot of the config. */
  readonly adapters?: GivenAdapters;
  /**
   * Serve /healthz /readyz /metrics. Default: `server.enabled` of the config, else false: an embedded
   * runtime opens no port unless asked (the CLI passes true).
   */
  readonly serve?: boolean;
}

/** Counts reported while `Runtime.snapshot()` runs. */
export interface SnapshotProgress {
  /** Sources past their first snapshot (ready, degraded or failed), of `sources`. */
  readonly sourcesSeeded: number;
  readonly sources: number;
  /** Types (per namespace) the sources watch, as their health details report them once seeded. */
  readonly watchedTypes: number;
  /** Objects handed to the kernel by sources, seed and live. */
  readonly objectsReceived: number;
  /** Objects the sink reported applied or unchanged. */
  readonly objectsWritten: number;
  /** Messages on the bus not yet written. */
  readonly queued: number;
  readonly elapsedMs: number;
}

/** What `Runtime.snapshot()` found: complete, or the problems that kept it from being so. */
export interface SnapshotReport {
  readonly complete: boolean;
  readonly problems: readonly string[];
  readonly progress: SnapshotProgress;
}

/** `createRuntime`'s input: a config (object as written, or already validated) plus runtime options. */
export interface CreateRuntimeOptions extends RuntimeOptions, LoadConfigOptions {
  readonly config: ConfigInput | GitopsReverserConfig;
  /** Folder relative paths in an object config resolve against (default: the current folder). */
  readonly baseDir?: string;
}

/**
 * Builds a runtime in code: the config object is validated exactly like a file (defaults, schema,
 * references, adapter options, target plan), adapters given in `adapters` replace their config slots.
 * Nothing starts until `start()`.
 */
export async function createRuntime(options: CreateRuntimeOptions): Promise<Runtime> {
  const config = isValidated(options.config)
    ? options.config
    : defineConfig(options.config, { ...(options.baseDir ? { baseDir: options.baseDir } : {}), ...(options.env ? { env: options.env } : {}) });
  return Runtime.create(config, options);
}

function isValidated(config: ConfigInput | GitopsReverserConfig): config is GitopsReverserConfig {
  return typeof (config as GitopsReverserConfig).configFile === 'string' && typeof (config as GitopsReverserConfig).baseDir === 'string';
}

type RuntimeState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

/** A partition worker and how it is doing; a crashed worker is restarted with backoff. */
interface WorkerSlot {
  worker: PartitionWorker;
  readonly lease: PartitionLease;
  /** Set while the worker is down between a crash and its restart. */
  down?: { reason: string; since: number; restarts: number };
  running: Promise<void>;
}

/** How long a start() may run silently before the runtime says it is still waiting. */
const START_NOTICE_MS = 10_000;

/**
 * One running gitops-reverser: adapters created through a DI container (see assemble), started in
 * order (sink, bus, partition workers, normalizers, sources) and stopped in reverse (sources, drain the
 * bus, flush the sink), with a timeout per step.
 */
export class Runtime {
  private state: RuntimeState = 'created';
  private config: GitopsReverserConfig;
  private routes: RouteTable;
  private readonly ingest: Ingest;
  private readonly workers = new Map<string, WorkerSlot>();
  private readonly stopping = new AbortController();
  private server: OperationsServer | undefined;
  private serverPort: number | undefined;

  private constructor(
    config: GitopsReverserConfig,
    readonly logger: Logger,
    readonly metrics: KernelMetrics,
    private readonly assembly: Assembly,
    private readonly serve: boolean,
  ) {
    this.config = config;
    this.routes = new RouteTable(config.rules, assembly.targets, assembly.plan.partitions);
    this.ingest = new Ingest({
      bus: assembly.bus.instance,
      routes: this.routes,
      normalizers: [createDefaultSanitizer(config.sanitizer), ...orderedChain(assembly.normalizers.map((n) => n.instance))],
      logger: logger.child({ component: 'ingest' }),
      metrics,
    });
  }

  /** Loads (or takes) the adapters, creates and checks them; nothing is started yet. */
  static async create(config: GitopsReverserConfig, options: RuntimeOptions = {}): Promise<Runtime> {
    const logger = options.logger ?? createLogger(config.log.level);
    const metrics = options.metrics ?? new KernelMetrics({ processMetrics: true });
    const assembly = await assemble(config, { logger, metrics, ...(options.clock ? { clock: options.clock } : {}), ...(options.adapters ? { given: options.adapters } : {}) });
    return new Runtime(config, logger, metrics, assembly, options.serve ?? config.server.enabled ?? false);
  }

  /** The DI container the adapters were created in (kernel services and provided services are registered there). */
  get container(): DependencyContainer {
    return this.assembly.container;
  }

  /** The port /healthz /readyz /metrics listen on (after start; useful with `server.port: 0`). */
  get port(): number | undefined {
    return this.serverPort;
  }

  async start(): Promise<void> {
    if (this.state !== 'created') throw new Error(`runtime cannot start from state ${this.state}`);
    this.state = 'starting';
    const { logger, assembly } = this;
    if (this.serve) {
      this.server = new OperationsServer({
        host: this.config.server.host,
        port: this.config.server.port,
        metrics: this.metrics,
        logger,
        health: () => this.health(),
        beforeScrape: () => this.refreshGauges(),
      });
      this.serverPort = (await this.server.listen()).port;
    }
    try {
      const sink = assembly.sink;
      const sinkContext: SinkContext = {
        logger: logger.child({ adapter: sink.name }),
        metrics: this.metrics,
        // Read on use: after a reload the sink sees the new targets.
        targets: (): PlannedTarget[] => this.routes.routes().map((route) => ({ target: route.target, partition: route.partition })),
      };
      await this.startAdapter(sink, () => sink.instance.start(sinkContext));
      await this.startAdapter(assembly.bus, () => assembly.bus.instance.start({ logger: logger.child({ adapter: assembly.bus.name }), metrics: this.metrics }));
      assembly.bus.instance.consume((lease) => this.superviseWorker(lease));
      for (const normalizer of assembly.normalizers) await this.startAdapter(normalizer, () => normalizer.instance.start?.() ?? Promise.resolve());
      for (const source of assembly.sources) await this.startAdapter(source, () => source.instance.start(this.sourceContext(source)));
    } catch (error) {
      await this.stop('start failed');
      throw error;
    }
    this.state = 'running';
    logger.info(
      { clusters: [...new Set(assembly.sources.map((s) => s.cluster))], sources: assembly.sources.map((s) => s.name), bus: assembly.bus.name, sink: assembly.sink.name },
      'gitops-reverser started',
    );
  }

  /**
   * Waits until every source has written its first snapshot and the bus is empty, then flushes the
   * sink (a git sink pushes) and reports what could not be done: a source still starting, a type it
   * may not read (degraded), a sink that cannot write or push. Call after start(); stop() after it.
   * `onProgress` is called about every `intervalMs` with counts, for a progress display.
   */
  async snapshot(options: { timeoutMs: number; intervalMs?: number; onProgress?: (progress: SnapshotProgress) => void }): Promise<SnapshotReport> {
    if (this.state !== 'running') throw new Error(`snapshot() needs a running runtime (state: ${this.state}); call start() first`);
    const deadline = Date.now() + options.timeoutMs;
    const progress = async (): Promise<SnapshotProgress> => {
      const sum = async (metric: { get(): Promise<{ values: { value: number; labels: Record<string, string | number> }[] }> }, status?: string[]) =>
        (await metric.get()).values.filter((v) => !status || status.includes(String(v.labels['status']))).reduce((total, v) => total + v.value, 0);
      const sources = this.assembly.sources.map((source) => ({ name: source.name, cluster: source.cluster, ...safeHealth(source) }));
      return {
        sourcesSeeded: sources.filter((s) => s.state !== 'starting').length,
        sources: sources.length,
        watchedTypes: sources.reduce((total, s) => total + (typeof s.details?.['watches'] === 'number' ? s.details['watches'] : 0), 0),
        objectsReceived: await sum(this.metrics.eventsReceived),
        objectsWritten: await sum(this.metrics.sinkOutcomes, ['applied', 'unchanged']),
        queued: [...this.assembly.bus.instance.depth().values()].reduce((total, n) => total + n, 0),
        elapsedMs: Date.now() - (deadline - options.timeoutMs),
      };
    };
    let current = await progress();
    while (current.sourcesSeeded < current.sources || current.queued > 0) {
      if (Date.now() > deadline) break;
      options.onProgress?.(current);
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
      current = await progress();
    }
    await this.assembly.sink.instance.flush();
    current = await progress();
    options.onProgress?.(current);
    const problems: string[] = [];
    for (const source of this.assembly.sources) {
      const report = safeHealth(source);
      if (report.state === 'starting')
        problems.push(
          `source ${source.name} (cluster ${source.cluster}) did not finish its first snapshot within ${Math.round(options.timeoutMs / 1000)} s${report.reason ? `: ${report.reason}` : ''}`,
        );
      else if (report.state !== 'ready') problems.push(`source ${source.name} (cluster ${source.cluster}) is ${report.state}: ${report.reason ?? 'no reason given'}`);
    }
    if (current.queued > 0) problems.push(`${current.queued} change(s) still queued for the sink when the time ran out`);
    const sink = safeHealth(this.assembly.sink);
    if (sink.state !== 'ready') problems.push(`sink ${this.assembly.sink.name} is ${sink.state}: ${sink.reason ?? 'no reason given'}`);
    return { complete: problems.length === 0, problems, progress: current };
  }

  /**
   * Ordered shutdown within `shutdown.timeoutSeconds`: readiness goes 503, sources stop, the bus
   * drains (workers keep writing until it is empty), the sink flushes, then everything closes.
   * Returns false when a step ran out of time.
   */
  async stop(reason = 'stop requested'): Promise<boolean> {
    if (this.state === 'stopping' || this.state === 'stopped') return true;
    this.state = 'stopping';
    const deadline = Date.now() + this.config.shutdown.timeoutSeconds * 1000;
    const left = () => Math.max(0, deadline - Date.now());
    const { logger, assembly } = this;
    logger.info({ reason }, 'stopping: sources, then draining the bus, then flushing the sink');
    let clean = true;
    const step = async (label: string, run: () => Promise<unknown>) => {
      try {
        const result = await withTimeout(run(), left());
        if (result.timedOut) {
          clean = false;
          logger.warn({ step: label }, `shutdown step "${label}" ran out of time`);
        }
      } catch (error) {
        clean = false;
        logger.error({ step: label, err: errorText(error) }, `shutdown step "${label}" failed: ${errorText(error)}`);
      }
    };
    for (const source of assembly.sources) await step(`stop source ${source.name}`, () => source.instance.stop());
    await step('drain bus', async () => {
      const drained = await assembly.bus.instance.drain(left());
      if (!drained) {
        clean = false;
        const depth = [...assembly.bus.instance.depth()].filter(([, n]) => n > 0);
        logger.warn({ undelivered: Object.fromEntries(depth) }, 'bus not drained before the shutdown timeout');
      }
    });
    this.stopping.abort();
    await step('stop partition workers', () =>
      Promise.all(
        [...this.workers.values()].map((slot) => {
          slot.worker.stop();
          return slot.running;
        }),
      ),
    );
    await step('flush sink', () => assembly.sink.instance.flush());
    await step('stop sink', () => assembly.sink.instance.stop());
    await step('stop bus', () => assembly.bus.instance.stop());
    for (const normalizer of assembly.normalizers) await step(`stop normalizer ${normalizer.name}`, () => normalizer.instance.stop?.() ?? Promise.resolve());
    await this.server?.close();
    this.state = 'stopped';
    logger.info({ clean }, clean ? 'stopped cleanly' : 'stopped, with steps that timed out or failed (see above)');
    return clean;
  }

  /**
   * Applies a new config at run time (SIGHUP). Rules and targets take effect (the sink plans the new
   * targets first: a target it cannot serve refuses the whole reload); sources learn which targets'
   * selections changed and reseed those. Changes to adapters (`use`/`with`/`cluster`), server or
   * sanitizer need a restart and are reported, not applied.
   */
  async reload(next: GitopsReverserConfig): Promise<{ changedTargets: string[]; needsRestart: string[] }> {
    const previous = this.config;
    const { targets, plan } = this.assembly.planTargets(next);
    const needsRestart = restartOnlyChanges(previous, next);
    const nextRoutes = new RouteTable(next.rules, targets, plan.partitions);
    const changedTargets = changedTargetsBetween(this.routes, nextRoutes);
    this.config = next;
    this.routes = nextRoutes;
    this.ingest.setRoutes(nextRoutes);
    for (const source of this.assembly.sources) {
      if (source.instance.updateSelection) {
        await source.instance.updateSelection(this.selectionFor(source.cluster), changedTargets);
      } else if (changedTargets.length > 0) {
        await source.instance.stop();
        await source.instance.start(this.sourceContext(source));
      }
    }
    if (needsRestart.length > 0) {
      this.logger.warn({ keys: needsRestart }, `config reloaded; these changes need a restart to take effect: ${needsRestart.join(', ')}`);
    }
    this.logger.info({ changedTargets }, 'config reloaded');
    return { changedTargets, needsRestart };
  }

  health(): HealthReport {
    const { assembly } = this;
    const adapters = [...assembly.sources, assembly.bus, assembly.sink].map((adapter) => {
      const report = safeHealth(adapter);
      return { slot: adapter.slot, name: adapter.name, state: report.state, ...(report.reason ? { reason: report.reason } : {}) };
    });
    const workersDown = [...this.workers.entries()]
      .filter(([, slot]) => slot.down)
      .map(([partition, slot]) => ({ partition, state: 'restarting', reason: slot.down?.reason ?? '', restarts: slot.down?.restarts ?? 0 }));
    const adaptersReady = adapters.every((a) => a.state === 'ready' || a.state === 'degraded');
    const ready = this.state === 'running' && adaptersReady && workersDown.length === 0;
    const status = this.state !== 'running' ? this.state : !ready ? 'not ready' : adapters.some((a) => a.state === 'degraded') ? 'degraded' : 'ready';
    return { ready, status, adapters, ...(workersDown.length > 0 ? { workers: workersDown } : {}) };
  }

  /**
   * Runs a partition's worker and restarts it with backoff when it stops on an error, so a sink or
   * bus fault never leaves a dead worker behind a green probe: /readyz is 503 while it is down.
   */
  private superviseWorker(lease: PartitionLease): void {
    const key = lease.partitionKey;
    this.workers.get(key)?.worker.stop();
    const newWorker = () =>
      new PartitionWorker({
        lease,
        sink: this.assembly.sink.instance,
        sinkName: this.assembly.sink.name,
        partition: (): SinkPartition => this.routes.partition(key) ?? { key },
        logger: this.logger.child({ partition: key }),
        metrics: this.metrics,
        attributionWaitMs: this.attributionWaitMs(),
      });
    const slot: WorkerSlot = { worker: newWorker(), lease, running: Promise.resolve() };
    this.workers.set(key, slot);
    const loop = async () => {
      for (let restarts = 0; ; ) {
        try {
          await slot.worker.run();
          return; // stopped or lease revoked
        } catch (error) {
          if (this.stopping.signal.aborted || lease.revoked.aborted) return;
          restarts++;
          const delayMs = backoffDelayMs(restarts, { baseMs: 200, maxMs: 10_000 });
          const reason = grError(ErrorCodes.WORKER_CRASHED, `the worker of ${key} stopped on an error: ${errorText(error)}`, {
            fix: `it restarts in ${delayMs} ms; nothing it held is lost (unacked messages are redelivered)`,
          }).describe();
          slot.down = { reason, since: Date.now(), restarts };
          this.metrics.workerRestarts.inc({ partition: key });
          this.logger.error({ partition: key, restarts, retryInMs: delayMs }, reason);
          await abortableSleep(delayMs, AbortSignal.any([this.stopping.signal, lease.revoked]));
          if (this.stopping.signal.aborted || lease.revoked.aborted) return;
          slot.worker = newWorker();
          slot.down = undefined;
          this.logger.info({ partition: key, restarts }, `restarted the worker of ${key}`);
        }
      }
    };
    slot.running = loop();
  }

  /** `attribution.waitMs`, else 1500 ms when a source attributes (an audit source), else 0. */
  private attributionWaitMs(): number {
    return this.config.attribution.waitMs ?? (this.assembly.sources.some((source) => source.instance.attributes === true) ? 1500 : 0);
  }

  private selectionFor(cluster: string): Selection {
    const rules = rulesForCluster(this.config.rules, cluster);
    return { rules, targets: [...new Set(rules.map((rule) => rule.target))] };
  }

  private sourceContext(source: AssembledSource): SourceContext {
    const runtime = this;
    return {
      clusterId: source.cluster,
      get selection() {
        return runtime.selectionFor(source.cluster);
      },
      logger: this.logger.child({ adapter: source.name }),
      metrics: this.metrics,
      emit: async (event) => {
        await this.ingest.accept(event, source.name);
      },
      beginSnapshot: (targets) => this.ingest.beginSnapshot(targets ?? this.selectionFor(source.cluster).targets, source.name, source.cluster),
      attribute: (fact) => this.ingest.attribute(fact, source.name),
    };
  }

  private async startAdapter(adapter: AssembledAdapter<AdapterSlot>, start: () => Promise<void>): Promise<void> {
    const timeoutMs = this.config.startup.timeoutSeconds * 1000;
    const notice = setTimeout(
      () => {
        this.logger.warn(
          { slot: adapter.slot, adapter: adapter.name },
          `still waiting for ${adapter.slot} "${adapter.name}" to start (it has ${this.config.startup.timeoutSeconds}s: startup.timeoutSeconds)`,
        );
      },
      Math.min(START_NOTICE_MS, timeoutMs),
    );
    notice.unref();
    let result: Awaited<ReturnType<typeof withTimeout>>;
    try {
      result = await withTimeout(Promise.resolve().then(start), timeoutMs);
    } catch (cause) {
      throw grError(ErrorCodes.PLUGIN_LIFECYCLE, `${adapter.slot} adapter "${adapter.name}" failed to start: ${errorText(cause)}`, {
        fix: 'see the cause above; check the adapter options and that what it connects to is reachable',
        cause,
      });
    } finally {
      clearTimeout(notice);
    }
    if (result.timedOut) {
      throw grError(ErrorCodes.PLUGIN_START_TIMEOUT, `${adapter.slot} adapter "${adapter.name}" did not finish start() within ${this.config.startup.timeoutSeconds}s`, {
        fix: 'check what it connects to; raise startup.timeoutSeconds if a first seed of a large cluster needs longer',
      });
    }
    this.metrics.adapterUp.set({ slot: adapter.slot, adapter: adapter.name }, 1);
  }

  private refreshGauges(): void {
    this.metrics.queueDepth.reset();
    for (const [partition, depth] of this.assembly.bus.instance.depth()) this.metrics.queueDepth.set({ partition }, depth);
    for (const adapter of [...this.assembly.sources, this.assembly.bus, this.assembly.sink]) {
      const state = safeHealth(adapter).state;
      this.metrics.adapterUp.set({ slot: adapter.slot, adapter: adapter.name }, state === 'ready' || state === 'degraded' ? 1 : 0);
    }
  }
}

/** The sanitize phase keeps config order, then the encode phase: encoding always sees sanitized content. */
function orderedChain(normalizers: readonly Normalizer[]): Normalizer[] {
  return [...normalizers.filter((n) => n.phase !== 'encode'), ...normalizers.filter((n) => n.phase === 'encode')];
}

function safeHealth(adapter: AssembledAdapter<AdapterSlot>): AdapterHealth {
  try {
    const report = (adapter.instance as { health?: () => AdapterHealth }).health?.();
    return report && typeof report.state === 'string' ? report : { state: 'failed', reason: 'health() returned no state' };
  } catch (error) {
    return { state: 'failed', reason: errorText(error) };
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Targets whose definition (options, partition) or rules differ between two route tables. */
export function changedTargetsBetween(previous: RouteTable, next: RouteTable): string[] {
  const signature = (table: RouteTable, name: string) => {
    const route = table.route(name);
    const rules = table.rules.filter((rule) => rule.target === name).map(({ keyPath: _k, ...rule }) => rule);
    return JSON.stringify({ with: route?.target.with, partition: route?.partition.key, rules });
  };
  return next.targets.map((t) => t.name).filter((name) => signature(previous, name) !== signature(next, name));
}

function restartOnlyChanges(previous: GitopsReverserConfig, next: GitopsReverserConfig): string[] {
  const keys: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const refs = (config: GitopsReverserConfig) => ({
    sources: config.sources.map((r) => [r.use, r.with, r.name, r.cluster]),
    normalizers: config.normalizers.map((r) => [r.use, r.with, r.name]),
    bus: [config.bus.use, config.bus.with, config.bus.name],
    sink: [config.sink.use, config.sink.with, config.sink.name],
  });
  const a = refs(previous);
  const b = refs(next);
  for (const key of ['sources', 'normalizers', 'bus', 'sink'] as const) if (!same(a[key], b[key])) keys.push(key);
  if (!same(previous.server, next.server)) keys.push('server');
  if (!same(previous.sanitizer, next.sanitizer)) keys.push('sanitizer');
  if (!same(previous.startup, next.startup)) keys.push('startup');
  return keys;
}
