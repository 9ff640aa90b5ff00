import { describe, expect, it } from 'vitest';
import type { BusMessage } from '../contracts/bus-message.js';
import type { Sink, SinkOutcome } from '../contracts/sink.js';
import { numberedMessage } from './bus-conformance.js';

export interface SinkConformanceOptions {
  /** A started sink, the partition key it writes and a target configured on it. */
  setup(): Promise<{ sink: Sink; partitionKey: string; target: string; teardown?: () => Promise<void> }>;
}

const STATUSES = ['applied', 'unchanged', 'retry', 'rejected'];

function withTarget(message: BusMessage, target: string): BusMessage {
  return { ...message, target };
}

/**
 * The behaviour every Sink adapter must have: one outcome per item, never a throw, idempotent
 * redelivery, snapshots handled. Call it inside a test file of the adapter.
 */
export function describeSinkConformance(name: string, options: SinkConformanceOptions): void {
  describe(`Sink conformance: ${name}`, () => {
    it('reports exactly one known outcome per item, in order', async () => {
      const { sink, partitionKey, target, teardown } = await options.setup();
      const items = [1, 2, 3].map((n) => ({ message: withTarget(numberedMessage(n), target), attempt: 1 }));
      const outcomes = await sink.apply({ partitionKey, items });
      expect(outcomes).toHaveLength(3);
      expect(outcomes.every((o: SinkOutcome) => STATUSES.includes(o.status))).toBe(true);
      expect(outcomes.every((o) => o.status === 'applied')).toBe(true);
      await teardown?.();
    });

    it('is idempotent: a redelivered batch is not an error', async () => {
      const { sink, partitionKey, target, teardown } = await options.setup();
      const items = [4, 5].map((n) => ({ message: withTarget(numberedMessage(n), target), attempt: 1 }));
      await sink.apply({ partitionKey, items });
      const again = await sink.apply({ partitionKey, items: items.map((i) => ({ ...i, attempt: 2 })) });
      expect(again.every((o) => o.status === 'applied' || o.status === 'unchanged')).toBe(true);
      await teardown?.();
    });

    it('does not throw for a message it cannot place; it reports an outcome', async () => {
      const { sink, partitionKey, teardown } = await options.setup();
      const outcomes = await sink.apply({ partitionKey, items: [{ message: withTarget(numberedMessage(6), 'no-such-target'), attempt: 1 }] });
      expect(outcomes).toHaveLength(1);
      expect(STATUSES).toContain(outcomes[0]?.status);
      await teardown?.();
    });

    it('accepts a snapshot: seed events and their marker', async () => {
      const { sink, partitionKey, target, teardown } = await options.setup();
      const seed = (n: number): BusMessage => {
        const message = numberedMessage(n, target);
        return message.kind === 'change' ? { ...message, event: { ...message.event, origin: 'seed', snapshotId: 'conformance' } } : message;
      };
      const marker: BusMessage = { kind: 'snapshot', target, snapshotId: 'conformance', objectCount: 2, clusterId: 'c', completedAt: new Date(0).toISOString() };
      const outcomes = await sink.apply({ partitionKey, items: [seed(7), seed(8), marker].map((message) => ({ message, attempt: 1 })) });
      expect(outcomes.map((o) => o.status)).toEqual(['applied', 'applied', 'applied']);
      expect(['ready', 'degraded']).toContain(sink.health().state);
      await teardown?.();
    });
  });
}
