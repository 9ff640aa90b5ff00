import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import type { GitopsReverserConfig } from '../config/config-types.js';
import type { AdapterHealth } from '../contracts/adapter-health.js';
import type { Bus } from '../contracts/bus.js';
import type { Normalizer } from '../contracts/normalizer.js';
import type { Sink, SinkContext } from '../contracts/sink.js';
import type { Selection, Source, SourceContext } from '../contracts/source.js';
import { ErrorCodes, errorText, grError } from '../errors.js';
import { createDefaultSanitizer } from '../normalize/default-sanitizer.js';
import { KernelTokens, SlotTokens, type AdapterSlot, type SlotInstances } from '../plugin/adapter-descriptor.js';
import { loadAdapters, type LoadedAdapter } from '../plugin/load-adapters.js';
import { RouteTable } from '../routing/route-table.js';
import { OperationsServer, type HealthReport } from './http-server.js';
import { Ingest } from './ingest.js';
import { createLogger, type Logger } from './logger.js';
import { KernelMetrics } from './metrics.js';
import { PartitionWorker } from './partition-worker.js';
import { withTimeout } from './with-timeout.js';

/** Adapters given as instances instead of loaded from config (integrators composing in code, tests). */
export interface AdapterInstances {
  readonly sources?: readonly Source[];
  readonly normalizers?: readonly Normalizer[];
  readonly bus?: Bus;
  readonly sink?: Sink;
}

export interface RuntimeOptions {
  readonly logger?: Logger;
  readonly metrics?: KernelMetrics;
  /** Use these instead of the adapters named in config (each slot independently). */
  readonly instances?: AdapterInstances;
}

interface NamedAdapter<T> {
  readonly slot: AdapterSlot;
  readonly name: string;
  readonly instance: T;
}

type RuntimeState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * One running gitops-reverser: adapters wired through a tsyringe container, started in order
 * (sink, bus, consumers, sources) and stopped in reverse (sources, drain the bus, flush the sink).
 */
export class Runtime {
  private state: RuntimeState = 'created';
  private config: GitopsReverserConfig;
  private routes: RouteTable;
  private readonly ingest: Ingest;
  private readonly workers = new Map<string, PartitionWorker>();
  private server: OperationsServer | undefined;
  private serverPort: number | undefined;

  private constructor(
    config: GitopsReverserConfig,
    readonly logger: Logger,
    readonly metrics: KernelMetrics,
    readonly container: DependencyContainer,
    private readonly sources: readonly NamedAdapter<Source>[],
    private readonly normalizers: readonly NamedAdapter<Normalizer>[],
    private readonly bus: NamedAdapter<Bus>,
    private readonly sink: NamedAdapter<Sink>,
  ) {
    this.config = config;
    this.routes = new RouteTable(config.rules, config.targets, config.providers);
    this.ingest = new Ingest({
      bus: bus.instance,
      routes: this.routes,
      normalizers: [createDefaultSanitizer(config.sanitizer), ...orderedChain(normalizers.map((n) => n.instance))],
      logger: logger.child({ component: 'ingest' }),
      metrics,
    });
  }

  /** Loads (or takes) the adapters and wires them; nothing is started yet. */
  static async create(config: GitopsReverserConfig, options: RuntimeOptions = {}): Promise<Runtime> {
    const logger = options.logger ?? createLogger(config.log.level);
    const metrics = options.metrics ?? new KernelMetrics({ processMetrics: true });
    const given = options.instances ?? {};
    const loaded = await loadAdapters(config, {
      sources: given.sources !== undefined,
      normalizers: given.normalizers !== undefined,
      bus: given.bus !== undefined,
      sink: given.sink !== undefined,
    });

    const container = rootContainer.createChildContainer();
    container.registerInstance(KernelTokens.Config, config);
    container.registerInstance(KernelTokens.Logger, logger);
    container.registerInstance(KernelTokens.Metrics, metrics);

    const build = <S extends AdapterSlot>(adapter: LoadedAdapter<S>): NamedAdapter<SlotInstances[S]> => {
      const child = container.createChildContainer();
      const name = adapter.descriptor.meta.name;
      child.registerInstance(KernelTokens.AdapterOptions, adapter.options);
      adapter.descriptor.register(child, {
        options: adapter.options,
        config,
        logger: logger.child({ adapter: name }),
        metrics,
        keyPath: adapter.ref.keyPath,
      });
      let instance: SlotInstances[S];
      try {
        instance = child.resolve<SlotInstances[S]>(SlotTokens[adapter.slot]);
      } catch (cause) {
        throw grError(ErrorCodes.PLUGIN_SHAPE, `${adapter.ref.keyPath}: adapter "${name}" did not register a ${adapter.slot} (${errorText(cause)})`, {
          fix: `its register() must put an instance under SlotTokens.${adapter.slot}; defineAdapter() does this`,
          cause,
        });
      }
      checkInstance(adapter.slot, name, instance, adapter.ref.keyPath);
      return { slot: adapter.slot, name, instance };
    };

    const named = <S extends AdapterSlot>(slot: S, instance: SlotInstances[S], index = 0): NamedAdapter<SlotInstances[S]> => ({
      slot,
      name: `${slot}-${index}`,
      instance,
    });

    const sources = distinctNames(given.sources ? given.sources.map((s, i) => named('source', s, i)) : loaded.sources.map(build));
    const normalizers = given.normalizers ? given.normalizers.map((n, i) => ({ ...named('normalizer', n, i), name: n.name })) : loaded.normalizers.map(build);
    const bus = given.bus ? named('bus', given.bus) : build(required(loaded.bus));
    const sink = given.sink ? named('sink', given.sink) : build(required(loaded.sink));
    return new Runtime(config, logger, metrics, container, sources, normalizers, bus, sink);
  }

  /** The port /healthz /readyz /metrics listen on (after start; useful with `server.port: 0`). */
  get port(): number | undefined {
    return this.serverPort;
  }

  async start(): Promise<void> {
    if (this.state !== 'created') throw new Error(`runtime cannot start from state ${this.state}`);
    this.state = 'starting';
    const { logger } = this;
    if (this.config.server.enabled) {
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
      const runtime = this;
      const sinkContext: SinkContext = {
        get config() {
          return runtime.config;
        },
        // A getter: after a reload the sink sees the new targets.
        get routes() {
          return runtime.routes;
        },
        logger: logger.child({ adapter: this.sink.name }),
        metrics: this.metrics,
      };
      await this.startAdapter(this.sink, () => this.sink.instance.start(sinkContext));
      await this.startAdapter(this.bus, () => this.bus.instance.start({ logger: logger.child({ adapter: this.bus.name }), metrics: this.metrics }));
      this.bus.instance.consume((lease) => {
        const worker = new PartitionWorker({ lease, sink: this.sink.instance, logger: logger.child({ partition: lease.partitionKey }), metrics: this.metrics });
        this.workers.get(lease.partitionKey)?.stop();
        this.workers.set(lease.partitionKey, worker);
        worker.start();
      });
      for (const normalizer of this.normalizers) await this.startAdapter(normalizer, () => normalizer.instance.start?.() ?? Promise.resolve());
      for (const source of this.sources) await this.startAdapter(source, () => source.instance.start(this.sourceContext(source.name)));
    } catch (error) {
      await this.stop('start failed');
      throw error;
    }
    this.state = 'running';
    logger.info({ cluster: this.config.cluster.id, sources: this.sources.map((s) => s.name), bus: this.bus.name, sink: this.sink.name }, 'gitops-reverser started');
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
    const { logger } = this;
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
    for (const source of this.sources) await step(`stop source ${source.name}`, () => source.instance.stop());
    await step('drain bus', async () => {
      const drained = await this.bus.instance.drain(left());
      if (!drained) {
        clean = false;
        const depth = [...this.bus.instance.depth()].filter(([, n]) => n > 0);
        logger.warn({ undelivered: Object.fromEntries(depth) }, 'bus not drained before the shutdown timeout');
      }
    });
    await step('stop partition workers', () => Promise.all([...this.workers.values()].map((w) => w.stop())));
    await step('flush sink', () => this.sink.instance.flush());
    await step('stop sink', () => this.sink.instance.stop());
    await step('stop bus', () => this.bus.instance.stop());
    for (const normalizer of this.normalizers) await step(`stop normalizer ${normalizer.name}`, () => normalizer.instance.stop?.() ?? Promise.resolve());
    await this.server?.close();
    this.state = 'stopped';
    logger.info({ clean }, clean ? 'stopped cleanly' : 'stopped, with steps that timed out or failed (see above)');
    return clean;
  }

  /**
   * Applies a new config at run time (SIGHUP). Rules, targets and providers take effect; sources
   * learn which targets' selections changed and reseed those. Changes to adapters (`use`/`with`),
   * cluster or server need a restart and are reported, not applied.
   */
  async reload(next: GitopsReverserConfig): Promise<{ changedTargets: string[]; needsRestart: string[] }> {
    const previous = this.config;
    const needsRestart = restartOnlyChanges(previous, next);
    const nextRoutes = new RouteTable(next.rules, next.targets, next.providers);
    const changedTargets = changedTargetsBetween(previous, next);
    this.config = next;
    this.routes = nextRoutes;
    this.ingest.setRoutes(nextRoutes);
    const selection = selectionOf(next);
    for (const source of this.sources) {
      if (source.instance.updateSelection) {
        await source.instance.updateSelection(selection, changedTargets);
      } else if (changedTargets.length > 0) {
        await source.instance.stop();
        await source.instance.start(this.sourceContext(source.name));
      }
    }
    if (needsRestart.length > 0) {
      this.logger.warn({ keys: needsRestart }, `config reloaded; these changes need a restart to take effect: ${needsRestart.join(', ')}`);
    }
    this.logger.info({ changedTargets }, 'config reloaded');
    return { changedTargets, needsRestart };
  }

  health(): HealthReport {
    const adapters = [...this.sources, this.bus, this.sink].map((adapter) => {
      const report = safeHealth(adapter);
      return { slot: adapter.slot, name: adapter.name, state: report.state, ...(report.reason ? { reason: report.reason } : {}) };
    });
    const adaptersReady = adapters.every((a) => a.state === 'ready' || a.state === 'degraded');
    const ready = this.state === 'running' && adaptersReady;
    const status = this.state !== 'running' ? this.state : adapters.some((a) => a.state === 'degraded') ? 'degraded' : adaptersReady ? 'ready' : 'not ready';
    return { ready, status, adapters };
  }

  private sourceContext(sourceName: string): SourceContext {
    const runtime = this;
    return {
      clusterId: this.config.cluster.id,
      get config() {
        return runtime.config;
      },
      get selection() {
        return selectionOf(runtime.config);
      },
      logger: this.logger.child({ adapter: sourceName }),
      metrics: this.metrics,
      emit: async (event) => {
        await this.ingest.accept(event, sourceName);
      },
      beginSnapshot: (targets) => {
        const covered = targets ?? [...new Set(this.config.rules.map((rule) => rule.target))];
        return this.ingest.beginSnapshot(covered, sourceName, this.config.cluster.id);
      },
    };
  }

  private async startAdapter(adapter: NamedAdapter<unknown>, start: () => Promise<void>): Promise<void> {
    try {
      await start();
      this.metrics.adapterUp.set({ slot: adapter.slot, adapter: adapter.name }, 1);
    } catch (cause) {
      throw grError(ErrorCodes.PLUGIN_LIFECYCLE, `${adapter.slot} adapter "${adapter.name}" failed to start: ${errorText(cause)}`, {
        fix: 'see the cause above; check the adapter options and that what it connects to is reachable',
        cause,
      });
    }
  }

  private refreshGauges(): void {
    this.metrics.queueDepth.reset();
    for (const [partition, depth] of this.bus.instance.depth()) this.metrics.queueDepth.set({ partition }, depth);
    for (const adapter of [...this.sources, this.bus, this.sink]) {
      const state = safeHealth(adapter).state;
      this.metrics.adapterUp.set({ slot: adapter.slot, adapter: adapter.name }, state === 'ready' || state === 'degraded' ? 1 : 0);
    }
  }
}

/** Two sources of one package (e.g. two clusters) get "#2", "#3"... so logs and metrics tell them apart. */
function distinctNames<T>(adapters: NamedAdapter<T>[]): NamedAdapter<T>[] {
  const seen = new Map<string, number>();
  return adapters.map((adapter) => {
    const count = (seen.get(adapter.name) ?? 0) + 1;
    seen.set(adapter.name, count);
    return count === 1 ? adapter : { ...adapter, name: `${adapter.name}#${count}` };
  });
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('adapter slot was neither loaded nor given');
  return value;
}

export function selectionOf(config: GitopsReverserConfig): Selection {
  return { rules: config.rules, targets: config.targets };
}

/** The sanitize phase keeps config order, then the encode phase: encoding always sees sanitized content. */
function orderedChain(normalizers: readonly Normalizer[]): Normalizer[] {
  return [...normalizers.filter((n) => n.phase !== 'encode'), ...normalizers.filter((n) => n.phase === 'encode')];
}

function safeHealth(adapter: NamedAdapter<{ health?: () => AdapterHealth }>): AdapterHealth {
  try {
    return adapter.instance.health?.() ?? { state: 'ready' };
  } catch (error) {
    return { state: 'failed', reason: errorText(error) };
  }
}

const REQUIRED_METHODS: Record<AdapterSlot, readonly string[]> = {
  source: ['start', 'stop', 'health'],
  bus: ['start', 'publish', 'consume', 'depth', 'drain', 'stop', 'health'],
  normalizer: ['normalize'],
  sink: ['start', 'apply', 'flush', 'stop', 'health'],
};

function checkInstance(slot: AdapterSlot, name: string, instance: unknown, keyPath: string): void {
  const missing = REQUIRED_METHODS[slot].filter((method) => typeof (instance as Record<string, unknown> | undefined)?.[method] !== 'function');
  if (missing.length > 0) {
    throw grError(ErrorCodes.PLUGIN_SHAPE, `${keyPath}: ${slot} adapter "${name}" lacks ${missing.join(', ')}`, {
      fix: `a ${slot} must implement the ${slot[0]?.toUpperCase()}${slot.slice(1)} interface of @gitops-reverser/kernel`,
    });
  }
}

/** Targets whose selection (rules, path, branch or provider) differs between two configs. */
export function changedTargetsBetween(previous: GitopsReverserConfig, next: GitopsReverserConfig): string[] {
  const signature = (config: GitopsReverserConfig, target: string) => {
    const definition = config.targets.find((t) => t.name === target);
    const provider = config.providers.find((p) => p.name === definition?.provider);
    const rules = config.rules.filter((rule) => rule.target === target).map(({ keyPath: _k, ...rule }) => rule);
    return JSON.stringify({ definition, url: provider?.url, rules });
  };
  const names = new Set([...previous.targets.map((t) => t.name), ...next.targets.map((t) => t.name)]);
  return [...names].filter((name) => next.targets.some((t) => t.name === name) && signature(previous, name) !== signature(next, name));
}

function restartOnlyChanges(previous: GitopsReverserConfig, next: GitopsReverserConfig): string[] {
  const keys: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const refs = (config: GitopsReverserConfig) => ({
    sources: config.sources.map((r) => [r.use, r.with]),
    normalizers: config.normalizers.map((r) => [r.use, r.with]),
    bus: [config.bus.use, config.bus.with],
    sink: [config.sink.use, config.sink.with],
  });
  const a = refs(previous);
  const b = refs(next);
  for (const key of ['sources', 'normalizers', 'bus', 'sink'] as const) if (!same(a[key], b[key])) keys.push(key);
  if (!same(previous.cluster, next.cluster)) keys.push('cluster');
  if (!same(previous.server, next.server)) keys.push('server');
  if (!same(previous.sanitizer, next.sanitizer)) keys.push('sanitizer');
  return keys;
}
