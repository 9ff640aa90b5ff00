import { describe, expect, it } from 'vitest';
import type { Bus, Delivery, PartitionLease } from '../bus.js';
import type { ChangeMessage } from '../bus-message.js';
import { memoryLogger, noopMetrics } from './test-doubles.js';

export interface BusConformanceOptions {
  /** A new, not yet started bus; `capacity` is the per-partition bound it must honour. */
  createBus(capacity: number): Promise<Bus> | Bus;
  /** Time allowed for a message to travel (a networked bus needs more). Default 2000 ms. */
  settleMs?: number;
}

/** A change message whose resourceVersion carries a sequence number, to check order. */
export function numberedMessage(n: number, target = 'conformance'): ChangeMessage {
  return {
    kind: 'change',
    target,
    event: {
      identity: { clusterId: 'c', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'ns', name: `cm-${n}` },
      operation: 'upsert',
      created: false,
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${n}`, namespace: 'ns' }, data: { n: String(n) } },
      resourceVersion: String(n),
      observedAt: new Date(0).toISOString(),
      phase: 'live',
      observedBy: 'watch',
    },
  };
}

function numberOf(delivery: Delivery): number {
  const message = delivery.message;
  if (message.kind !== 'change') throw new Error('expected a change message');
  return Number(message.event.resourceVersion);
}

/**
 * The behaviour every Bus adapter must have. Call it inside a test file of the adapter:
 * `describeBusConformance('bus-memory', { createBus: (capacity) => new MemoryBus({ capacityPerPartition: capacity }) })`.
 */
export function describeBusConformance(name: string, options: BusConformanceOptions): void {
  const settle = options.settleMs ?? 2000;
  const context = () => ({ logger: memoryLogger(), metrics: noopMetrics() });

  async function startedBus(capacity = 100): Promise<{ bus: Bus; leases: Map<string, PartitionLease> }> {
    const bus = await options.createBus(capacity);
    await bus.start(context());
    const leases = new Map<string, PartitionLease>();
    bus.consume((lease) => leases.set(lease.partitionKey, lease));
    return { bus, leases };
  }

  async function leaseOf(leases: Map<string, PartitionLease>, key: string): Promise<PartitionLease> {
    const deadline = Date.now() + settle;
    while (!leases.has(key)) {
      if (Date.now() > deadline) throw new Error(`no lease for partition ${key}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return leases.get(key) as PartitionLease;
  }

  async function fetchAll(lease: PartitionLease, count: number): Promise<Delivery[]> {
    const out: Delivery[] = [];
    const deadline = Date.now() + settle * 5;
    while (out.length < count && Date.now() < deadline) out.push(...(await lease.fetch({ max: count - out.length, maxWaitMs: settle })));
    return out;
  }

  describe(`Bus conformance: ${name}`, () => {
    it('delivers each partition in publish order and keeps partitions apart', async () => {
      const { bus, leases } = await startedBus();
      for (let n = 0; n < 20; n++) await bus.publish(n % 2 ? 'repo-a#main' : 'repo-b#main', numberedMessage(n));
      const a = await fetchAll(await leaseOf(leases, 'repo-a#main'), 10);
      const b = await fetchAll(await leaseOf(leases, 'repo-b#main'), 10);
      expect(a.map(numberOf)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
      expect(b.map(numberOf)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
      expect(a.every((d) => d.partitionKey === 'repo-a#main' && d.attempt === 1 && d.sizeBytes > 0)).toBe(true);
      for (const d of [...a, ...b]) await d.ack();
      expect(await bus.drain(settle)).toBe(true);
      await bus.stop();
    });

    it('redelivers a nacked message before anything published after it, with attempt + 1', async () => {
      const { bus, leases } = await startedBus();
      for (let n = 0; n < 5; n++) await bus.publish('p#main', numberedMessage(n));
      const lease = await leaseOf(leases, 'p#main');
      const first = await fetchAll(lease, 5);
      expect(first.map(numberOf)).toEqual([0, 1, 2, 3, 4]);
      await first[0]?.ack();
      await first[1]?.ack();
      // nack in reverse order on purpose: the bus, not the caller, keeps the order
      for (const d of first.slice(2).reverse()) await d.nack(0);
      await bus.publish('p#main', numberedMessage(5));
      const again = await fetchAll(lease, 4);
      expect(again.map(numberOf)).toEqual([2, 3, 4, 5]);
      expect(again.map((d) => d.attempt)).toEqual([2, 2, 2, 1]);
      for (const d of again) await d.ack();
      expect(await bus.drain(settle)).toBe(true);
      await bus.stop();
    });

    it('holds a nacked message for its delay and blocks the partition behind it', async () => {
      const { bus, leases } = await startedBus();
      await bus.publish('p#main', numberedMessage(0));
      await bus.publish('p#main', numberedMessage(1));
      const lease = await leaseOf(leases, 'p#main');
      const [zero, one] = await fetchAll(lease, 2);
      await zero?.nack(300);
      await one?.nack(300);
      const early = await lease.fetch({ max: 10, maxWaitMs: 50 });
      expect(early).toEqual([]);
      const later = await fetchAll(lease, 2);
      expect(later.map(numberOf)).toEqual([0, 1]);
      for (const d of later) await d.ack();
      await bus.stop();
    });

    it('makes publish wait while a partition is full, and never drops', async () => {
      const capacity = 3;
      const { bus, leases } = await startedBus(capacity);
      for (let n = 0; n < capacity; n++) await bus.publish('full#main', numberedMessage(n));
      let fourthDone = false;
      const fourth = bus.publish('full#main', numberedMessage(capacity)).then(() => {
        fourthDone = true;
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(fourthDone).toBe(false);
      const lease = await leaseOf(leases, 'full#main');
      const got = await fetchAll(lease, 1);
      await fourth;
      expect(fourthDone).toBe(true);
      const rest = await fetchAll(lease, capacity);
      expect([...got, ...rest].map(numberOf)).toEqual([0, 1, 2, 3]);
      for (const d of [...got, ...rest]) await d.ack();
      expect(await bus.drain(settle)).toBe(true);
      await bus.stop();
    });

    it('reports depth per partition until messages are acked, and drain waits for acks', async () => {
      const { bus, leases } = await startedBus();
      await bus.publish('d#main', numberedMessage(0));
      await bus.publish('d#main', numberedMessage(1));
      expect(bus.depth().get('d#main')).toBe(2);
      const lease = await leaseOf(leases, 'd#main');
      const got = await fetchAll(lease, 2);
      expect(bus.depth().get('d#main')).toBe(2);
      expect(await bus.drain(100)).toBe(false);
      await got[0]?.ack();
      await got[1]?.reject('conformance: poison message');
      expect(bus.depth().get('d#main')).toBe(0);
      expect(await bus.drain(settle)).toBe(true);
      await bus.stop();
    });

    it('settles a delivery once: a second ack or nack changes nothing', async () => {
      const { bus, leases } = await startedBus();
      await bus.publish('o#main', numberedMessage(0));
      const lease = await leaseOf(leases, 'o#main');
      const [delivery] = await fetchAll(lease, 1);
      await delivery?.ack();
      await delivery?.nack(0);
      expect(await lease.fetch({ max: 1, maxWaitMs: 100 })).toEqual([]);
      expect(bus.depth().get('o#main') ?? 0).toBe(0);
      await bus.stop();
    });

    it('revokes leases and refuses publishing after stop', async () => {
      const { bus, leases } = await startedBus();
      await bus.publish('s#main', numberedMessage(0));
      const lease = await leaseOf(leases, 's#main');
      await bus.stop();
      expect(lease.revoked.aborted).toBe(true);
      await expect(bus.publish('s#main', numberedMessage(1))).rejects.toMatchObject({ code: 'GR_ERR_BUS_CLOSED' });
      expect(bus.health().state).toBe('stopped');
    });
  });
}
