import { describeBusConformance, numberedMessage } from '@gitops-reverser/contract/conformance';
import type { PartitionLease } from '@gitops-reverser/contract';
import { KernelMetrics, silentLogger } from '@gitops-reverser/kernel';
import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../src/memory-bus.js';

describeBusConformance('bus-memory', { createBus: (capacity) => new MemoryBus({ capacityPerPartition: capacity }) });

describe('MemoryBus', () => {
  it('does not count messages held by the writer against capacity, so a large snapshot cannot deadlock', async () => {
    const bus = new MemoryBus({ capacityPerPartition: 2 });
    await bus.start({ logger: silentLogger(), metrics: new KernelMetrics() });
    let lease: PartitionLease | undefined;
    bus.consume((l) => (lease = l));
    const held = [];
    for (let n = 0; n < 10; n++) {
      await bus.publish('p#main', numberedMessage(n));
      held.push(...(await (lease as PartitionLease).fetch({ max: 10, maxWaitMs: 0 })));
    }
    expect(held).toHaveLength(10);
    expect(bus.depth().get('p#main')).toBe(10);
    for (const d of held) await d.ack();
    expect(await bus.drain(100)).toBe(true);
    await bus.stop();
  });

  it('announces partitions that existed before consume() was called', async () => {
    const bus = new MemoryBus({ capacityPerPartition: 10 });
    await bus.start({ logger: silentLogger(), metrics: new KernelMetrics() });
    await bus.publish('early#main', numberedMessage(0));
    const keys: string[] = [];
    bus.consume((l) => keys.push(l.partitionKey));
    await bus.publish('late#main', numberedMessage(1));
    expect(keys).toEqual(['early#main', 'late#main']);
    await bus.stop();
  });
});
