import {
  ContractErrorCodes,
  grError,
  type AdapterHealth,
  type Bus,
  type BusContext,
  type BusMessage,
  type Delivery,
  type FetchOptions,
  type Logger,
  type PartitionLease,
} from '@gitops-reverser/contract';
import { jsonByteLength } from './json-size.js';

export interface MemoryBusOptions {
  /**
   * Messages waiting per partition before `publish` waits. Counts messages not yet handed to the
   * writer; messages the writer holds (e.g. a snapshot waiting for its marker) do not count, so a
   * snapshot larger than the capacity cannot deadlock the bus.
   */
  readonly capacityPerPartition: number;
}

interface Entry {
  readonly seq: number;
  readonly message: BusMessage;
  readonly sizeBytes: number;
  attempt: number;
  /** Not redelivered before this time (ms since epoch). */
  notBefore: number;
}

/** Resolves waiters registered with `wait()`; one notifier per condition. */
class Signal {
  private waiters: (() => void)[] = [];

  wait(timeoutMs: number, abort?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        abort?.removeEventListener('abort', done);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      abort?.addEventListener('abort', done, { once: true });
      this.waiters.push(done);
    });
  }

  notifyAll(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

class Partition {
  /** Waiting messages, ordered by seq (nacked messages are put back in their place). */
  readonly queue: Entry[] = [];
  readonly inflight = new Map<number, Entry>();
  readonly messageArrived = new Signal();
  readonly spaceFreed = new Signal();
  readonly revoke = new AbortController();

  constructor(readonly key: string) {}

  get depth(): number {
    return this.queue.length + this.inflight.size;
  }

  putBack(entry: Entry): void {
    // Binary search for the entry's place: redeliveries go before anything published after them.
    let low = 0;
    let high = this.queue.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.queue[mid] as Entry).seq < entry.seq) low = mid + 1;
      else high = mid;
    }
    this.queue.splice(low, 0, entry);
  }
}

/**
 * The embedded bus: one process, one ordered queue per partition key, bounded, at-least-once
 * within the process (nothing survives a restart; the sources' seed on start restores state).
 */
export class MemoryBus implements Bus {
  private readonly partitions = new Map<string, Partition>();
  private readonly drained = new Signal();
  private onPartition: ((lease: PartitionLease) => void) | undefined;
  private nextSeq = 0;
  private closed = false;
  private logger: Logger | undefined;
  private redeliveries = 0;
  private rejected = 0;

  constructor(private readonly options: MemoryBusOptions = { capacityPerPartition: 10_000 }) {}

  async start(context: BusContext): Promise<void> {
    this.logger = context.logger;
    this.closed = false;
  }

  async publish(partitionKey: string, message: BusMessage, options: { signal?: AbortSignal } = {}): Promise<void> {
    const partition = this.partition(partitionKey);
    while (partition.queue.length >= this.options.capacityPerPartition) {
      this.assertOpen();
      if (options.signal?.aborted) throw options.signal.reason;
      await partition.spaceFreed.wait(1_000, options.signal);
    }
    this.assertOpen();
    // The size a durable bus would carry, measured without writing the text; what JSON cannot carry throws here.
    const sizeBytes = jsonByteLength(message);
    partition.queue.push({ seq: this.nextSeq++, message, sizeBytes, attempt: 1, notBefore: 0 });
    partition.messageArrived.notifyAll();
  }

  consume(onPartition: (lease: PartitionLease) => void): void {
    this.onPartition = onPartition;
    for (const partition of this.partitions.values()) onPartition(this.lease(partition));
  }

  depth(): ReadonlyMap<string, number> {
    return new Map([...this.partitions.values()].map((p) => [p.key, p.depth]));
  }

  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.totalDepth() > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await this.drained.wait(Math.min(left, 250));
    }
    return true;
  }

  async stop(): Promise<void> {
    this.closed = true;
    for (const partition of this.partitions.values()) {
      partition.revoke.abort();
      partition.messageArrived.notifyAll();
      partition.spaceFreed.notifyAll();
    }
    const lost = this.totalDepth();
    if (lost > 0) this.logger?.warn({ undelivered: lost }, `memory bus stopped with ${lost} message(s) not written; they are re-created by the next start's seed`);
  }

  health(): AdapterHealth {
    if (this.closed) return { state: 'stopped' };
    return { state: 'ready', details: { partitions: this.partitions.size, depth: this.totalDepth(), redeliveries: this.redeliveries, rejected: this.rejected } };
  }

  private totalDepth(): number {
    let total = 0;
    for (const partition of this.partitions.values()) total += partition.depth;
    return total;
  }

  private assertOpen(): void {
    if (this.closed) {
      throw grError(ContractErrorCodes.BUS_CLOSED, 'the memory bus is stopped; no more messages are accepted', {
        fix: 'publish only between start() and stop(); stop sources before the bus',
      });
    }
  }

  private partition(key: string): Partition {
    let partition = this.partitions.get(key);
    if (!partition) {
      partition = new Partition(key);
      this.partitions.set(key, partition);
      this.onPartition?.(this.lease(partition));
    }
    return partition;
  }

  private lease(partition: Partition): PartitionLease {
    return {
      partitionKey: partition.key,
      revoked: partition.revoke.signal,
      fetch: (options) => this.fetch(partition, options),
    };
  }

  private async fetch(partition: Partition, options: FetchOptions): Promise<Delivery[]> {
    const deadline = Date.now() + options.maxWaitMs;
    for (;;) {
      if (this.closed || options.signal?.aborted) return [];
      const now = Date.now();
      const head = partition.queue[0];
      if (head && head.notBefore <= now) return this.take(partition, options.max, now);
      const left = deadline - now;
      if (left <= 0) return [];
      const untilHead = head ? head.notBefore - now : left;
      await partition.messageArrived.wait(Math.min(left, untilHead), options.signal);
    }
  }

  /** Takes ready messages from the head, stopping at the first one that must wait (order is kept). */
  private take(partition: Partition, max: number, now: number): Delivery[] {
    const deliveries: Delivery[] = [];
    while (deliveries.length < max) {
      const entry = partition.queue[0];
      if (!entry || entry.notBefore > now) break;
      partition.queue.shift();
      partition.inflight.set(entry.seq, entry);
      deliveries.push(this.delivery(partition, entry));
    }
    partition.spaceFreed.notifyAll();
    return deliveries;
  }

  private delivery(partition: Partition, entry: Entry): Delivery {
    return new MemoryDelivery(partition, entry, this.settlement);
  }

  /** What a delivery reports back; one object per bus, not closures per delivery (a seed holds 100,000). */
  private readonly settlement: Settlement = {
    settled: () => {
      if (this.totalDepth() === 0) this.drained.notifyAll();
    },
    rejected: (partition, entry, reason) => {
      this.rejected++;
      this.logger?.error({ partition: partition.key, reason, attempt: entry.attempt }, `memory bus dropped a message the writer rejected: ${reason}`);
      this.settlement.settled();
    },
    redelivered: () => {
      this.redeliveries++;
    },
  };
}

interface Settlement {
  /** A delivery was acked or rejected: the bus may have drained. */
  settled(): void;
  rejected(partition: Partition, entry: Entry, reason: string): void;
  redelivered(): void;
}

/** One handed-out message; settles once (ack, reject or nack), later calls are ignored. */
class MemoryDelivery implements Delivery {
  readonly message: BusMessage;
  readonly partitionKey: string;
  readonly attempt: number;
  readonly sizeBytes: number;
  private done = false;

  constructor(
    private readonly partition: Partition,
    private readonly entry: Entry,
    private readonly settlement: Settlement,
  ) {
    this.message = entry.message;
    this.partitionKey = partition.key;
    this.attempt = entry.attempt;
    this.sizeBytes = entry.sizeBytes;
  }

  async ack(): Promise<void> {
    if (this.settle()) this.settlement.settled();
  }

  async reject(reason: string): Promise<void> {
    if (this.settle()) this.settlement.rejected(this.partition, this.entry, reason);
  }

  async nack(delayMs = 0): Promise<void> {
    if (!this.settle()) return;
    this.settlement.redelivered();
    this.entry.attempt++;
    this.entry.notBefore = Date.now() + delayMs;
    this.partition.putBack(this.entry);
    this.partition.messageArrived.notifyAll();
  }

  private settle(): boolean {
    if (this.done || !this.partition.inflight.has(this.entry.seq)) return false;
    this.done = true;
    this.partition.inflight.delete(this.entry.seq);
    return true;
  }
}
