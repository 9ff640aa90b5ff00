import type { AdapterHealth, ChangeEvent, CounterMetric, Logger, Source, SourceContext } from '@gitops-reverser/contract';
import { routeAuth, type WebhookAnswer, type WebhookAuthOptions, WebhookListener, type WebhookTls } from '@gitops-reverser/webhook-server';
import { interpret, type ActorMapping, type AuditEvent } from './audit-event.js';

/** The URL path prefix of audit webhooks: `/audit-webhook/<cluster-id>`. */
const PREFIX = 'audit-webhook';

export interface AuditSourceOptions {
  readonly listen: { readonly host: string; readonly port: number; readonly maxConnections?: number; readonly requestTimeoutSeconds?: number };
  readonly tls: WebhookTls;
  /** How the API server of this cluster proves itself: a token (inline or in a file re-read when it changes), client certificates, or both. */
  readonly auth: WebhookAuthOptions;
  /** `attribute`: name the actor of watch changes (with source-informer); `changes`: the audit stream alone is the source. */
  readonly mode: 'attribute' | 'changes';
  readonly maxBodyBytes: number;
  readonly actors: ActorMapping;
  /** How many audit IDs are remembered to drop duplicates (batches are retried and may overlap). */
  readonly dedupeEntries: number;
}

/** A bounded set: the oldest entries go first. */
class RecentSet {
  private readonly entries = new Set<string>();
  constructor(private readonly max: number) {}
  has(key: string): boolean {
    return this.entries.has(key);
  }
  add(key: string): void {
    if (this.entries.has(key)) return;
    this.entries.add(key);
    if (this.entries.size > this.max) this.entries.delete(this.entries.values().next().value as string);
  }
}

/** resourceVersions are opaque, but decimal in every API server: compare as numbers when both are. */
function older(a: string, b: string): boolean {
  return /^\d+$/.test(a) && /^\d+$/.test(b) && BigInt(a) < BigInt(b);
}

/**
 * The audit webhook receiver for one cluster (`sources[].cluster`), on a listener shared by every
 * cluster configured on the same address. In `attribute` mode each audited write becomes a fact on the
 * bus that authors the matching watch change; in `changes` mode the writes' response objects are the
 * changes themselves (RequestResponse level needed).
 */
export class AuditSource implements Source {
  readonly attributes: boolean;
  readonly exactAttributionBy: string | undefined;
  private listener: WebhookListener | undefined;
  private context: SourceContext | undefined;
  private logger: Logger | undefined;
  private state: AdapterHealth = { state: 'starting' };
  private readonly seen: RecentSet;
  /** Newest resourceVersion seen per object (changes mode): a late, older event never overwrites a newer one. */
  private readonly newest = new Map<string, string>();
  private metrics: { events: CounterMetric<'cluster' | 'result' | 'reason'>; requests: CounterMetric<'cluster' | 'code'> } | undefined;
  private address = '';
  /** The batch being handled: the next one waits for it (see handleRequest). */
  private handling: Promise<void> = Promise.resolve();

  constructor(private readonly options: AuditSourceOptions) {
    this.attributes = options.mode === 'attribute';
    this.exactAttributionBy = this.attributes ? 'audit' : undefined;
    this.seen = new RecentSet(options.dedupeEntries);
  }

  async start(context: SourceContext): Promise<void> {
    this.context = context;
    this.logger = context.logger;
    this.metrics = {
      events: context.metrics.counter('audit_events_total', 'Audit events received, by cluster and result (accepted, skipped, rejected) with the reason.', ['cluster', 'result', 'reason']),
      requests: context.metrics.counter('audit_requests_total', 'Audit webhook requests, by cluster and HTTP status answered.', ['cluster', 'code']),
    };
    const { listen, tls, maxBodyBytes } = this.options;
    this.listener = WebhookListener.acquire(listen.host, listen.port, tls, {
      maxBodyBytes,
      maxConnections: listen.maxConnections ?? 256,
      requestTimeoutMs: (listen.requestTimeoutSeconds ?? 30) * 1000,
    });
    this.listener.register({
      prefix: PREFIX,
      cluster: context.clusterId,
      auth: routeAuth(this.options.auth, context.logger, `/${PREFIX}/${context.clusterId}`),
      handle: (body) => this.handleRequest(body),
      onRequest: (code) => this.metrics?.requests.inc({ cluster: context.clusterId, code: String(code) }),
    });
    try {
      const address = await this.listener.listen();
      this.address = `${address.address}:${address.port}`;
    } catch (error) {
      this.state = { state: 'failed', reason: (error as Error).message };
      throw error;
    }
    this.state = { state: 'ready', details: { listening: this.address, path: `/audit-webhook/${context.clusterId}`, mode: this.options.mode } };
    context.logger.info(
      { address: this.address, cluster: context.clusterId, mode: this.options.mode },
      `receiving audit events for cluster ${context.clusterId} on https://${this.address}/audit-webhook/${context.clusterId}`,
    );
  }

  /** An audit.k8s.io/v1 EventList: answered once its writes are on the bus (the API server retries what it does not get a 200 for). */
  private async handleRequest(body: unknown): Promise<WebhookAnswer> {
    const list = body as { apiVersion?: unknown; kind?: unknown; items?: unknown } | null;
    if (list === null || typeof list !== 'object' || list.kind !== 'EventList' || list.apiVersion !== 'audit.k8s.io/v1' || !Array.isArray(list.items)) {
      return { status: 400, body: 'bad request: expected an audit.k8s.io/v1 EventList' };
    }
    // One batch at a time, in the order they arrived: the API server posts batches concurrently, and
    // two handled at once interleave while they wait for the bus, so a create could reach the check
    // for older events after the delete that followed it and be dropped as older.
    const turn = this.handling.then(() => this.handleBatch(list.items as AuditEvent[]));
    this.handling = turn.catch(() => undefined);
    try {
      await turn;
      return { status: 200, body: 'ok' };
    } catch {
      return { status: 503, body: 'unavailable: the batch could not be handed over; retry' };
    }
  }

  /** The port actually listened on (with `listen.port: 0`). */
  get port(): number {
    return Number(this.address.split(':').pop());
  }

  async stop(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    if (listener && this.context) await listener.release({ prefix: PREFIX, cluster: this.context.clusterId });
    this.state = { state: 'stopped' };
  }

  health(): AdapterHealth {
    return this.state;
  }

  private async handleBatch(events: readonly AuditEvent[]): Promise<void> {
    const context = this.context as SourceContext;
    const cluster = context.clusterId;
    for (const event of events) {
      const reading = interpret(event, cluster, this.options.actors);
      if (reading.kind === 'skip') {
        this.metrics?.events.inc({ cluster, result: reading.reason === 'malformed' ? 'rejected' : 'skipped', reason: reading.reason });
        continue;
      }
      // Batches are retried and may overlap: each audit ID counts once, once it was handed over (a
      // batch answered 503 midway is retried, and the events not yet handed over must not be skipped).
      const id = `${String(event.auditID)}|${String(event.stage)}`;
      if (this.seen.has(id)) {
        this.metrics?.events.inc({ cluster, result: 'skipped', reason: 'duplicate' });
        continue;
      }
      if (this.options.mode === 'attribute') {
        for (const fact of reading.facts) await context.attribute(fact);
      } else {
        for (const change of reading.changes) if (this.isNewest(change)) await context.emit(change);
      }
      this.seen.add(id);
      this.metrics?.events.inc({ cluster, result: 'accepted', reason: '' });
    }
  }

  private isNewest(change: ChangeEvent): boolean {
    const key = `${change.identity.group}/${change.identity.resource}/${change.identity.namespace}/${change.identity.name}`;
    const known = this.newest.get(key);
    if (known !== undefined && change.resourceVersion !== '' && older(change.resourceVersion, known)) return false;
    if (change.resourceVersion !== '') {
      this.newest.delete(key);
      this.newest.set(key, change.resourceVersion);
      if (this.newest.size > this.options.dedupeEntries) this.newest.delete(this.newest.keys().next().value as string);
    }
    return true;
  }
}
