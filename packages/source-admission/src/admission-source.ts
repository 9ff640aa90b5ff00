import type { AdapterHealth, AttributionFact, CounterMetric, Logger, Source, SourceContext } from '@gitops-reverser/contract';
import { routeAuth, type WebhookAnswer, type WebhookAuthOptions, WebhookListener, type WebhookTls } from '@gitops-reverser/webhook-server';
import { interpretReview } from './admission-review.js';
import { FactQueue } from './fact-queue.js';

/** The URL path prefix of admission reviews: `/admission/<cluster-id>`. */
export const ADMISSION_PREFIX = 'admission';

export interface AdmissionSourceOptions {
  readonly listen: { readonly host: string; readonly port: number; readonly maxConnections?: number; readonly requestTimeoutSeconds?: number };
  readonly tls: WebhookTls;
  /** How the API server proves itself (its admission kubeconfig); empty: any caller (managed clusters cannot configure it). */
  readonly auth: WebhookAuthOptions;
  readonly maxBodyBytes: number;
  /** Facts waiting to go on the bus at most; beyond it the oldest is dropped (counted), never the answer delayed. */
  readonly queueSize: number;
}

/**
 * A validating admission webhook as a source of authors: every CREATE, UPDATE and DELETE the API
 * server admits is a fact about who made it, joined by the writer to the change the write makes. It
 * always answers `allowed: true` without patches, at once: the fact is queued and handed to the bus
 * after the answer, so the webhook never delays or blocks a write (and with `failurePolicy: Ignore`
 * a webhook that is down or slow never fails one either). It produces no changes of its own: the
 * watch does.
 */
export class AdmissionSource implements Source {
  readonly attributes = true;
  private listener: WebhookListener | undefined;
  private context: SourceContext | undefined;
  private queue: FactQueue | undefined;
  private state: AdapterHealth = { state: 'starting' };
  private address = '';
  private metrics: { reviews: CounterMetric<'cluster' | 'result' | 'reason'>; requests: CounterMetric<'cluster' | 'code'> } | undefined;

  constructor(private readonly options: AdmissionSourceOptions) {}

  async start(context: SourceContext): Promise<void> {
    this.context = context;
    this.metrics = {
      reviews: context.metrics.counter('admission_reviews_total', 'Admission reviews received, by cluster and result (fact, skipped, malformed) with the reason.', ['cluster', 'result', 'reason']),
      requests: context.metrics.counter('admission_requests_total', 'Admission webhook requests, by cluster and HTTP status answered.', ['cluster', 'code']),
    };
    const dropped = context.metrics.counter('admission_facts_dropped_total', 'Facts dropped because the queue to the bus was full (their changes are committed without an author).', ['cluster']);
    this.queue = new FactQueue(
      this.options.queueSize,
      (fact) => context.attribute(fact),
      () => dropped.inc({ cluster: context.clusterId }),
    );
    const { listen, tls, maxBodyBytes, auth } = this.options;
    this.listener = WebhookListener.acquire(listen.host, listen.port, tls, {
      maxBodyBytes,
      maxConnections: listen.maxConnections ?? 256,
      requestTimeoutMs: (listen.requestTimeoutSeconds ?? 30) * 1000,
    });
    this.listener.register({
      prefix: ADMISSION_PREFIX,
      cluster: context.clusterId,
      auth: routeAuth(auth, context.logger, `/${ADMISSION_PREFIX}/${context.clusterId}`),
      handle: (body) => Promise.resolve(this.review(body)),
      onRequest: (code) => this.metrics?.requests.inc({ cluster: context.clusterId, code: String(code) }),
    });
    try {
      const address = await this.listener.listen();
      this.address = `${address.address}:${address.port}`;
    } catch (error) {
      this.state = { state: 'failed', reason: (error as Error).message };
      throw error;
    }
    const path = `/${ADMISSION_PREFIX}/${context.clusterId}`;
    this.state = { state: 'ready', details: { listening: this.address, path, callerAuthentication: hasAuth(auth) } };
    const log: Logger = context.logger;
    log.info({ address: this.address, cluster: context.clusterId }, `receiving admission reviews for cluster ${context.clusterId} on https://${this.address}${path}`);
    if (!hasAuth(auth)) {
      log.warn(
        { cluster: context.clusterId },
        `the admission webhook of ${context.clusterId} accepts any caller (no auth configured): anyone who reaches it can hand over facts; a fact still authors only a change whose content matches (see SECURITY.md)`,
      );
    }
  }

  /** The port actually listened on (with `listen.port: 0`). */
  get port(): number {
    return Number(this.address.split(':').pop());
  }

  async stop(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    if (listener && this.context) await listener.release({ prefix: ADMISSION_PREFIX, cluster: this.context.clusterId });
    // Facts already accepted still go on the bus (within the stop budget).
    await this.queue?.drain();
    this.state = { state: 'stopped' };
  }

  health(): AdapterHealth {
    if (this.state.state !== 'ready' || !this.queue) return this.state;
    return { ...this.state, details: { ...this.state.details, queued: this.queue.size, dropped: this.queue.dropped } };
  }

  /** Always allowed: a review answers at once, the fact goes to the bus afterwards. */
  private review(body: unknown): WebhookAnswer {
    const cluster = this.context?.clusterId ?? '';
    const reading = interpretReview(body, cluster);
    if (reading.kind === 'malformed') {
      this.metrics?.reviews.inc({ cluster, result: 'malformed', reason: '' });
      return { status: 400, body: `bad request: ${reading.problem}` };
    }
    if (reading.kind === 'skip') this.metrics?.reviews.inc({ cluster, result: 'skipped', reason: reading.reason });
    else {
      this.metrics?.reviews.inc({ cluster, result: 'fact', reason: '' });
      this.queue?.push(reading.fact as AttributionFact);
    }
    return { status: 200, body: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: reading.uid, allowed: true } } };
  }
}

function hasAuth(auth: WebhookAuthOptions): boolean {
  return auth.token !== undefined || auth.tokenFile !== undefined || auth.clientCertificate !== undefined;
}
