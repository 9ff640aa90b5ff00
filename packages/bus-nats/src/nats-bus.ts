import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { AckPolicy, DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, headers as natsHeaders, type Msg, type NatsConnection } from '@nats-io/transport-node';
import {
  backoffDelayMs,
  ContractErrorCodes,
  errorText,
  grError,
  identityKey,
  type AdapterHealth,
  type Bus,
  type BusContext,
  type BusMessage,
  type Logger,
  type PartitionLease,
} from '@gitops-reverser/contract';
import { NatsBusErrorCodes } from './nats-bus-error-codes.js';
import { NatsLease } from './nats-lease.js';

export interface NatsBusOptions {
  readonly servers: readonly string[];
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  /** JetStream stream of this installation (its DLQ stream is `<stream>_DLQ`, its lease bucket `<stream>_LEASES`). */
  readonly stream: string;
  readonly subjectPrefix: string;
  /** Stream replicas: 1 for a single server, 3 for a JetStream cluster. */
  readonly replicas: number;
  /** Messages waiting (not yet delivered) per partition before `publish` waits. */
  readonly capacityPerPartition: number;
  /** Stream size limits; a full stream makes `publish` wait, it never drops. 0 = unlimited. */
  readonly maxBytes: number;
  readonly maxMessages: number;
  /** Window in which two publishes with one message id are one message (replicas watching one cluster). */
  readonly duplicateWindowSeconds: number;
  /** How long a delivered message may stay unacked before the server redelivers it (held messages are refreshed). */
  readonly ackWaitSeconds: number;
  /** A writer's lease on a partition lasts this long without a heartbeat: the takeover time after a crash. */
  readonly leaseSeconds: number;
  /** How often partitions (subjects with messages) are looked for. */
  readonly discoveryMs: number;
  /** This replica's name in leases (default: host, pid and a random suffix). */
  readonly replicaId?: string;
}

/** Subject-safe token of a partition key (keys hold "/", ":", "#"...). */
export function partitionToken(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}

const HEADER_PARTITION = 'Gr-Partition';
const HEADER_REASON = 'Gr-Reject-Reason';

/** The message id that makes replicas' publishes of one observation one message. */
export function messageId(message: BusMessage): string {
  if (message.kind === 'snapshot-end') return `snapshot-end|${message.target}|${message.snapshotId}`;
  if (message.kind === 'attribution') return `attribution|${message.target}|${message.fact.by}|${message.fact.id}|${identityKey(message.fact.identity)}`;
  const { event } = message;
  // Seeds carry their snapshot: each snapshot stays complete (its marker counts its own events).
  return `change|${message.target}|${identityKey(event.identity)}|${event.resourceVersion}|${event.operation}|${event.snapshotId ?? ''}`;
}

interface Held {
  readonly lease: NatsLease;
  revision: number;
}

/**
 * The durable bus on NATS JetStream. One work-queue stream holds every partition on its own subject;
 * `publish` resolves once JetStream stored the message (deduplicated by message id). Each partition has
 * a durable pull consumer, consumed by the replica that holds its lease in a KV bucket (created if
 * absent, renewed by compare-and-set, expiring after `leaseSeconds` without renewal), so exactly one
 * writer applies a partition in order. Acked means written: a kill -9 anywhere loses nothing.
 */
export class NatsBus implements Bus {
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  private leases: KV | undefined;
  private logger: Logger | undefined;
  private onPartition: ((lease: PartitionLease) => void) | undefined;
  private readonly held = new Map<string, Held>();
  /** Partition keys by subject token (learned from publishes and from the stream). */
  private readonly keys = new Map<string, string>();
  /** Messages not yet acked per partition: the server's count, adjusted by what this process did since. */
  private readonly counts = new Map<string, number>();
  private readonly publishedTo = new Set<string>();
  /** Per partition: the server's undelivered count when last asked, and what was published since. */
  private readonly pendingEstimate = new Map<string, { server: number; since: number }>();
  private readonly replicaId: string;
  private discovery: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private connected = false;
  private lastError: string | undefined;

  constructor(private readonly options: NatsBusOptions) {
    this.replicaId = options.replicaId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  }

  async start(context: BusContext): Promise<void> {
    this.logger = context.logger;
    const { options } = this;
    try {
      this.nc = await connect({
        servers: [...options.servers],
        name: `gitops-reverser ${this.replicaId}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        ...(options.user !== undefined ? { user: options.user, pass: options.password ?? '' } : {}),
        ...(options.token !== undefined ? { token: options.token } : {}),
      });
    } catch (cause) {
      throw grError(NatsBusErrorCodes.CONNECT, `cannot connect to NATS at ${options.servers.join(', ')}: ${errorText(cause)}`, {
        fix: 'check with.servers and that nats-server runs with JetStream (-js)',
        cause,
      });
    }
    this.connected = true;
    void this.watchStatus(this.nc);
    this.js = jetstream(this.nc);
    // JetStream may still be electing its leaders (a fresh cluster, a node restarting): keep trying for a while.
    for (let attempt = 1; ; attempt++) {
      try {
        this.jsm = await jetstreamManager(this.nc);
        await this.ensureStreams();
        this.leases = await new Kvm(this.nc).create(`${options.stream}_LEASES`, { ttl: options.leaseSeconds * 1000, history: 1, replicas: options.replicas });
        break;
      } catch (error) {
        if (attempt >= 60)
          throw grError(NatsBusErrorCodes.CONNECT, `JetStream at ${options.servers.join(', ')} did not accept the stream ${options.stream}: ${errorText(error)}`, {
            fix: 'check that JetStream is enabled and, for replicas > 1, that the cluster has that many nodes',
            cause: error,
          });
        if (attempt === 1) this.logger?.warn({ err: errorText(error) }, 'JetStream not ready yet; retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    this.discovery = setInterval(() => void this.discover(), options.discoveryMs);
    this.discovery.unref();
    this.heartbeat = setInterval(() => void this.renew(), Math.max(200, (options.leaseSeconds * 1000) / 3));
    this.heartbeat.unref();
  }

  async publish(partitionKey: string, message: BusMessage, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.closed || !this.js) throw grError(ContractErrorCodes.BUS_CLOSED, 'the NATS bus is stopped; no more messages are accepted', { fix: 'stop sources before the bus (the runtime does)' });
    const token = partitionToken(partitionKey);
    const subject = `${this.options.subjectPrefix}.p.${token}`;
    this.keys.set(token, partitionKey);
    await this.waitForCapacity(partitionKey, token, options.signal);
    const headers = natsHeaders();
    headers.set(HEADER_PARTITION, partitionKey);
    const data = new TextEncoder().encode(JSON.stringify(message));
    // Retried until JetStream stores it: NATS down, leader election, a full stream. Never dropped.
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw grError(ContractErrorCodes.BUS_CLOSED, 'the NATS bus stopped while a publish waited');
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('publish aborted');
      try {
        const ack = await this.js.publish(subject, data, { msgID: messageId(message), headers, timeout: 5000 });
        if (!ack.duplicate) {
          this.counts.set(partitionKey, (this.counts.get(partitionKey) ?? 0) + 1);
          const estimate = this.pendingEstimate.get(token);
          if (estimate) estimate.since++;
        }
        this.publishedTo.add(partitionKey);
        if (!this.held.has(token)) void this.tryAcquire(token);
        return;
      } catch (error) {
        this.lastError = `publishing to NATS failed, retrying: ${errorText(error)}`;
        if (attempt === 1 || attempt % 20 === 0) this.logger?.warn({ partition: partitionKey, attempt, err: errorText(error) }, this.lastError);
        await new Promise((r) => setTimeout(r, backoffDelayMs(attempt, { baseMs: 100, maxMs: 2000 })));
      }
    }
  }

  consume(onPartition: (lease: PartitionLease) => void): void {
    this.onPartition = onPartition;
    void this.discover();
  }

  depth(): ReadonlyMap<string, number> {
    return this.counts;
  }

  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.refreshCounts();
      if ([...this.publishedTo].every((key) => (this.counts.get(key) ?? 0) === 0)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, Math.min(100, Math.max(0, deadline - Date.now()))));
    }
  }

  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.discovery);
    clearInterval(this.heartbeat);
    // Give partitions back at once: their messages go to another replica without waiting for the lease to expire.
    for (const [token, held] of this.held) {
      held.lease.revoke();
      await this.leases?.delete(token, { previousSeq: held.revision }).catch(() => undefined);
    }
    this.held.clear();
    await this.nc?.drain().catch(() => undefined);
  }

  health(): AdapterHealth {
    if (this.closed) return { state: 'stopped' };
    if (!this.nc) return { state: 'starting' };
    if (!this.connected) return { state: 'degraded', reason: `NATS connection lost; reconnecting (publishers wait, nothing accepted is lost)${this.lastError ? `: ${this.lastError}` : ''}` };
    return { state: 'ready', details: { replica: this.replicaId, partitionsHeld: this.held.size } };
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.logger?.warn({ server: status.server }, 'NATS disconnected; reconnecting');
      } else if (status.type === 'reconnect') {
        this.connected = true;
        this.lastError = undefined;
        this.logger?.info({ server: status.server }, 'NATS reconnected');
      }
    }
  }

  private async ensureStreams(): Promise<void> {
    const jsm = this.jsm as JetStreamManager;
    const { options } = this;
    const config = {
      name: options.stream,
      subjects: [`${options.subjectPrefix}.p.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: options.replicas,
      discard: DiscardPolicy.New,
      max_bytes: options.maxBytes > 0 ? options.maxBytes : -1,
      max_msgs: options.maxMessages > 0 ? options.maxMessages : -1,
      duplicate_window: options.duplicateWindowSeconds * 1_000_000_000,
    };
    const dlq = { name: `${options.stream}_DLQ`, subjects: [`${options.subjectPrefix}.dlq.>`], storage: StorageType.File, num_replicas: options.replicas };
    for (const stream of [config, dlq]) {
      try {
        await jsm.streams.info(stream.name);
        await jsm.streams.update(stream.name, stream as never);
      } catch {
        await jsm.streams.add(stream as never);
      }
    }
  }

  /** Finds partitions (subjects holding messages), learns their keys, and tries to lease the ones nobody holds. */
  private async discover(): Promise<void> {
    if (this.closed || !this.jsm || !this.onPartition) return;
    try {
      const info = await this.jsm.streams.info(this.options.stream, { subjects_filter: `${this.options.subjectPrefix}.p.>` });
      const subjects = (info.state.subjects ?? {}) as Record<string, number>;
      const seen = new Set<string>();
      for (const [subject, count] of Object.entries(subjects)) {
        const token = subject.slice(subject.lastIndexOf('.') + 1);
        seen.add(token);
        let key = this.keys.get(token);
        if (!key) {
          const last = await this.jsm.streams.getMessage(this.options.stream, { last_by_subj: subject }).catch(() => undefined);
          key = last?.header.get(HEADER_PARTITION) || undefined;
          if (!key) continue;
          this.keys.set(token, key);
        }
        this.counts.set(key, count);
        if (!this.held.has(token)) void this.tryAcquire(token);
      }
      for (const [token, key] of this.keys) if (!seen.has(token)) this.counts.set(key, 0);
    } catch (error) {
      this.lastError = `partition discovery failed: ${errorText(error)}`;
    }
  }

  private async refreshCounts(): Promise<void> {
    if (!this.jsm) return;
    try {
      const info = await this.jsm.streams.info(this.options.stream, { subjects_filter: `${this.options.subjectPrefix}.p.>` });
      const subjects = (info.state.subjects ?? {}) as Record<string, number>;
      for (const [token, key] of this.keys) this.counts.set(key, subjects[`${this.options.subjectPrefix}.p.${token}`] ?? 0);
    } catch {
      // keep the last known counts
    }
  }

  /** Undelivered messages of a partition stay under `capacityPerPartition`: publish waits (asks the server) while it is full. */
  private async waitForCapacity(partitionKey: string, token: string, signal: AbortSignal | undefined): Promise<void> {
    const capacity = this.options.capacityPerPartition;
    let estimate = this.pendingEstimate.get(token);
    if (!estimate) {
      estimate = { server: 0, since: 0 };
      this.pendingEstimate.set(token, estimate);
    }
    if (estimate.server + estimate.since < capacity) return;
    for (let attempt = 1; ; attempt++) {
      if (this.closed || signal?.aborted) return;
      estimate.server = await this.undelivered(token);
      estimate.since = 0;
      if (estimate.server < capacity) return;
      if (attempt === 1) this.logger?.debug({ partition: partitionKey, undelivered: estimate.server }, 'partition full: publish waits for the writer');
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private async undelivered(token: string): Promise<number> {
    const jsm = this.jsm as JetStreamManager;
    try {
      return (await jsm.consumers.info(this.options.stream, `p-${token}`)).num_pending;
    } catch {
      try {
        const info = await jsm.streams.info(this.options.stream, { subjects_filter: `${this.options.subjectPrefix}.p.${token}` });
        return ((info.state.subjects ?? {}) as Record<string, number>)[`${this.options.subjectPrefix}.p.${token}`] ?? 0;
      } catch {
        return 0;
      }
    }
  }

  /** Takes the partition's lease when nobody holds it, then hands its consumer to the kernel. */
  private async tryAcquire(token: string): Promise<void> {
    if (this.closed || !this.leases || !this.onPartition || this.held.has(token)) return;
    const key = this.keys.get(token);
    if (!key) return;
    let revision: number;
    try {
      revision = await this.leases.create(token, this.replicaId);
    } catch {
      return; // held by another replica (or NATS is away): discovery tries again
    }
    if (this.held.has(token) || this.closed) return;
    const consumer = `p-${token}`;
    try {
      await (this.jsm as JetStreamManager).consumers.add(this.options.stream, {
        durable_name: consumer,
        filter_subject: `${this.options.subjectPrefix}.p.${token}`,
        ack_policy: AckPolicy.Explicit,
        ack_wait: this.options.ackWaitSeconds * 1_000_000_000,
        max_deliver: -1,
        max_ack_pending: 100_000,
      });
    } catch (error) {
      if (!/already|exists/i.test(errorText(error))) {
        await this.leases.delete(token, { previousSeq: revision }).catch(() => undefined);
        this.lastError = `cannot create the consumer of ${key}: ${errorText(error)}`;
        return;
      }
    }
    const lease = new NatsLease({
      nc: this.nc as NatsConnection,
      stream: this.options.stream,
      consumer,
      partitionKey: key,
      workingIntervalMs: Math.max(500, (this.options.ackWaitSeconds * 1000) / 3),
      decode: (msg: Msg) => JSON.parse(new TextDecoder().decode(msg.data)) as BusMessage,
      deadLetter: async (msg, reason) => {
        const headers = natsHeaders();
        headers.set(HEADER_PARTITION, key);
        headers.set(HEADER_REASON, reason.slice(0, 1000));
        await (this.js as JetStreamClient).publish(`${this.options.subjectPrefix}.dlq.${token}`, msg.data, { headers });
      },
      onSettled: (partitionKey, removed) => {
        if (removed) this.counts.set(partitionKey, Math.max(0, (this.counts.get(partitionKey) ?? 0) - 1));
      },
    });
    this.held.set(token, { lease, revision });
    this.logger?.info({ partition: key, replica: this.replicaId }, `this replica writes ${key} now`);
    this.onPartition(lease);
  }

  /** Renews every held lease (compare-and-set on its revision); a failed renewal means another replica has it. */
  private async renew(): Promise<void> {
    if (this.closed || !this.leases) return;
    for (const [token, held] of this.held) {
      try {
        held.revision = await this.leases.update(token, this.replicaId, held.revision);
      } catch (error) {
        if (!this.connected) continue; // cannot tell while disconnected; the lease may still be ours
        this.held.delete(token);
        held.lease.revoke();
        this.logger?.warn({ partition: held.lease.partitionKey, err: errorText(error) }, `lost the lease on ${held.lease.partitionKey}; another replica writes it now`);
      }
    }
  }
}
