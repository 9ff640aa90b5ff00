import { backoffDelayMs, errorText, grError, identityOf, type ChangeEvent, type KubeObject, type Logger } from '@gitops-reverser/contract';
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
}

/**
 * What the watcher keeps per live object: its resourceVersion (to skip unchanged objects on a
 * relist) and a stub naming it (for the delete of an object that vanished while disconnected).
 * Not the object itself: at 100,000 objects that was the largest part of the process's memory;
 * a snapshot lists again instead (ADR 0012).
 */
interface CachedObject {
  readonly stub: KubeObject;
  readonly resourceVersion: string;
}

/**
 * Emits each object in turn and lets go of it once emitted: a seed of 100,000 objects then holds
 * only what the bus holds, not the whole list a second time.
 */
export async function emitEach(objects: KubeObject[], emit: (object: KubeObject) => Promise<void>): Promise<void> {
  for (let index = 0; index < objects.length; index++) {
    const object = objects[index] as KubeObject;
    (objects as (KubeObject | undefined)[])[index] = undefined;
    await emit(object);
  }
}

function stubOf(object: KubeObject): KubeObject {
  const { name, namespace, uid, resourceVersion, labels } = object.metadata ?? {};
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: { ...(name !== undefined ? { name } : {}), ...(namespace !== undefined ? { namespace } : {}), ...(uid !== undefined ? { uid } : {}), ...(resourceVersion !== undefined ? { resourceVersion } : {}), ...(labels ? { labels } : {}) },
  } as KubeObject;
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
  /** The items of the last list, until a snapshot (or the first watch) takes them. */
  private primed: KubeObject[] | undefined;
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

  /**
   * The objects as they are now (not being deleted): the state a snapshot writes. Right after a
   * list (prime) these are its items, handed over once; otherwise the type is listed again. A list
   * that fails marks the watcher failing (so a snapshot counts its targets as partial and prunes
   * nothing there) and gives no objects.
   */
  async objects(): Promise<KubeObject[]> {
    const primed = this.primed;
    this.primed = undefined;
    if (primed) return primed;
    if (!this.resourceVersion) return [];
    try {
      return (await this.list()).items.filter((item) => !item.metadata?.deletionTimestamp);
    } catch (error) {
      this.noteFailure(error);
      return [];
    }
  }

  /** An event for an object of this type, as the kernel wants it. */
  toEvent(object: KubeObject, operation: 'upsert' | 'delete', created: boolean, origin: ChangeEvent['origin']): ChangeEvent {
    const served = this.options.spec.served;
    return {
      identity: identityOf(withTypeMeta(object, served), { clusterId: this.options.clusterId, resource: served.resource, namespaced: served.namespaced }),
      operation,
      created,
      object: withTypeMeta(object, served),
      resourceVersion: object.metadata?.resourceVersion ?? '',
      observedAt: new Date().toISOString(),
      origin,
    };
  }

  /** The first list. Returns false when it could not list (forbidden, failing): the watcher then retries in its loop. */
  async prime(): Promise<boolean> {
    try {
      const { items, resourceVersion } = await this.list();
      this.cache.clear();
      for (const item of items) this.remember(item);
      this.primed = items.filter((item) => !item.metadata?.deletionTimestamp);
      this.resourceVersion = resourceVersion;
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
          if (!(await this.prime())) {
            await backoff();
            continue;
          }
          // Objects listed outside a snapshot are reported as changes (e.g. a type discovered later).
          await emitEach(await this.objects(), (object) => this.options.emit(this.toEvent(object, 'upsert', false, 'watch')));
        }
        // Whatever no snapshot took is not needed once watching.
        this.primed = undefined;
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
      if (known) await this.emitSafely(object, 'delete', false, 'watch');
      return;
    }
    // An object with a deletionTimestamp is on its way out: it counts as deleted now.
    if (object.metadata?.deletionTimestamp) {
      if (this.cache.delete(key)) await this.emitSafely(object, 'delete', false, 'watch');
      return;
    }
    const known = this.cache.has(key);
    // The cache is updated before emitting, so a snapshot never reads a state older than one already sent.
    this.remember(object);
    await this.emitSafely(object, 'upsert', event.type === 'ADDED' && !known, 'watch');
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
        await this.emitSafely(cached.stub, 'delete', false, 'sweep');
      }
    }
    for (const [key, item] of fresh) {
      const cached = this.cache.get(key);
      if (cached?.resourceVersion === item.metadata?.resourceVersion) continue;
      this.remember(item);
      await this.emitSafely(item, 'upsert', !cached, 'watch');
    }
    this.resourceVersion = resourceVersion;
  }

  private async list(): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const items: KubeObject[] = [];
    let continueToken = '';
    let resourceVersion = '';
    do {
      const query = new URLSearchParams({ limit: String(this.options.listPageSize) });
      if (continueToken) query.set('continue', continueToken);
      const page = await this.options.client.getJson<{ items: KubeObject[]; metadata: { resourceVersion?: string; continue?: string } }>(
        `${this.collectionPath()}?${query}`,
        this.abort.signal,
      );
      for (const item of page.items) items.push(withTypeMeta(item, this.options.spec.served));
      continueToken = page.metadata.continue ?? '';
      resourceVersion = page.metadata.resourceVersion ?? resourceVersion;
    } while (continueToken);
    return { items, resourceVersion };
  }

  private remember(object: KubeObject): void {
    if (object.metadata?.deletionTimestamp) return;
    this.cache.set(this.keyOf(object), { stub: stubOf(object), resourceVersion: object.metadata?.resourceVersion ?? '' });
  }

  private keyOf(object: KubeObject): string {
    return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
  }

  /** A bad object is logged and skipped; the watch goes on. */
  private async emitSafely(object: KubeObject, operation: 'upsert' | 'delete', created: boolean, origin: ChangeEvent['origin']): Promise<void> {
    let event: ChangeEvent;
    try {
      event = this.toEvent(object, operation, created, origin);
    } catch (error) {
      this.options.logger.warn({ resource: this.describe(), err: errorText(error) }, `skipping an object of ${this.describe()}: ${errorText(error)}`);
      return;
    }
    await this.options.emit(event);
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
    return `${served.group ? `${served.group}/` : ''}${served.version}/${served.resource}${this.options.spec.namespace ? ` in ${this.options.spec.namespace}` : ''}`;
  }

  private collectionPath(): string {
    const { served, namespace } = this.options.spec;
    const base = served.group === '' ? `/api/${served.version}` : `/apis/${served.group}/${served.version}`;
    return namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${served.resource}` : `${base}/${served.resource}`;
  }

  private watchPath(): string {
    const query = new URLSearchParams({
      watch: '1',
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(this.options.watchTimeoutSeconds),
    });
    return `${this.collectionPath()}?${query}`;
  }
}

/** List items lack apiVersion and kind; put them back from discovery. */
function withTypeMeta(object: KubeObject, served: ServedResource): KubeObject {
  if (object.apiVersion && object.kind) return object;
  return { ...object, apiVersion: served.group ? `${served.group}/${served.version}` : served.version, kind: served.kind };
}

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

