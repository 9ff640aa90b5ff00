import { describeBusConformance, numberedMessage } from '@gitops-reverser/contract/conformance';
import { describe, expect, it } from 'vitest';
import { QueueBus } from '../src/index.js';

// 1. The slot's conformance suite, shipped with the contract: what every bus must do.
describeBusConformance('__PACKAGE_NAME__', { createBus: (capacity) => new QueueBus({ capacityPerPartition: capacity }) });

// 2. Tests of its own behaviour.
describe('QueueBus', () => {
  it('hands a partition to a consumer that registered before its first message', async () => {
    const bus = new QueueBus({ capacityPerPartition: 10 });
    await bus.start();
    const keys: string[] = [];
    bus.consume((lease) => keys.push(lease.partitionKey));
    await bus.publish('repo#main', numberedMessage(1));
    expect(keys).toEqual(['repo#main']);
    await bus.stop();
  });
});
