import type { AdapterHealth, ChangeEvent, CounterMetric, Logger, Source, SourceContext } from '@gitops-reverser/contract';
import { AuditErrorCodes } from './audit-error-codes.js';
import { interpret, type ActorMapping, type AuditEvent } from './audit-event.js';
import { AuditListener, type ClusterAuth, type ListenerTls } from './audit-listener.js';
import { TokenFile, type TokenState, tokenProblem } from './token-file.js';

/** How the API server of this cluster proves itself: a token (inline or in a file), client certificates, or both. */
export interface AuditAuthOptions {
  readonly token?: string;
  /** Absolute path of a file holding the token; re-read when it changes (a rotated Secret). */
  readonly tokenFile?: string;
  /** Client certificates signed by `tls.clientCAFile` with one of these common names. */
  readonly clientCertificate?: { readonly commonNames: readonly string[] };
}

export interface AuditSourceOptions {
  readonly listen: { readonly host: string; readonly port: number; readonly maxConnections?: number; readonly requestTimeoutSeconds?: number };
  readonly tls: ListenerTls;
  readonly auth: AuditAuthOptions;
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
  add(key: string): boolean {
    if (this.entries.has(key)) return false;
    this.entries.add(key);
    if (this.entries.size > this.max) this.entries.delete(this.entries.values().next().value as string);
    return true;
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
  private listener: AuditListener | undefined;
  private context: SourceContext | undefined;
  private logger: Logger | undefined;
  private state: AdapterHealth = { state: 'starting' };
  private readonly seen: RecentSet;
  /** Newest resourceVersion seen per object (changes mode): a late, older event never overwrites a newer one. */
  private readonly newest = new Map<string, string>();
  private metrics: { events: CounterMetric<'cluster' | 'result' | 'reason'>; requests: CounterMetric<'cluster' | 'code'> } | undefined;
  private address = '';

  constructor(private readonly options: AuditSourceOptions) {
    this.attributes = options.mode === 'attribute';
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
    this.listener = AuditListener.acquire(listen.host, listen.port, tls, {
      maxBodyBytes,
      maxConnections: listen.maxConnections ?? 256,
      requestTimeoutMs: (listen.requestTimeoutSeconds ?? 30) * 1000,
    });
    this.listener.register(context.clusterId, {
      auth: this.clusterAuth(context),
      handle: (events) => this.handleBatch(events),
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

  /** The credentials as the listener checks them: a token file is watched, a bad token accepts nothing. */
  private clusterAuth(context: SourceContext): ClusterAuth {
    const { token, tokenFile, clientCertificate } = this.options.auth;
    let current: (() => TokenState) | undefined;
    if (tokenFile !== undefined) {
      const file = new TokenFile(tokenFile, (state) => {
        if ('problem' in state) {
          this.logger?.error(
            { cluster: context.clusterId, code: AuditErrorCodes.AUTH_CONFIG },
            `${AuditErrorCodes.AUTH_CONFIG}: ${state.problem}; audit requests for ${context.clusterId} are refused until it holds a usable token`,
          );
        } else this.logger?.info({ cluster: context.clusterId }, `the audit token of ${context.clusterId} changed (${tokenFile}); the new one is in effect`);
      });
      current = () => file.current();
    } else if (token !== undefined) {
      const problem = tokenProblem(token);
      const state: TokenState = problem ? { problem: `auth.token is not usable: ${problem}` } : { token: token.trim() };
      current = () => state;
    }
    return { ...(current ? { token: current } : {}), ...(clientCertificate ? { clientCertificate } : {}) };
  }

  /** The port actually listened on (with `listen.port: 0`). */
  get port(): number {
    return Number(this.address.split(':').pop());
  }

  async stop(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    if (listener && this.context) await listener.release(this.context.clusterId);
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
      // Batches are retried and may overlap: each audit ID counts once.
      if (!this.seen.add(`${String(event.auditID)}|${String(event.stage)}`)) {
        this.metrics?.events.inc({ cluster, result: 'skipped', reason: 'duplicate' });
        continue;
      }
      this.metrics?.events.inc({ cluster, result: 'accepted', reason: '' });
      if (this.options.mode === 'attribute') {
        for (const fact of reading.facts) await context.attribute(fact);
      } else {
        for (const change of reading.changes) if (this.isNewest(change)) await context.emit(change);
      }
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
