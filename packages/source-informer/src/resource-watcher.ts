import {
  backoffDelayMs,
  errorText,
  grError,
  identityOf,
  labelSelectorMatches,
  labelsOf,
  type ChangeEvent,
  type ChangePhase,
  type KubeObject,
  type Labels,
  type Logger,
} from '@gitops-reverser/contract';
import type { ServedResource, WatchSpec } from './discovery.js';
import { InformerErrorCodes } from './informer-error-codes.js';
import { KubeApiError, type KubeClient, type WatchEvent } from './kube-client.js';

export type WatcherState = 'idle' | 'watching' | 'forbidden' | 'failing' | 'gone' | 'stopped';

export interface ResourceWatcherOptions {
  readonly client: KubeClient;
  readonly spec: WatchSpec;
  readonly clusterId: string;
  /** Hands a change to the kernel; awaited (backpressure). */
  readonly emit: (event: ChangeEvent) => Promise<void>;
  readonly logger: Logger;
  readonly listPageSize: number;
  readonly watchTimeoutSeconds: number;
  readonly onRelist?: () => void;
  /** Called each time a watch request is opened (first time and every reconnect). */
  readonly onWatchStart?: () => void;
  /**
   * The labels of a namespace, for `ChangeEvent.namespaceLabels` (set when a rule selects namespaces
   * by label); undefined while they are not known.
   */
  readonly namespaceLabels?: (namespace: string) => Labels;
}

/**
 * What the watcher keeps per live object: its resourceVersion (to skip unchanged objects on a
 * relist) and what names it (for the delete of an object that vanished while disconnected), in one
 * flat record. Not the object itself: at 100,000 objects that was the largest part of the process's
 * memory; a snapshot lists again instead (ADR 0012).
 */
interface CachedObject {
  readonly resourceVersion: string;
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  readonly uid: string | undefined;
  readonly labels: Record<string, string> | undefined;
}

function cachedOf(object: KubeObject): CachedObject {
  const metadata = object.metadata;
  return { resourceVersion: metadata?.resourceVersion ?? '', name: metadata?.name, namespace: metadata?.namespace, uid: metadata?.uid, labels: metadata?.labels };
}

/** The object a delete of a vanished object carries: its names, labels and last resourceVersion. */
function stubOf(cached: CachedObject): KubeObject {
  const metadata: Record<string, unknown> = {};
  if (cached.name !== undefined) metadata['name'] = cached.name;
  if (cached.namespace !== undefined) metadata['namespace'] = cached.namespace;
  if (cached.uid !== undefined) metadata['uid'] = cached.uid;
  if (cached.resourceVersion) metadata['resourceVersion'] = cached.resourceVersion;
  if (cached.labels) metadata['labels'] = cached.labels;
  return { metadata } as KubeObject;
}

/** Resolves when `gate` opens; the watch loop waits on it while a snapshot is being taken. */
class Gate {
  private waiters: (() => void)[] = [];
  private closed = false;

  close(): void {
    this.closed = true;
  }

  open(): void {
    this.closed = false;
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  async pass(): Promise<void> {
    if (!this.closed) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}

/**
 * List+watch of one type in one namespace (or all). Keeps what it has seen (to turn a relist into
 * deletes of vanished objects), continues from the last resourceVersion or bookmark, relists on
 * 410 Gone, reconnects with backoff, and releases its connection on stop().
 */
export class ResourceWatcher {
  private readonly cache = new Map<string, CachedObject>();
  private resourceVersion = '';
  private abort = new AbortController();
  private running: Promise<void> | undefined;
  private readonly gate = new Gate();
  private stateValue: WatcherState = 'idle';
  private lastProblem: string | undefined;

  constructor(private readonly options: ResourceWatcherOptions) {
    this.specValue = options.spec;
  }

  private specValue: WatchSpec;

  get spec(): WatchSpec {
    return this.specValue;
  }

  /** The targets using this watch changed (rules reloaded); the watch itself stays. */
  retarget(spec: WatchSpec): void {
    this.specValue = spec;
  }

  get state(): WatcherState {
    return this.stateValue;
  }

  get problem(): string | undefined {
    return this.lastProblem;
  }

  /** The resourceVersion of this watcher's last complete list: what it emitted is the type's state as of then. */
  get listedAt(): string | undefined {
    return this.listedAtValue || undefined;
  }

  private listedAtValue = '';

  /**
   * Lists the type again and emits each object that is not being deleted, page by page:
   * the state a snapshot writes for a watch that is already running. Returns false when the list
   * failed (the watcher is then marked failing, so a snapshot counts its targets as partial and
   * prunes nothing there); the objects handed over until then stay handed over.
   */
  async eachObject(phase: ChangePhase, emit: (event: ChangeEvent) => Promise<void>, namespace?: string): Promise<boolean> {
    try {
      this.listedAtValue = await this.listPages(async (items) => {
        for (const item of items) if (!item.metadata?.deletionTimestamp) await this.emitSafely(item, 'upsert', false, phase, emit);
      }, namespace);
      return true;
    } catch (error) {
      this.noteFailure(error);
      return false;
    }
  }

  /** An event for an object of this type, as the kernel wants it. */
  private toEvent(object: KubeObject, operation: 'upsert' | 'delete', created: boolean, phase: ChangePhase): ChangeEvent {
    const served = this.options.spec.served;
    const typed = withTypeMeta(object, served);
    const namespaceLabels = served.namespaced && this.options.namespaceLabels ? this.options.namespaceLabels(object.metadata?.namespace ?? '') : undefined;
    return {
      identity: identityOf(typed, { clusterId: this.options.clusterId, resource: served.resource, namespaced: served.namespaced }),
      operation,
      created,
      object: typed,
      resourceVersion: object.metadata?.resourceVersion ?? '',
      observedAt: new Date().toISOString(),
      phase,
      observedBy: 'watch',
      ...(namespaceLabels ? { namespaceLabels } : {}),
    };
  }

  /**
   * The first list: remembers each object and emits those not being deleted (in `phase`, through
   * `emit`: the snapshot's during a seed) as their page arrives, so a seed holds a page at a time
   * rather than the whole list (ADR 0012). The watch then continues from the list's resourceVersion.
   * Returns false when it could not list (forbidden, failing): the watcher then retries in its loop.
   */
  async prime(phase: ChangePhase, emit: (event: ChangeEvent) => Promise<void> = this.options.emit): Promise<boolean> {
    try {
      this.cache.clear();
      const resourceVersion = await this.listPages(async (items) => {
        for (const item of items) this.remember(item);
        for (const item of items) if (!item.metadata?.deletionTimestamp) await this.emitSafely(item, 'upsert', false, phase, emit);
      });
      this.resourceVersion = resourceVersion;
      this.listedAtValue = resourceVersion;
      this.stateValue = 'idle';
      this.lastProblem = undefined;
      return true;
    } catch (error) {
      this.noteFailure(error);
      return false;
    }
  }

  /** Starts watching from the primed resourceVersion (or priming first, in the background). */
  start(): void {
    this.running ??= this.loop();
  }

  pause(): void {
    this.gate.close();
  }

  resume(): void {
    this.gate.open();
  }

  async stop(): Promise<void> {
    this.stateValue = 'stopped';
    this.abort.abort();
    this.gate.open();
    await this.running;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    const backoff = () => sleep(backoffDelayMs(++failures), this.abort.signal);
    while (!this.abort.signal.aborted) {
      try {
        if (!this.resourceVersion) {
          // prime() recorded why it failed (forbidden or failing); wait and list again.
          // Objects listed outside a snapshot are reported as changes (e.g. a type discovered later).
          if (!(await this.prime('live'))) {
            await backoff();
            continue;
          }
        }
        this.stateValue = 'watching';
        this.lastProblem = undefined;
        this.options.onWatchStart?.();
        await this.options.client.watch(this.watchPath(), (event) => this.handle(event), this.abort.signal);
        failures = 0; // the server ended the watch (timeoutSeconds): continue from where we are
      } catch (error) {
        if (this.abort.signal.aborted) break;
        if (error instanceof KubeApiError && error.status === 410) {
          this.options.logger.info({ resource: this.describe() }, `resourceVersion ${this.resourceVersion} expired (410 Gone); relisting ${this.describe()}`);
          await this.relist().catch((relistError) => this.noteFailure(relistError));
          continue;
        }
        if (error instanceof KubeApiError && error.status === 404) {
          this.stateValue = 'gone';
          this.lastProblem = `${this.describe()} is no longer served`;
          break;
        }
        this.noteFailure(error);
        await backoff();
      }
    }
    if (this.stateValue !== 'gone') this.stateValue = 'stopped';
  }

  private async handle(event: WatchEvent): Promise<void> {
    await this.gate.pass();
    const object = event.object as KubeObject;
    const rv = object.metadata?.resourceVersion;
    if (event.type === 'BOOKMARK') {
      if (rv) this.resourceVersion = rv;
      return;
    }
    if (rv) this.resourceVersion = rv;
    const key = this.keyOf(object);
    if (event.type === 'DELETED') {
      const known = this.cache.delete(key);
      if (!known) return;
      if (this.spec.labelSelector) await this.leftSelection(object, 'live');
      else await this.emitSafely(object, 'delete', false, 'live');
      return;
    }
    // An object with a deletionTimestamp is on its way out: it counts as deleted now.
    if (object.metadata?.deletionTimestamp) {
      if (this.cache.delete(key)) await this.emitSafely(object, 'delete', false, 'live');
      return;
    }
    const known = this.cache.has(key);
    // The cache is updated before emitting, so a snapshot never reads a state older than one already sent.
    this.remember(object);
    await this.emitSafely(object, 'upsert', event.type === 'ADDED' && !known, 'live');
  }

  /** After 410: list again, send deletes for what vanished and upserts for what changed. */
  private async relist(): Promise<void> {
    this.options.onRelist?.();
    const { items, resourceVersion } = await this.list();
    const fresh = new Map<string, KubeObject>();
    for (const item of items) if (!item.metadata?.deletionTimestamp) fresh.set(this.keyOf(item), item);
    for (const [key, cached] of [...this.cache]) {
      if (!fresh.has(key)) {
        this.cache.delete(key);
        if (this.spec.labelSelector) await this.leftSelection(stubOf(cached), 'sweep');
        else await this.emitSafely(stubOf(cached), 'delete', false, 'sweep');
      }
    }
    for (const [key, item] of fresh) {
      const cached = this.cache.get(key);
      if (cached?.resourceVersion === item.metadata?.resourceVersion) continue;
      this.remember(item);
      await this.emitSafely(item, 'upsert', !cached, 'live');
    }
    this.resourceVersion = resourceVersion;
  }

  /**
   * A watch with a label selector reports an object that stops matching as DELETED, exactly like a
   * deleted one (the event even carries the old, matching state). The API server is asked which it
   * is: gone (a delete), or still there (an upsert of its state now, which the kernel routes: it
   * leaves the targets whose selectors no longer match). When it cannot tell, nothing is emitted: a
   * guess must never delete a file.
   */
  private async leftSelection(last: KubeObject, phase: ChangePhase): Promise<void> {
    let current: KubeObject | null | undefined;
    for (let attempt = 1; attempt <= 3 && current === undefined && !this.abort.signal.aborted; attempt++) {
      try {
        current = await this.options.client.getJson<KubeObject>(this.objectPath(last), this.abort.signal);
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 404) current = null;
        else if (attempt < 3) await sleep(backoffDelayMs(attempt, { baseMs: 200 }), this.abort.signal);
        else
          this.options.logger.warn(
            { resource: this.describe(), err: errorText(error) },
            `cannot tell whether ${this.keyOf(last)} of ${this.describe()} was deleted or relabelled; its file is left as it is until the next change or seed`,
          );
      }
    }
    if (current === undefined) return;
    if (current === null || current.metadata?.deletionTimestamp) {
      await this.emitSafely(last, 'delete', false, phase);
      return;
    }
    addTypeMeta(current, this.spec.served);
    // Relabelled back in meanwhile: the watch will report it; until then it is known again.
    if (this.spec.labelSelector && labelSelectorMatches(this.spec.labelSelector.selector, labelsOf(current))) this.remember(current);
    await this.emitSafely(current, 'upsert', false, 'live');
  }

  private async list(): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const items: KubeObject[] = [];
    const resourceVersion = await this.listPages(async (page) => {
      for (const item of page) items.push(item);
    });
    return { items, resourceVersion };
  }

  /**
   * A paginated list, each page handed to `onPage` while the next one is already requested: the API
   * server prepares page n+1 while page n is handled here. Resolves to the list's resourceVersion.
   */
  private async listPages(onPage: (items: KubeObject[]) => Promise<void>, namespace?: string): Promise<string> {
    type Page = { items: KubeObject[]; metadata: { resourceVersion?: string; continue?: string } };
    const request = (continueToken: string): Promise<Page> => {
      const query = new URLSearchParams({ limit: String(this.options.listPageSize) });
      if (this.spec.labelSelector) query.set('labelSelector', this.spec.labelSelector.query);
      if (continueToken) query.set('continue', continueToken);
      return this.options.client.getJson<Page>(`${this.collectionPath(namespace)}?${query}`, this.abort.signal);
    };
    let resourceVersion = '';
    let next: Promise<Page> | undefined = request('');
    while (next !== undefined) {
      const page: Page = await next;
      const continueToken = page.metadata.continue ?? '';
      next = continueToken ? request(continueToken) : undefined;
      // A failed prefetch surfaces when awaited; until then it must not count as unhandled.
      next?.catch(() => undefined);
      resourceVersion = page.metadata.resourceVersion ?? resourceVersion;
      const served = this.options.spec.served;
      for (const item of page.items) addTypeMeta(item, served);
      await onPage(page.items);
    }
    return resourceVersion;
  }

  private remember(object: KubeObject): void {
    if (object.metadata?.deletionTimestamp) return;
    this.cache.set(this.keyOf(object), cachedOf(object));
  }

  private keyOf(object: KubeObject): string {
    // Joined, not a template literal: a flat string, not a concatenated one kept beside its flattened text (one per watched object).
    return [object.metadata?.namespace ?? '', object.metadata?.name ?? ''].join('/');
  }

  /** A bad object is logged and skipped; the watch goes on. */
  private async emitSafely(object: KubeObject, operation: 'upsert' | 'delete', created: boolean, phase: ChangePhase, emit = this.options.emit): Promise<void> {
    let event: ChangeEvent;
    try {
      event = this.toEvent(object, operation, created, phase);
    } catch (error) {
      this.options.logger.warn({ resource: this.describe(), err: errorText(error) }, `skipping an object of ${this.describe()}: ${errorText(error)}`);
      return;
    }
    await emit(event);
  }

  private noteFailure(error: unknown): void {
    const forbidden = error instanceof KubeApiError && (error.status === 403 || error.status === 401);
    const next: WatcherState = forbidden ? 'forbidden' : 'failing';
    const problem = forbidden
      ? grError(InformerErrorCodes.FORBIDDEN, `not allowed to list/watch ${this.describe()}: ${errorText(error)}`, {
          fix: `grant list and watch on ${this.options.spec.served.resource} to the kubeconfig's user, or narrow the rule; the type is skipped meanwhile`,
        }).describe()
      : errorText(error);
    if (next !== this.stateValue || problem !== this.lastProblem) {
      this.options.logger.warn({ resource: this.describe(), state: next, err: problem }, forbidden ? problem : `list/watch of ${this.describe()} failed: ${problem}`);
    }
    this.stateValue = next;
    this.lastProblem = problem;
  }

  describe(): string {
    const served = this.options.spec.served;
    const selector = this.options.spec.labelSelector ? ` (${this.options.spec.labelSelector.query})` : '';
    return `${served.group ? `${served.group}/` : ''}${served.version}/${served.resource}${this.options.spec.namespace ? ` in ${this.options.spec.namespace}` : ''}${selector}`;
  }

  /** The type's collection in the watch's namespace (or `namespace`, to list one namespace of a cluster-wide watch). */
  private collectionPath(namespace = this.options.spec.namespace): string {
    const { served } = this.options.spec;
    const base = served.group === '' ? `/api/${served.version}` : `/apis/${served.group}/${served.version}`;
    return namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${served.resource}` : `${base}/${served.resource}`;
  }

  private objectPath(object: KubeObject): string {
    const namespace = this.options.spec.served.namespaced ? object.metadata?.namespace : undefined;
    return `${this.collectionPath(namespace)}/${encodeURIComponent(object.metadata?.name ?? '')}`;
  }

  private watchPath(): string {
    const query = new URLSearchParams({
      watch: '1',
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(this.options.watchTimeoutSeconds),
    });
    if (this.spec.labelSelector) query.set('labelSelector', this.spec.labelSelector.query);
    return `${this.collectionPath()}?${query}`;
  }
}

/** List items lack apiVersion and kind; put them back from discovery (in place: the list's objects are ours). */
function addTypeMeta(object: KubeObject, served: ServedResource): void {
  if (object.apiVersion && object.kind) return;
  object.apiVersion = served.group ? `${served.group}/${served.version}` : served.version;
  object.kind = served.kind;
}

/** A watch event's object lacks nothing, but a stub or foreign object may: a copy with the type added. */
function withTypeMeta(object: KubeObject, served: ServedResource): KubeObject {
  if (object.apiVersion && object.kind) return object;
  return { ...object, apiVersion: served.group ? `${served.group}/${served.version}` : served.version, kind: served.kind };
}

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
