import { AckPolicy, type JetStreamManager } from '@nats-io/jetstream';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { type BusMessage, type Delivery, errorText, type FetchOptions, type PartitionLease } from '@gitops-reverser/contract';
import { deliveryOf } from './ack-subject.js';
import type { DeadLetterLabel } from './dead-letters.js';

export interface PartitionConsumerOptions {
  readonly nc: NatsConnection;
  readonly stream: string;
  readonly consumer: string;
  readonly partitionKey: string;
  /** Refreshes unacked messages before the consumer's ack wait lets the server redeliver them. */
  readonly workingIntervalMs: number;
  /**
   * Checks a delivery before anything reads it: the message, or why it can never be handled (it is
   * then dead-lettered here and never handed out).
   */
  readonly admit: (msg: Msg, storedAtMs: number) => { readonly message: BusMessage } | { readonly refused: Refused };
  /** Dead-letters a message (before it is terminated): one `admit` refused, or one the worker rejected. */
  readonly deadLetter: (msg: Msg, refused: Refused) => Promise<void>;
  readonly onSettled: (partitionKey: string, removed: boolean) => void;
}

/** Why a message goes to the dead-letter stream: a label to count it by and the reason stored with it. */
export interface Refused {
  readonly label: DeadLetterLabel;
  readonly reason: string;
}

interface Held {
  readonly msg: Msg;
  readonly message: BusMessage;
  readonly streamSeq: number;
  readonly delivered: number;
}

/** How long a message `admit` refused waits before it is tried again when it could not be dead-lettered. */
const DEAD_LETTER_RETRY_MS = 2000;

/**
 * One partition's pull consumer: what the kernel's worker gets as the contract's `PartitionLease`
 * while this replica holds the partition's writer lease (`WriterLease`), revoked when it loses it.
 * Pulls exactly what the worker asks for (so undelivered messages stay counted by the server), and
 * keeps partition order itself: nothing with a higher stream sequence is handed out while a lower one
 * waits for its nack delay, whatever order the server redelivers in.
 */
export class PartitionConsumer implements PartitionLease {
  readonly partitionKey: string;
  private readonly controller = new AbortController();
  private readonly inbox: string;
  private readonly subscription: Subscription;
  /** Pulled and not handed out yet, by stream sequence. */
  private readonly ready = new Map<number, Held>();
  /** Handed out, not settled. */
  private readonly inflight = new Map<number, Held>();
  /** Nacked, waiting for their redelivery: nothing after the lowest of them goes out. */
  private readonly awaiting = new Set<number>();
  /** Refused by `admit`, on their way to the dead-letter stream. */
  private readonly discarding = new Set<number>();
  private arrived: (() => void) | undefined;
  private readonly working: NodeJS.Timeout;

  constructor(private readonly options: PartitionConsumerOptions) {
    this.partitionKey = options.partitionKey;
    this.inbox = `_INBOX.gr.${options.consumer}.${Math.random().toString(36).slice(2)}`;
    this.subscription = options.nc.subscribe(this.inbox, { callback: (_error, msg) => this.receive(msg) });
    // In-progress acks keep held messages from being redelivered while a commit window or a snapshot holds them.
    this.working = setInterval(() => {
      for (const held of [...this.ready.values(), ...this.inflight.values()]) held.msg.respond('+WPI');
    }, options.workingIntervalMs);
    this.working.unref();
  }

  /**
   * Creates the partition's durable consumer on the server, or keeps the one there: it outlives
   * replicas, so unacked messages of a crashed replica are redelivered to the next holder.
   */
  static async ensureDurable(jsm: JetStreamManager, options: { stream: string; consumer: string; subject: string; ackWaitSeconds: number }): Promise<void> {
    try {
      await jsm.consumers.add(options.stream, {
        durable_name: options.consumer,
        filter_subject: options.subject,
        ack_policy: AckPolicy.Explicit,
        ack_wait: options.ackWaitSeconds * 1_000_000_000,
        max_deliver: -1,
        max_ack_pending: 100_000,
      });
    } catch (error) {
      if (!/already|exists/i.test(errorText(error))) throw error;
    }
  }

  get revoked(): AbortSignal {
    return this.controller.signal;
  }

  /** The lease is gone (another replica has it, or the bus stops): give everything back for redelivery. */
  revoke(): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort();
    clearInterval(this.working);
    for (const held of [...this.ready.values(), ...this.inflight.values()]) held.msg.respond('-NAK');
    this.ready.clear();
    this.inflight.clear();
    this.subscription.unsubscribe();
    this.arrived?.();
  }

  async fetch(options: FetchOptions): Promise<Delivery[]> {
    if (this.controller.signal.aborted) return [];
    const deadline = Date.now() + options.maxWaitMs;
    let out = this.handOut(options.max);
    if (out.length > 0) return out;
    // Ask the server for at most what may go out; wait for it (or the deadline, abort, revoke).
    const wanted = Math.max(1, options.max - this.ready.size);
    const request = options.maxWaitMs < 5 ? { batch: wanted, no_wait: true } : { batch: wanted, expires: options.maxWaitMs * 1_000_000 };
    this.options.nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${this.options.stream}.${this.options.consumer}`, JSON.stringify(request), { reply: this.inbox });
    for (;;) {
      out = this.handOut(options.max);
      if (out.length > 0 || this.controller.signal.aborted || options.signal?.aborted) return out;
      const left = deadline - Date.now();
      if (left <= 0 && options.maxWaitMs >= 5) return out;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(left, options.maxWaitMs < 5 ? 25 : 0));
        const abort = () => done();
        options.signal?.addEventListener('abort', abort, { once: true });
        function done() {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', abort);
          resolve();
        }
        this.arrived = done;
      });
      this.arrived = undefined;
      if (options.maxWaitMs < 5) return this.handOut(options.max);
    }
  }

  private receive(msg: Msg): void {
    const info = deliveryOf(msg.reply);
    if (!info) return; // a status (no messages, request timeout): the wait ends by its own deadline
    if (this.controller.signal.aborted) {
      msg.respond('-NAK');
      return;
    }
    if (this.ready.has(info.streamSeq) || this.inflight.has(info.streamSeq) || this.discarding.has(info.streamSeq)) return; // a duplicate delivery
    this.awaiting.delete(info.streamSeq);
    const admitted = this.options.admit(msg, info.storedAtMs);
    if ('refused' in admitted) {
      void this.discard(msg, info.streamSeq, admitted.refused);
      return;
    }
    this.ready.set(info.streamSeq, { msg, message: admitted.message, streamSeq: info.streamSeq, delivered: info.delivered });
    this.arrived?.();
  }

  /**
   * A message that can never be handled leaves the partition for the dead-letter stream without
   * reaching the worker (so it holds nothing up); if that copy cannot be stored, it comes back later.
   */
  private async discard(msg: Msg, streamSeq: number, refused: Refused): Promise<void> {
    this.discarding.add(streamSeq);
    try {
      await this.options.deadLetter(msg, refused);
      await this.options.nc.request(msg.reply as string, '+TERM', { timeout: 10_000 }).catch(() => msg.respond('+TERM'));
      this.options.onSettled(this.partitionKey, true);
    } catch {
      msg.respond(`-NAK ${JSON.stringify({ delay: DEAD_LETTER_RETRY_MS * 1_000_000 })}`);
    } finally {
      this.discarding.delete(streamSeq);
    }
  }

  /** Ready messages in stream order, up to the lowest one still awaiting redelivery. */
  private handOut(max: number): Delivery[] {
    const barrier = this.awaiting.size > 0 ? Math.min(...this.awaiting) : Infinity;
    const sequences = [...this.ready.keys()]
      .filter((seq) => seq < barrier)
      .sort((a, b) => a - b)
      .slice(0, max);
    return sequences.map((seq) => {
      const held = this.ready.get(seq) as Held;
      this.ready.delete(seq);
      this.inflight.set(seq, held);
      return this.delivery(held);
    });
  }

  private delivery(held: Held): Delivery {
    let settled = false;
    const settle = (removed: boolean) => {
      if (settled) return false;
      settled = true;
      this.inflight.delete(held.streamSeq);
      this.options.onSettled(this.partitionKey, removed);
      return true;
    };
    return {
      message: held.message,
      partitionKey: this.partitionKey,
      attempt: held.delivered,
      sizeBytes: held.msg.data.length,
      ack: async () => {
        if (!settle(true)) return;
        // Confirmed by the server before it counts as done (the durable promise of this bus).
        await this.options.nc.request(held.msg.reply as string, '+ACK', { timeout: 10_000 }).catch(() => held.msg.respond('+ACK'));
      },
      nack: async (delayMs = 0) => {
        if (!settle(false)) return;
        if (!this.controller.signal.aborted) this.awaiting.add(held.streamSeq);
        held.msg.respond(delayMs > 0 ? `-NAK ${JSON.stringify({ delay: Math.round(delayMs * 1_000_000) })}` : '-NAK');
      },
      reject: async (reason) => {
        if (!settle(true)) return;
        await this.options.deadLetter(held.msg, { label: 'rejected', reason });
        await this.options.nc.request(held.msg.reply as string, '+TERM', { timeout: 10_000 }).catch(() => held.msg.respond('+TERM'));
      },
    };
  }
}
