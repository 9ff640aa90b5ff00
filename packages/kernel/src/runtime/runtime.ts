import { errorText, rulesForCluster, type Clock, type Logger, type Normalizer, type PlannedTarget, type Selection, type SinkContext, type SourceContext } from '@gitops-reverser/contract';
import { type AssembledSource, type Assembly, assemble, type GivenAdapters } from '../assembly/assemble.js';
import type { GitopsReverserConfig } from '../config/config-types.js';
import { type ConfigInput, defineConfig, type LoadConfigOptions } from '../config/load-config.js';
import { ConfigValidationError } from '../config/config-problem.js';
import { configProblems } from '../config/load-config.js';
import { CredentialGate } from '../credentials/credential-gate.js';
import { credentialEncoderProblems } from '../credentials/credential-encoder-check.js';
import { ContentHasher } from '../ingest/content-hasher.js';
import { Ingest } from '../ingest/ingest.js';
import { Refusals } from '../ingest/refusals.js';
import { beginSnapshot } from '../ingest/snapshot-writer.js';
import { createDefaultSanitizer } from '../normalize/default-sanitizer.js';
import { RouteTable } from '../routing/route-table.js';
import { AuthorDirectory } from '../worker/author-directory.js';
import { PartitionWorker } from '../worker/partition-worker.js';
import { SinkCallWatch, type WatchdogSettings } from '../worker/sink-call-watch.js';
import { safeHealth, startAdapter } from './adapter-lifecycle.js';
import { changedTargetsBetween, restartOnlyChanges } from './config-diff.js';
import { type HealthReport, healthReport } from './health-report.js';
import { OperationsServer } from './http-server.js';
import { createLogger } from './logger.js';
import { KernelMetrics } from './metrics.js';
import { SnapshotCounters } from './snapshot-progress.js';
import { SnapshotRequests } from './snapshot-requests.js';
import { readSharedKeys } from './shared-key-files.js';
import { withTimeout } from './with-timeout.js';
import { WorkerSupervisor } from './worker-supervisor.js';

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

/**
 * One running gitops-reverser: adapters created through a DI container (see assemble), started in
 * order (sink, bus, partition workers, normalizers, sources) and stopped in reverse (sources, drain the
 * bus, flush the sink), with a timeout per step. The concepts it composes have their own owners:
 * ingest (source -> bus), the worker supervisor (bus -> sink), refusals, snapshot counters, the
 * config diff of a reload, and the health report.
 */
export class Runtime {
  private state: RuntimeState = 'created';
  private config: GitopsReverserConfig;
  private routes: RouteTable;
  private readonly ingest: Ingest;
  private readonly refusals: Refusals;
  private readonly counters = new SnapshotCounters();
  private readonly workers: WorkerSupervisor;
  /** The watchdog over flush(), which covers every partition at once. */
  private readonly flushWatch: SinkCallWatch;
  private server: OperationsServer | undefined;
  private serverPort: number | undefined;
  /** Fresh snapshots sinks asked for (SinkContext.requestSnapshot). */
  private readonly snapshotRequests: SnapshotRequests;
  /** Reloads and reseeds change sources one at a time (a restart must not overlap another). */
  private sourceChanges: Promise<unknown> = Promise.resolve();

  private constructor(
    config: GitopsReverserConfig,
    readonly logger: Logger,
    readonly metrics: KernelMetrics,
    private readonly assembly: Assembly,
    private readonly serve: boolean,
    contentKey: Buffer | undefined,
    redactionKey: Buffer | undefined,
  ) {
    this.config = config;
    this.routes = new RouteTable(config.rules, assembly.targets, assembly.plan.partitions);
    this.refusals = new Refusals(logger.child({ component: 'ingest' }), metrics);
    this.ingest = new Ingest({
      bus: assembly.bus.instance,
      busName: assembly.bus.name,
      routes: this.routes,
      normalizers: [createDefaultSanitizer(config.sanitizer), ...orderedChain(assembly.normalizers.map((n) => n.instance))],
      refusals: this.refusals,
      metrics,
      contentHasher: new ContentHasher(contentKey),
      credentialGate: new CredentialGate(config.credentials, redactionKey, logger.child({ component: 'credential-gate' }), metrics),
    });
    const authors = new AuthorDirectory(config.attribution.authors);
    this.workers = new WorkerSupervisor(
      (lease) =>
        new PartitionWorker({
          lease,
          sink: assembly.sink.instance,
          sinkName: assembly.sink.name,
          partition: () => this.routes.partition(lease.partitionKey) ?? { key: lease.partitionKey },
          logger: logger.child({ partition: lease.partitionKey }),
          metrics,
          attributionWaitMs: this.attributionWaitMs(),
          watchdog: this.watchdog(),
          authors,
          exactAttributionBy: new Set(assembly.sources.flatMap((source) => (source.instance.exactAttributionBy ? [source.instance.exactAttributionBy] : []))),
          onWritten: (count) => {
            this.counters.objectsWritten += count;
          },
        }),
      logger,
      metrics,
    );
    this.flushWatch = new SinkCallWatch({ settings: this.watchdog(), sinkName: assembly.sink.name, partition: '', logger, metrics });
    this.snapshotRequests = new SnapshotRequests({
      logger: logger.child({ adapter: assembly.sink.name }),
      metrics,
      reseed: (targets) => this.reseed(targets),
      readiness: () => (this.state === 'running' ? 'ready' : this.state === 'created' || this.state === 'starting' ? 'wait' : 'gone'),
    });
  }

  /** Loads (or takes) the adapters, creates and checks them; nothing is started yet. */
  static async create(config: GitopsReverserConfig, options: RuntimeOptions = {}): Promise<Runtime> {
    const logger = options.logger ?? createLogger(config.log.level, undefined, config.log.format);
    const metrics = options.metrics ?? new KernelMetrics({ processMetrics: true });
    const assembly = await assemble(config, { logger, metrics, ...(options.clock ? { clock: options.clock } : {}), ...(options.adapters ? { given: options.adapters } : {}) });
    const { contentKey, redactionKey } = readSharedKeys(config);
    return new Runtime(config, logger, metrics, assembly, options.serve ?? config.server.enabled ?? false, contentKey, redactionKey);
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
        requestSnapshot: (targets, reason) => this.snapshotRequests.request(targets, reason),
      };
      await this.startAdapter(sink, () => sink.instance.start(sinkContext));
      await this.startAdapter(assembly.bus, () => assembly.bus.instance.start({ logger: logger.child({ adapter: assembly.bus.name }), metrics: this.metrics }));
      assembly.bus.instance.consume((lease) => this.workers.supervise(lease));
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
   * may not read (degraded), objects the pipeline refused (named with the adapter), a sink that
   * cannot write or push. Call after start(); stop() after it. `onProgress` is called about every
   * `intervalMs` with counts, for a progress display.
   */
  async snapshot(options: { timeoutMs: number; intervalMs?: number; onProgress?: (progress: SnapshotProgress) => void }): Promise<SnapshotReport> {
    if (this.state !== 'running') throw new Error(`snapshot() needs a running runtime (state: ${this.state}); call start() first`);
    const startedAt = Date.now();
    const deadline = startedAt + options.timeoutMs;
    const progress = (): SnapshotProgress => {
      const sources = this.assembly.sources.map((source) => safeHealth(source));
      return {
        sourcesSeeded: sources.filter((s) => s.state !== 'starting').length,
        sources: sources.length,
        watchedTypes: sources.reduce((total, s) => total + (typeof s.details?.['watches'] === 'number' ? s.details['watches'] : 0), 0),
        objectsReceived: this.counters.objectsReceived,
        objectsWritten: this.counters.objectsWritten,
        queued: [...this.assembly.bus.instance.depth().values()].reduce((total, n) => total + n, 0),
        elapsedMs: Date.now() - startedAt,
      };
    };
    let current = progress();
    while (current.sourcesSeeded < current.sources || current.queued > 0) {
      if (Date.now() > deadline) break;
      options.onProgress?.(current);
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
      current = progress();
    }
    await this.flushSink();
    current = progress();
    options.onProgress?.(current);
    const problems: string[] = [];
    for (const source of this.assembly.sources) {
      const report = safeHealth(source);
      if (report.state === 'starting') {
        problems.push(
          `source ${source.name} (cluster ${source.cluster}) did not finish its first snapshot within ${Math.round(options.timeoutMs / 1000)} s${report.reason ? `: ${report.reason}` : ''}`,
        );
      } else if (report.state !== 'ready') problems.push(`source ${source.name} (cluster ${source.cluster}) is ${report.state}: ${report.reason ?? 'no reason given'}`);
    }
    for (const [target, who] of this.counters.refusals()) {
      const count = [...who.values()].reduce((total, n) => total + n, 0);
      const by = [...who].map(([name, n]) => `${name}: ${n}`).join(', ');
      problems.push(`target ${target}: ${count} object(s) of the snapshot were refused and not written (${by}); nothing was pruned there (see the log lines with those codes)`);
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
    // A reseed in progress finishes first: it may be restarting a source.
    this.snapshotRequests.close();
    await step('finish a reseed in progress', () => this.snapshotRequests.idle());
    for (const source of assembly.sources) await step(`stop source ${source.name}`, () => source.instance.stop());
    await step('drain bus', async () => {
      const drained = await assembly.bus.instance.drain(left());
      if (!drained) {
        clean = false;
        const depth = [...assembly.bus.instance.depth()].filter(([, n]) => n > 0);
        logger.warn({ undelivered: Object.fromEntries(depth) }, 'bus not drained before the shutdown timeout');
      }
    });
    await step('stop partition workers', () => this.workers.stopAll());
    await step('flush sink', () => this.flushSink());
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
   * selections changed and reseed those (a source without `updateSelection` is restarted, within
   * startup.timeoutSeconds). Changes to adapters, server, sanitizer, startup, watchdog or attribution
   * need a restart and are reported, not applied.
   */
  async reload(next: GitopsReverserConfig): Promise<{ changedTargets: string[]; needsRestart: string[] }> {
    const previous = this.config;
    const { targets, plan } = this.assembly.planTargets(next);
    const encoderProblems = credentialEncoderProblems(next, this.assembly.normalizers);
    if (encoderProblems.length > 0) throw new ConfigValidationError(next.configFile, configProblems(next, encoderProblems));
    const needsRestart = restartOnlyChanges(previous, next);
    const nextRoutes = new RouteTable(next.rules, targets, plan.partitions);
    const changedTargets = changedTargetsBetween(this.routes, nextRoutes);
    this.config = next;
    this.routes = nextRoutes;
    this.ingest.setRoutes(nextRoutes);
    await this.changeSources(async () => {
      for (const source of this.assembly.sources) {
        if (source.instance.updateSelection) {
          await source.instance.updateSelection(this.selectionFor(source.cluster), changedTargets);
        } else if (changedTargets.length > 0) {
          await this.restartSource(source);
        }
      }
    });
    if (needsRestart.length > 0) {
      this.logger.warn({ keys: needsRestart }, `config reloaded; these changes need a restart to take effect: ${needsRestart.join(', ')}`);
    }
    this.logger.info({ changedTargets }, 'config reloaded');
    return { changedTargets, needsRestart };
  }

  health(): HealthReport {
    const partitions = this.workers.states();
    const flush = this.flushWatch.state().running;
    return healthReport(this.state, this.assembly, flush ? [...partitions, { partition: '(all)', sink: { running: flush } }] : partitions, this.refusals);
  }

  /**
   * A sink asked for these targets again: every source whose selection covers some of them writes a
   * fresh snapshot of those (`updateSelection` with the unchanged selection), or is restarted (a start
   * seeds every target of the source). One source failing does not keep the others from reseeding.
   */
  private async reseed(targets: readonly string[]): Promise<void> {
    await this.changeSources(async () => {
      for (const source of this.assembly.sources) {
        const selection = this.selectionFor(source.cluster);
        const covered = targets.filter((target) => selection.targets.includes(target));
        if (covered.length === 0) continue;
        try {
          if (source.instance.updateSelection) await source.instance.updateSelection(selection, covered);
          else await this.restartSource(source);
        } catch (error) {
          this.logger.error({ adapter: source.name, targets: covered, err: errorText(error) }, `source ${source.name} could not seed ${covered.join(', ')} again: ${errorText(error)}`);
        }
      }
    });
  }

  /** Stops a source and starts it again within startup.timeoutSeconds (its start seeds its targets). */
  private async restartSource(source: AssembledSource): Promise<void> {
    await source.instance.stop();
    await this.startAdapter(source, () => source.instance.start(this.sourceContext(source)));
  }

  /** Runs changes to sources one after another (a reload and a reseed never restart a source at once). */
  private changeSources(change: () => Promise<void>): Promise<void> {
    const next = this.sourceChanges.then(change, change);
    this.sourceChanges = next.catch(() => undefined);
    return next;
  }

  /** flush() under the watchdog: a flush that hangs is logged and shown in /readyz like a slow apply(). */
  private async flushSink(): Promise<void> {
    await this.flushWatch.run('flush', 0, () => this.assembly.sink.instance.flush());
  }

  /** `attribution.waitMs`, else 1500 ms when a source attributes (an audit source), else 0. */
  private attributionWaitMs(): number {
    return this.config.attribution.waitMs ?? (this.assembly.sources.some((source) => source.instance.attributes === true) ? 1500 : 0);
  }

  private watchdog(): WatchdogSettings {
    const { applyWarnSeconds, applyTimeoutSeconds, refusedAnswersSeconds } = this.config.watchdog;
    return { applyWarnMs: applyWarnSeconds * 1000, applyTimeoutMs: applyTimeoutSeconds * 1000, refusedAnswersMs: refusedAnswersSeconds * 1000 };
  }

  private selectionFor(cluster: string): Selection {
    const rules = rulesForCluster(this.config.rules, cluster);
    return { rules, targets: [...new Set(rules.map((rule) => rule.target))] };
  }

  private sourceContext(source: AssembledSource): SourceContext {
    const runtime = this;
    const origin = { source: source.name, cluster: source.cluster };
    return {
      clusterId: source.cluster,
      get selection() {
        return runtime.selectionFor(source.cluster);
      },
      logger: this.logger.child({ adapter: source.name }),
      metrics: this.metrics,
      emit: async (event) => {
        this.counters.objectsReceived++;
        await this.ingest.accept(event, origin);
      },
      beginSnapshot: (targets) => {
        const writer = beginSnapshot({
          ingest: this.ingest,
          bus: this.assembly.bus.instance,
          routes: () => this.routes,
          metrics: this.metrics,
          origin,
          targets: targets ?? this.selectionFor(source.cluster).targets,
          onRefused: (target, refusals) => this.counters.refused(target, refusals),
        });
        return {
          snapshotId: writer.snapshotId,
          emit: async (event) => {
            this.counters.objectsReceived++;
            await writer.emit(event);
          },
          complete: (completion) => writer.complete(completion),
        };
      },
      attribute: (fact) => this.ingest.attribute(fact, origin),
    };
  }

  private startAdapter(adapter: Parameters<typeof startAdapter>[0], start: () => Promise<void>): Promise<void> {
    return startAdapter(adapter, start, { timeoutSeconds: this.config.startup.timeoutSeconds, logger: this.logger, metrics: this.metrics });
  }

  private refreshGauges(): void {
    this.metrics.queueDepth.reset();
    for (const [partition, depth] of this.assembly.bus.instance.depth()) this.metrics.queueDepth.set({ partition }, depth);
    for (const adapter of [...this.assembly.sources, ...this.assembly.normalizers, this.assembly.bus, this.assembly.sink]) {
      const state = safeHealth(adapter).state;
      this.metrics.adapterUp.set({ slot: adapter.slot, adapter: adapter.name }, state === 'ready' || state === 'degraded' ? 1 : 0);
    }
  }
}

/** The sanitize phase keeps config order, then the encode phase: encoding always sees sanitized content. */
function orderedChain(normalizers: readonly Normalizer[]): Normalizer[] {
  return [...normalizers.filter((n) => n.phase !== 'encode'), ...normalizers.filter((n) => n.phase === 'encode')];
}
