import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { BusMessage, Delivery, FetchOptions, PartitionLease } from '@gitops-reverser/contract';

/** Where a JetStream message sits: its stream sequence and how often it was delivered (from its ack subject). */
export function deliveryOf(reply: string | undefined): { streamSeq: number; delivered: number } | undefined {
  if (!reply?.startsWith('$JS.ACK.')) return undefined;
  const tokens = reply.split('.');
  // v1: $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
  // v2: $JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>.<token>
  const offset = tokens.length === 9 ? 4 : tokens.length >= 11 ? 6 : -1;
  if (offset < 0) return undefined;
  return { delivered: Number(tokens[offset]), streamSeq: Number(tokens[offset + 1]) };
}

export interface NatsLeaseOptions {
  readonly nc: NatsConnection;
  readonly stream: string;
  readonly consumer: string;
  readonly partitionKey: string;
  /** Refreshes unacked messages before the consumer's ack wait lets the server redeliver them. */
  readonly workingIntervalMs: number;
  readonly decode: (msg: Msg) => BusMessage;
  /** Dead-letters a rejected message (before it is terminated). */
  readonly deadLetter: (msg: Msg, reason: string) => Promise<void>;
  readonly onSettled: (partitionKey: string, removed: boolean) => void;
}

interface Held {
  readonly msg: Msg;
  readonly streamSeq: number;
  readonly delivered: number;
}

/**
 * One partition's pull consumer, held by this replica while it holds the partition's KV lease.
 * Pulls exactly what the worker asks for (so undelivered messages stay counted by the server), and
 * keeps partition order itself: nothing with a higher stream sequence is handed out while a lower one
 * waits for its nack delay, whatever order the server redelivers in.
 */
export class NatsLease implements PartitionLease {
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
  private arrived: (() => void) | undefined;
  private readonly working: NodeJS.Timeout;

  constructor(private readonly options: NatsLeaseOptions) {
    this.partitionKey = options.partitionKey;
    this.inbox = `_INBOX.gr.${options.consumer}.${Math.random().toString(36).slice(2)}`;
    this.subscription = options.nc.subscribe(this.inbox, { callback: (_error, msg) => this.receive(msg) });
    // In-progress acks keep held messages from being redelivered while a commit window or a snapshot holds them.
    this.working = setInterval(() => {
      for (const held of [...this.ready.values(), ...this.inflight.values()]) held.msg.respond('+WPI');
    }, options.workingIntervalMs);
    this.working.unref();
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
    if (this.ready.has(info.streamSeq) || this.inflight.has(info.streamSeq)) return; // a duplicate delivery
    this.awaiting.delete(info.streamSeq);
    this.ready.set(info.streamSeq, { msg, ...info });
    this.arrived?.();
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
      message: this.options.decode(held.msg),
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
        await this.options.deadLetter(held.msg, reason);
        await this.options.nc.request(held.msg.reply as string, '+TERM', { timeout: 10_000 }).catch(() => held.msg.respond('+TERM'));
      },
    };
  }
}
