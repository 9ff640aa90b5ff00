import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { connect, type Msg, type MsgHdrs, type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import {
  type AdapterHealth,
  backoffDelayMs,
  type Bus,
  type BusContext,
  type BusMessage,
  ContractErrorCodes,
  errorText,
  grError,
  isGitopsReverserError,
  type Logger,
  type PartitionLease,
} from '@gitops-reverser/contract';
import { connectionOptions } from './connection-options.js';
import { connectionWarnings } from './connection-warnings.js';
import { type DeadLetterLabel, DeadLetters } from './dead-letters.js';
import { ensureStreams } from './ensure-streams.js';
import { HEADER_MESSAGE_ID, MessageAuthenticator } from './message-authenticator.js';
import { messageId } from './message-id.js';
import { loadMessageKeys } from './message-keys.js';
import { NatsBusErrorCodes } from './nats-bus-error-codes.js';
import type { NatsBusOptions } from './nats-bus-options.js';
import { PartitionCapacity } from './partition-capacity.js';
import { PartitionConsumer, type Refused } from './partition-consumer.js';
import { PartitionDepth } from './partition-depth.js';
import { messageBytes, PayloadLimit } from './payload-limit.js';
import { StreamPartitions } from './stream-partitions.js';
import { HEADER_PARTITION, partitionToken, StreamLayout } from './stream-layout.js';
import { WriterLease } from './writer-lease.js';

/** A partition this replica writes: its lease in the bucket and the consumer the kernel's worker pulls from. */
interface HeldPartition {
  readonly lease: WriterLease;
  readonly consumer: PartitionConsumer;
}

/**
 * The durable bus on NATS JetStream. One work-queue stream holds every partition on its own subject;
 * `publish` resolves once JetStream stored the message (deduplicated by message id). Each partition has
 * a durable pull consumer, consumed by the replica that holds its writer lease, so exactly one writer
 * applies a partition in order. Acked means written: a kill -9 anywhere loses nothing. Every message
 * carries a MAC; a delivery without a valid one goes to the dead-letter stream (ADR 0014).
 */
export class NatsBus implements Bus {
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  private leaseBucket: KV | undefined;
  private partitions: StreamPartitions | undefined;
  private logger: Logger | undefined;
  private onPartition: ((lease: PartitionLease) => void) | undefined;
  private readonly layout: StreamLayout;
  /** By partition token. */
  private readonly held = new Map<string, HeldPartition>();
  /** Partition keys by subject token (learned from publishes and from the stream). */
  private readonly keys = new Map<string, string>();
  private readonly depthCounts = new PartitionDepth();
  private readonly capacity: PartitionCapacity;
  private readonly replicaId: string;
  private discovery: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private connected = false;
  private lastError: string | undefined;
  private readonly authenticator: MessageAuthenticator;
  private readonly payloadLimit = new PayloadLimit();
  private deadLetters: DeadLetters | undefined;
  /** What leaves this connection open (no credentials, plain TCP, unsigned messages): logged once each, shown in /readyz. */
  private warnings: readonly string[] = [];
  private readonly warned = new Set<string>();

  /** Reads the message keys (throws `GR_ERR_NATS_MESSAGE_KEY` when they are missing or unusable). */
  constructor(private readonly options: NatsBusOptions) {
    this.replicaId = options.replicaId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.layout = new StreamLayout(options.stream, options.subjectPrefix);
    // Before the streams exist nothing is undelivered.
    this.capacity = new PartitionCapacity(options.capacityPerPartition, (token) => this.partitions?.undelivered(token) ?? Promise.resolve(0));
    this.authenticator = new MessageAuthenticator(loadMessageKeys(options.messageKeys, options.allowUnsignedMessages), options.allowUnsignedMessages, options.duplicateWindowSeconds * 1000);
  }

  async start(context: BusContext): Promise<void> {
    this.logger = context.logger;
    const { options } = this;
    this.deadLetters = new DeadLetters({
      layout: this.layout,
      js: () => this.js,
      maxPayload: () => this.nc?.info?.max_payload,
      logger: () => this.logger,
      counter: context.metrics.counter(
        'nats_dead_letters_total',
        'Messages bus-nats put on its dead-letter stream, by reason: unsigned, unknown_key, bad_mac, replayed (not authentic), unreadable (not JSON), rejected (by the writer).',
        ['reason'],
      ),
    });
    try {
      this.nc = await connect({
        servers: [...options.servers],
        name: `gitops-reverser ${this.replicaId}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        ...connectionOptions(options),
      });
    } catch (cause) {
      if (isGitopsReverserError(cause)) throw cause; // a credentials file that cannot be read
      throw grError(NatsBusErrorCodes.CONNECT, `cannot connect to NATS at ${options.servers.join(', ')}: ${errorText(cause)}`, {
        fix: 'check with.servers, the credentials and tls options, and that nats-server runs with JetStream (-js)',
        cause,
      });
    }
    this.connected = true;
    this.checkConnection();
    void this.watchStatus(this.nc);
    this.js = jetstream(this.nc);
    // JetStream may still be electing its leaders (a fresh cluster, a node restarting): keep trying for a while.
    for (let attempt = 1; ; attempt++) {
      try {
        this.jsm = await jetstreamManager(this.nc);
        await ensureStreams(this.jsm, this.layout, options);
        this.leaseBucket = await WriterLease.openBucket(this.nc, this.layout.leaseBucket, options);
        this.partitions = new StreamPartitions(this.jsm, this.layout, this.keys);
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
    const subject = this.layout.partitionSubject(token);
    const data = new TextEncoder().encode(JSON.stringify(message));
    const id = messageId(message);
    // A message that can never be stored is refused before it waits for room.
    let headers = this.signedHeaders(partitionKey, id, subject, data);
    this.payloadLimit.check(partitionKey, messageBytes(headers, data), this.nc?.info?.max_payload);
    this.keys.set(token, partitionKey);
    const waited = await this.capacity.waitForRoom(token, {
      signal: options.signal,
      stopped: () => this.closed,
      onFull: (undelivered) => this.logger?.debug({ partition: partitionKey, undelivered }, 'partition full: publish waits for the writer'),
    });
    // Retried until JetStream stores it: NATS down, leader election, a full stream. Never dropped.
    // The one exception: a message over the server's max_payload (checked again on a retry: a
    // reconnect may have reached a server with another limit) can never be stored.
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw grError(ContractErrorCodes.BUS_CLOSED, 'the NATS bus stopped while a publish waited');
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('publish aborted');
      // Signed again after any wait: the signing time must be close to the time JetStream stores it.
      if (attempt > 1 || waited) {
        headers = this.signedHeaders(partitionKey, id, subject, data);
        this.payloadLimit.check(partitionKey, messageBytes(headers, data), this.nc?.info?.max_payload);
      }
      try {
        const ack = await this.js.publish(subject, data, { msgID: id, headers, timeout: 5000 });
        if (!ack.duplicate) this.capacity.published(token);
        this.depthCounts.published(partitionKey, ack.duplicate);
        if (!this.held.has(token)) void this.claim(token);
        return;
      } catch (error) {
        if (/max_payload/.test(errorText(error))) this.payloadLimit.refuse(partitionKey, messageBytes(headers, data), this.nc?.info?.max_payload);
        this.lastError = `publishing to NATS failed, retrying: ${errorText(error)}`;
        if (attempt === 1 || attempt % 20 === 0) this.logger?.warn({ partition: partitionKey, attempt, err: errorText(error) }, this.lastError);
        await new Promise((r) => setTimeout(r, backoffDelayMs(attempt, { baseMs: 100, maxMs: 2000 })));
      }
    }
  }

  /** The headers of a publish: partition, message id, and the MAC over them and the body (signed now). */
  private signedHeaders(partitionKey: string, id: string, subject: string, data: Uint8Array): MsgHdrs {
    const headers = natsHeaders();
    headers.set(HEADER_PARTITION, partitionKey);
    headers.set(HEADER_MESSAGE_ID, id);
    this.authenticator.sign(headers, subject, data);
    return headers;
  }

  consume(onPartition: (lease: PartitionLease) => void): void {
    this.onPartition = onPartition;
    void this.discover();
  }

  depth(): ReadonlyMap<string, number> {
    return this.depthCounts.byPartition;
  }

  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.refreshCounts();
      if (this.depthCounts.drained()) return true;
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
    for (const { lease, consumer } of this.held.values()) {
      consumer.revoke();
      await lease.release();
    }
    this.held.clear();
    await this.nc?.drain().catch(() => undefined);
  }

  health(): AdapterHealth {
    if (this.closed) return { state: 'stopped' };
    if (!this.nc) return { state: 'starting' };
    const deadLetters = this.deadLetters?.byReason ?? {};
    const details = {
      replica: this.replicaId,
      partitionsHeld: this.held.size,
      ...(this.nc.info ? { maxPayload: this.nc.info.max_payload } : {}),
      ...(Object.keys(deadLetters).length > 0 ? { deadLetters } : {}),
      ...(this.warnings.length > 0 ? { insecure: this.warnings } : {}),
    };
    if (!this.connected) return { state: 'degraded', reason: `NATS connection lost; reconnecting (publishers wait, nothing accepted is lost)${this.lastError ? `: ${this.lastError}` : ''}`, details };
    const tooLarge = this.payloadLimit.degradedReason();
    if (tooLarge) return { state: 'degraded', reason: tooLarge, details };
    return { state: 'ready', details };
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
        this.checkConnection();
      }
    }
  }

  /** Says loudly (once per finding) what leaves the bus open, from the options and the server's INFO. */
  private checkConnection(): void {
    this.warnings = connectionWarnings(this.options, this.nc?.info);
    for (const warning of this.warnings) {
      if (this.warned.has(warning)) continue;
      this.warned.add(warning);
      this.logger?.warn({ security: 'bus-nats' }, `INSECURE: ${warning} (see SECURITY.md, "The bus")`);
    }
  }

  /** A delivery as the consumer may hand it out, or why it goes to the dead-letter stream instead. */
  private admit(msg: Msg, storedAtMs: number, partitionKey: string): { message: BusMessage } | { refused: Refused } {
    const inauthentic = this.authenticator.verify(msg.headers, msg.subject, msg.data, storedAtMs);
    if (inauthentic) return this.refuse(partitionKey, NatsBusErrorCodes.MESSAGE_UNAUTHENTICATED, inauthentic.label, inauthentic.text);
    try {
      return { message: JSON.parse(new TextDecoder().decode(msg.data)) as BusMessage };
    } catch (error) {
      return this.refuse(partitionKey, NatsBusErrorCodes.MESSAGE_UNREADABLE, 'unreadable', `the body is not JSON: ${errorText(error)}`);
    }
  }

  private refuse(partitionKey: string, code: string, label: DeadLetterLabel, text: string): { refused: Refused } {
    this.deadLetters?.report(code, partitionKey, label, text);
    return { refused: { label, reason: `${code} (${label}): ${text}` } };
  }

  /** Finds partitions (subjects holding messages), takes their counts, and tries to claim the ones nobody holds. */
  private async discover(): Promise<void> {
    if (this.closed || !this.partitions || !this.onPartition) return;
    try {
      await this.partitions.discover(({ token, key, count }) => {
        this.depthCounts.set(key, count);
        // Only partitions with messages: the others are known ones the stream no longer lists.
        if (count > 0 && !this.held.has(token)) void this.claim(token);
      });
    } catch (error) {
      this.lastError = `partition discovery failed: ${errorText(error)}`;
    }
  }

  private async refreshCounts(): Promise<void> {
    if (!this.partitions) return;
    try {
      await this.partitions.count(({ key, count }) => this.depthCounts.set(key, count));
    } catch {
      // keep the last known counts
    }
  }

  /** Takes the partition's writer lease when nobody holds it, then hands its consumer to the kernel. */
  private async claim(token: string): Promise<void> {
    if (this.closed || !this.leaseBucket || !this.onPartition || this.held.has(token)) return;
    const key = this.keys.get(token);
    if (!key) return;
    const lease = await WriterLease.acquire(this.leaseBucket, token, this.replicaId);
    if (!lease) return; // held by another replica (or NATS is away): discovery tries again
    if (this.held.has(token) || this.closed) return;
    const consumerName = this.layout.consumerName(token);
    try {
      await PartitionConsumer.ensureDurable(this.jsm as JetStreamManager, {
        stream: this.layout.stream,
        consumer: consumerName,
        subject: this.layout.partitionSubject(token),
        ackWaitSeconds: this.options.ackWaitSeconds,
      });
    } catch (error) {
      await lease.release();
      this.lastError = `cannot create the consumer of ${key}: ${errorText(error)}`;
      return;
    }
    const consumer = new PartitionConsumer({
      nc: this.nc as NatsConnection,
      stream: this.layout.stream,
      consumer: consumerName,
      partitionKey: key,
      workingIntervalMs: Math.max(500, (this.options.ackWaitSeconds * 1000) / 3),
      admit: (msg, storedAtMs) => this.admit(msg, storedAtMs, key),
      deadLetter: (msg, refused) => (this.deadLetters as DeadLetters).put(msg, { token, key }, refused.label, refused.reason),
      onSettled: (partitionKey, removed) => this.depthCounts.settled(partitionKey, removed),
    });
    this.held.set(token, { lease, consumer });
    this.logger?.info({ partition: key, replica: this.replicaId }, `this replica writes ${key} now`);
    this.onPartition(consumer);
  }

  /** Renews every held lease; a failed renewal means another replica has the partition: its consumer is revoked. */
  private async renew(): Promise<void> {
    if (this.closed || !this.leaseBucket) return;
    for (const [token, { lease, consumer }] of this.held) {
      try {
        await lease.renew();
      } catch (error) {
        if (!this.connected) continue; // cannot tell while disconnected; the lease may still be ours
        this.held.delete(token);
        consumer.revoke();
        this.logger?.warn({ partition: consumer.partitionKey, err: errorText(error) }, `lost the lease on ${consumer.partitionKey}; another replica writes it now`);
      }
    }
  }
}
