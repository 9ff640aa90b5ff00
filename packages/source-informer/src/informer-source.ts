import {
  backoffDelayMs,
  isEmptyLabelSelector,
  labelSelectorMatches,
  type LabelSelector,
  type Labels,
  type RuleConfig,
  type CounterMetric,
  errorText,
  type GaugeMetric,
  grError,
  type AdapterHealth,
  type ChangeEvent,
  type Logger,
  type Selection,
  type Source,
  type SourceContext,
} from '@gitops-reverser/contract';
import { discover, resolveWatches, watchKey, type WatchSpec } from './discovery.js';
import { NamespaceDirectory } from './namespace-directory.js';
import { InformerErrorCodes } from './informer-error-codes.js';
import { KubeClient } from './kube-client.js';
import { ResourceWatcher } from './resource-watcher.js';

export interface InformerSourceOptions {
  /** Path of a kubeconfig (absolute); undefined: the pod's service account in a pod, else the default kubeconfig. */
  readonly kubeconfig?: string;
  /** Context of the kubeconfig to use; undefined: its current context. */
  readonly context?: string;
  /** Types a `*` rule skips (`resource` or `resource.group`); replaces the default list. */
  readonly excludeResources: readonly string[];
  /** Types a `*` rule skips in addition to `excludeResources` (the default list kept). */
  readonly alsoExcludeResources?: readonly string[];
  /** Discovery runs again this often (and shortly after any CRD change). */
  readonly rediscoverySeconds: number;
  /** The server ends each watch after this long; it is resumed from the last resourceVersion. */
  readonly watchTimeoutSeconds: number;
  readonly listPageSize: number;
  /** How many types are listed at once during a seed. */
  readonly listConcurrency: number;
}

/**
 * The watch source: resolves rules through discovery, runs one list+watch per type and namespace,
 * seeds each target's current state as one snapshot on start and after a rule change, follows new
 * CRDs, and reports types it may not read instead of failing.
 */
export class InformerSource implements Source {
  private context: SourceContext | undefined;
  private client: KubeClient | undefined;
  private logger: Logger | undefined;
  private readonly watchers = new Map<string, ResourceWatcher>();
  private rediscoveryTimer: NodeJS.Timeout | undefined;
  private readonly crdWatch = new AbortController();
  private crdWatchRunning: Promise<void> | undefined;
  /** Reconciles (start, reload, rediscovery) run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private started = false;
  private stopped = false;
  private lastDiscoveryError: string | undefined;
  /** The namespaces' labels, while a rule selects namespaces by label. */
  private namespaces: NamespaceDirectory | undefined;
  /** Namespaces relabelled since the last reconcile, whose objects may have entered or left a selection. */
  private readonly relabelled = new Set<string>();
  private relabelTimer: NodeJS.Timeout | undefined;
  private metrics: { watches: GaugeMetric<'state'>; relists: CounterMetric<'resource'>; watchStarts: CounterMetric<'resource'> } | undefined;

  constructor(private readonly options: InformerSourceOptions) {}

  async start(context: SourceContext): Promise<void> {
    this.context = context;
    this.logger = context.logger;
    this.client = await KubeClient.load({ ...(this.options.kubeconfig ? { kubeconfig: this.options.kubeconfig } : {}), ...(this.options.context ? { context: this.options.context } : {}) });
    const metrics = context.metrics;
    this.metrics = {
      watches: metrics.gauge('informer_watches', 'List+watch loops by state: watching, forbidden, failing, gone.', ['state']),
      relists: metrics.counter('informer_relists_total', 'Relists after 410 Gone, per watch.', ['resource']),
      watchStarts: metrics.counter('informer_watch_starts_total', 'Watch requests opened (first and every reconnect), per watch.', ['resource']),
    };
    const allTargets = [...new Set(context.selection.rules.map((rule) => rule.target))];
    if (await this.serialized(() => this.reconcile(context.selection, allTargets))) this.started = true;
    else void this.retryFirstSeed(allTargets);
    this.rediscoveryTimer = setInterval(() => void this.serialized(() => this.reconcile(this.selection(), [])), this.options.rediscoverySeconds * 1000);
    this.rediscoveryTimer.unref();
    this.crdWatchRunning = this.watchCustomResourceDefinitions();
  }

  async updateSelection(selection: Selection, changedTargets: readonly string[]): Promise<void> {
    await this.serialized(() => this.reconcile(selection, changedTargets));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.rediscoveryTimer);
    clearTimeout(this.relabelTimer);
    this.crdWatch.abort();
    await this.crdWatchRunning;
    await this.queue.catch(() => undefined);
    await Promise.all([...this.watchers.values()].map((w) => w.stop()));
    this.watchers.clear();
    await this.namespaces?.stop();
    this.namespaces = undefined;
    this.updateGauges();
  }

  health(): AdapterHealth {
    if (this.stopped) return { state: 'stopped' };
    if (!this.started) return { state: 'starting', ...(this.lastDiscoveryError ? { reason: this.lastDiscoveryError } : {}) };
    this.updateGauges();
    const troubled: { describe(): string; state: string; problem: string | undefined }[] = [...this.watchers.values()].filter((w) => w.state === 'forbidden' || w.state === 'failing');
    const namespaces = this.namespaces;
    if (namespaces && (namespaces.state === 'forbidden' || namespaces.state === 'failing')) {
      troubled.push({ describe: () => 'v1/namespaces (for namespaceSelector rules, which select nothing meanwhile)', state: namespaces.state, problem: namespaces.problem });
    }
    if (this.lastDiscoveryError) return { state: 'degraded', reason: `discovery failed: ${this.lastDiscoveryError}` };
    if (troubled.length === 0) return { state: 'ready', details: { watches: this.watchers.size } };
    return {
      state: 'degraded',
      reason: troubled.map((w) => `${w.describe()}: ${w.state}`).join('; '),
      details: Object.fromEntries(troubled.map((w) => [w.describe(), { state: w.state, problem: w.problem }])),
    };
  }

  /** Watch keys currently running (for tests and /readyz details). */
  watchKeys(): string[] {
    return [...this.watchers.keys()].sort();
  }

  /** The API server was not reachable at start: keep trying; /readyz says "starting" meanwhile. */
  private async retryFirstSeed(targets: readonly string[]): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      await new Promise((r) => setTimeout(r, backoffDelayMs(attempt, { baseMs: 1000 })).unref());
      if (this.stopped) return;
      if (await this.serialized(() => this.reconcile(this.selection(), targets))) {
        this.started = true;
        return;
      }
    }
  }

  private selection(): Selection {
    return (this.context as SourceContext).selection;
  }

  private serialized<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Brings the running watches in line with `selection`: stops those no longer selected (their
   * connections close), lists and starts new ones, keeps the rest running. Then, for `seedTargets`,
   * writes one snapshot of everything the watches know. Objects of `relabelled` namespaces are handed
   * to the kernel once more with their namespace's new labels, so they enter or leave the targets
   * whose `namespaceSelector` now says so (no reseed).
   */
  private async reconcile(selection: Selection, seedTargets: readonly string[], relabelled: ReadonlySet<string> = new Set()): Promise<boolean> {
    if (this.stopped) return false;
    const context = this.context as SourceContext;
    const client = this.client as KubeClient;
    const logger = this.logger as Logger;
    await this.followNamespaces(selection);
    let specs: WatchSpec[];
    try {
      specs = resolveWatches(selection.rules, await discover(client, logger), [...this.options.excludeResources, ...(this.options.alsoExcludeResources ?? [])], this.namespaces?.namespaces());
      this.lastDiscoveryError = undefined;
    } catch (error) {
      const message = grError(InformerErrorCodes.UNREACHABLE, `discovery at ${client.server} failed: ${errorText(error)}`, {
        fix: 'check that the API server is reachable with the configured kubeconfig; discovery is retried',
      }).describe();
      if (message !== this.lastDiscoveryError) logger.error({ server: client.server }, message);
      this.lastDiscoveryError = message;
      return false;
    }
    const emitLive = (event: ChangeEvent) => context.emit(event);

    const wanted = new Map(specs.map((spec) => [watchKey(spec), spec]));
    const removed = [...this.watchers.entries()].filter(([key, watcher]) => !wanted.has(key) || watcher.state === 'gone');
    for (const [key, watcher] of removed) {
      // Its namespace left a selection: its objects go once more, with the new labels, so the kernel takes them out where they no longer belong.
      if (watcher.state !== 'gone' && watcher.spec.namespace !== undefined && relabelled.has(watcher.spec.namespace)) await watcher.eachObject('live', emitLive);
      await watcher.stop();
      this.watchers.delete(key);
      logger.info({ watch: key }, `stopped watching ${watcher.describe()}`);
    }
    const added: ResourceWatcher[] = [];
    for (const [key, spec] of wanted) {
      const existing = this.watchers.get(key);
      if (existing) {
        existing.retarget(spec);
        continue;
      }
      const watcher = new ResourceWatcher({
        client,
        spec,
        clusterId: context.clusterId,
        emit: emitLive,
        logger,
        listPageSize: this.options.listPageSize,
        watchTimeoutSeconds: this.options.watchTimeoutSeconds,
        onRelist: () => this.metrics?.relists.inc({ resource: key }),
        onWatchStart: () => this.metrics?.watchStarts.inc({ resource: key }),
        namespaceLabels: (namespace) => this.namespaces?.labelsOf(namespace),
      });
      this.watchers.set(key, watcher);
      added.push(watcher);
    }
    // Each new watch lists page by page straight into the snapshot (or, without one, as changes), a
    // few types at a time; a page is let go of once its objects are on the bus.
    const primeAdded = async (phase: 'seed' | 'live', emit: (event: ChangeEvent) => Promise<void>) => {
      for (let i = 0; i < added.length; i += this.options.listConcurrency) {
        await Promise.all(added.slice(i, i + this.options.listConcurrency).map((watcher) => watcher.prime(phase, emit)));
      }
    };

    if (seedTargets.length > 0) {
      const running = [...this.watchers.values()].filter((watcher) => !added.includes(watcher));
      // Hold live events while the snapshot is written, so no seed carries a state older than one
      // already sent; they continue right after.
      for (const watcher of running) watcher.pause();
      try {
        const snapshot = context.beginSnapshot(seedTargets);
        const seed = (event: ChangeEvent) => snapshot.emit(event);
        await primeAdded('seed', seed);
        for (const watcher of running) await watcher.eachObject('seed', seed);
        const partialTargets = new Set<string>();
        for (const watcher of this.watchers.values()) {
          if (watcher.state === 'forbidden' || watcher.state === 'failing') for (const target of watcher.spec.targets) partialTargets.add(target);
        }
        // Without the namespaces' labels, rules that select namespaces by label could not be listed.
        if (this.namespaces && !this.namespaces.ready) for (const rule of selection.rules) if (selectsNamespacesByLabel(rule)) partialTargets.add(rule.target);
        await snapshot.complete({ partialTargets: [...partialTargets], resourceVersions: listedAt([...added, ...running]) });
        logger.info({ targets: seedTargets, watches: this.watchers.size, partial: [...partialTargets] }, 'snapshot written');
      } finally {
        for (const watcher of running) watcher.resume();
      }
    } else {
      // New types found by rediscovery, namespaces that entered a selection: their objects are news, not a reseed.
      await primeAdded('live', emitLive);
      if (relabelled.size > 0) {
        for (const watcher of this.watchers.values()) {
          if (added.includes(watcher) || !watcher.spec.served.namespaced) continue;
          const namespaces = watcher.spec.namespace === undefined ? [...relabelled] : relabelled.has(watcher.spec.namespace) ? [watcher.spec.namespace] : [];
          for (const namespace of namespaces) {
            watcher.pause();
            try {
              await watcher.eachObject('live', emitLive, namespace);
            } finally {
              watcher.resume();
            }
          }
        }
      }
    }
    for (const watcher of added) watcher.start();
    this.updateGauges();
    return true;
  }

  /** Starts the namespace directory when a rule selects namespaces by label (and stops it when none does any more). */
  private async followNamespaces(selection: Selection): Promise<void> {
    const needed = selection.rules.some(selectsNamespacesByLabel);
    if (!needed) {
      await this.namespaces?.stop();
      this.namespaces = undefined;
      return;
    }
    if (this.namespaces) return;
    const context = this.context as SourceContext;
    this.namespaces = new NamespaceDirectory({
      client: this.client as KubeClient,
      clusterId: context.clusterId,
      logger: this.logger as Logger,
      listPageSize: this.options.listPageSize,
      watchTimeoutSeconds: this.options.watchTimeoutSeconds,
      onChange: (name, before, after) => this.namespaceChanged(name, before, after),
    });
    await this.namespaces.start();
  }

  /** A namespace that enters or leaves some rule's namespaceSelector: reconcile soon (changes that come together are handled together). */
  private namespaceChanged(name: string, before: Labels, after: Labels): void {
    const selection = this.context?.selection;
    if (!selection) return;
    const matches = (selector: LabelSelector, labels: Labels) => labels !== undefined && labelSelectorMatches(selector, labels);
    const moved = selection.rules.some(
      (rule) => selectsNamespacesByLabel(rule) && matches(rule.namespaceSelector as LabelSelector, before) !== matches(rule.namespaceSelector as LabelSelector, after),
    );
    if (!moved) return;
    this.relabelled.add(name);
    clearTimeout(this.relabelTimer);
    this.relabelTimer = setTimeout(() => {
      const namespaces = new Set(this.relabelled);
      this.relabelled.clear();
      void this.serialized(() => this.reconcile(this.selection(), [], namespaces));
    }, 200);
    this.relabelTimer.unref();
  }

  /** Any CRD change may add or remove types: rediscover shortly after (twice: discovery lags establishment). */
  private async watchCustomResourceDefinitions(): Promise<void> {
    const client = this.client as KubeClient;
    const path = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
    let resourceVersion = '';
    while (!this.crdWatch.signal.aborted) {
      try {
        if (!resourceVersion) resourceVersion = (await client.getJson<{ metadata: { resourceVersion: string } }>(`${path}?limit=1`, this.crdWatch.signal)).metadata.resourceVersion;
        await client.watch(
          `${path}?watch=1&allowWatchBookmarks=true&timeoutSeconds=${this.options.watchTimeoutSeconds}&resourceVersion=${resourceVersion}`,
          async (event) => {
            const rv = (event.object as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
            if (rv) resourceVersion = rv;
            if (event.type === 'BOOKMARK') return;
            for (const delay of [1000, 5000]) setTimeout(() => void this.serialized(() => this.reconcile(this.selection(), [])), delay).unref();
          },
          this.crdWatch.signal,
        );
      } catch {
        if (this.crdWatch.signal.aborted) return;
        // Forbidden or gone: the periodic rediscovery still picks up new types.
        resourceVersion = '';
        await new Promise((r) => setTimeout(r, 10_000).unref());
      }
    }
  }

  private updateGauges(): void {
    if (!this.metrics) return;
    this.metrics.watches.reset();
    for (const watcher of this.watchers.values()) this.metrics.watches.inc({ state: watcher.state === 'idle' ? 'watching' : watcher.state });
  }
}

/** True for a namespaced rule with a non-empty namespaceSelector. */
function selectsNamespacesByLabel(rule: RuleConfig): boolean {
  return rule.scope === 'Namespaced' && !isEmptyLabelSelector(rule.namespaceSelector);
}

/**
 * Per type (`<group>/<resource>`), the oldest resourceVersion its watchers listed at: the snapshot
 * shows the type as of then, so a writer keeps the files of objects changed after it (ADR 0040).
 */
function listedAt(watchers: readonly ResourceWatcher[]): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const watcher of watchers) {
    const listed = watcher.listedAt;
    if (listed === undefined || !/^\d+$/.test(listed)) continue;
    const key = `${watcher.spec.served.group}/${watcher.spec.served.resource}`;
    const known = versions[key];
    if (known === undefined || BigInt(listed) < BigInt(known)) versions[key] = listed;
  }
  return versions;
}
