// A bus: carries messages from ingest to the writer, one ordered queue per partition key, at least
// once. This one keeps them in memory; replace the queues with your broker's streams. The contract:
// docs/writing-adapters.md, "Buses" (order per partition, redeliveries before newer messages,
// publish waits while a partition is full and never drops, leases revoked on stop).
import {
  ContractErrorCodes,
  defineAdapter,
  grError,
  packageVersionOf,
  type AdapterHealth,
  type Bus,
  type BusMessage,
  type Delivery,
  type FetchOptions,
  type PartitionLease,
} from '@gitops-reverser/contract';

/** The options (`bus.with`), as the schema below leaves them. */
export interface QueueBusOptions {
  /** Messages waiting per partition before `publish` waits. */
  readonly capacityPerPartition: number;
}

interface Entry {
  readonly seq: number;
  readonly message: BusMessage;
  readonly sizeBytes: number;
  attempt: number;
  /** Not handed out before this time (ms since epoch): a nack's delay. */
  notBefore: number;
}

interface Partition {
  readonly key: string;
  /** Waiting messages in publish order (a nacked one goes back to its place). */
  readonly waiting: Entry[];
  /** Handed out, not yet settled. */
  readonly inflight: Set<number>;
  readonly revoke: AbortController;
}

const POLL_MS = 5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class QueueBus implements Bus {
  private readonly partitions = new Map<string, Partition>();
  private onPartition: ((lease: PartitionLease) => void) | undefined;
  private seq = 0;
  private state: AdapterHealth = { state: 'starting' };

  constructor(private readonly options: QueueBusOptions) {}

  async start(): Promise<void> {
    this.state = { state: 'ready' };
  }

  async publish(partitionKey: string, message: BusMessage, options: { signal?: AbortSignal } = {}): Promise<void> {
    const partition = this.partition(partitionKey);
    // Backpressure: wait for room, never drop.
    while (partition.waiting.length >= this.options.capacityPerPartition) {
      this.assertOpen();
      if (options.signal?.aborted) throw options.signal.reason;
      await sleep(POLL_MS);
    }
    this.assertOpen();
    partition.waiting.push({ seq: this.seq++, message, sizeBytes: Buffer.byteLength(JSON.stringify(message)), attempt: 1, notBefore: 0 });
  }

  consume(onPartition: (lease: PartitionLease) => void): void {
    this.onPartition = onPartition;
    for (const partition of this.partitions.values()) onPartition(this.lease(partition));
  }

  depth(): ReadonlyMap<string, number> {
    return new Map([...this.partitions.values()].map((p) => [p.key, p.waiting.length + p.inflight.size]));
  }

  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while ([...this.depth().values()].some((depth) => depth > 0)) {
      if (Date.now() >= deadline) return false;
      await sleep(POLL_MS);
    }
    return true;
  }

  async stop(): Promise<void> {
    this.state = { state: 'stopped' };
    for (const partition of this.partitions.values()) partition.revoke.abort();
  }

  health(): AdapterHealth {
    return this.state;
  }

  private assertOpen(): void {
    if (this.state.state === 'stopped') throw grError(ContractErrorCodes.BUS_CLOSED, 'the bus is stopped', { fix: 'publish only between start() and stop()' });
  }

  private partition(key: string): Partition {
    let partition = this.partitions.get(key);
    if (!partition) {
      partition = { key, waiting: [], inflight: new Set(), revoke: new AbortController() };
      this.partitions.set(key, partition);
      this.onPartition?.(this.lease(partition));
    }
    return partition;
  }

  private lease(partition: Partition): PartitionLease {
    return { partitionKey: partition.key, revoked: partition.revoke.signal, fetch: (options) => this.fetch(partition, options) };
  }

  /** Up to `max` messages from the head, in order; stops at one that must still wait. */
  private async fetch(partition: Partition, options: FetchOptions): Promise<Delivery[]> {
    const deadline = Date.now() + options.maxWaitMs;
    for (;;) {
      if (this.state.state === 'stopped' || options.signal?.aborted) return [];
      const ready: Entry[] = [];
      while (ready.length < options.max && partition.waiting[0] && partition.waiting[0].notBefore <= Date.now()) ready.push(partition.waiting.shift() as Entry);
      if (ready.length > 0) return ready.map((entry) => this.delivery(partition, entry));
      if (Date.now() >= deadline) return [];
      await sleep(POLL_MS);
    }
  }

  private delivery(partition: Partition, entry: Entry): Delivery {
    partition.inflight.add(entry.seq);
    // Settles once: a second ack, nack or reject changes nothing.
    const settle = () => partition.inflight.delete(entry.seq);
    return {
      message: entry.message,
      partitionKey: partition.key,
      attempt: entry.attempt,
      sizeBytes: entry.sizeBytes,
      ack: async () => {
        settle();
      },
      reject: async () => {
        // A durable bus moves it to a dead-letter stream with its reason.
        settle();
      },
      nack: async (delayMs = 0) => {
        if (!settle()) return;
        entry.attempt++;
        entry.notBefore = Date.now() + delayMs;
        const at = partition.waiting.findIndex((waiting) => waiting.seq > entry.seq);
        partition.waiting.splice(at === -1 ? partition.waiting.length : at, 0, entry);
      },
    };
  }
}

export default defineAdapter<'bus', QueueBusOptions>({
  meta: { name: '__PACKAGE_NAME__', version: packageVersionOf(import.meta.url), slot: 'bus', kernel: '__KERNEL_RANGE__' },
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { capacityPerPartition: { type: 'integer', minimum: 1, default: 10_000, 'x-fix': 'a whole number of messages, at least 1' } },
  },
  // create() runs for `validate` too: connect to your broker in start(), not here.
  create: ({ options }) => new QueueBus(options),
});
