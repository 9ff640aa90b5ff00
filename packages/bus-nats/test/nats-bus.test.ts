import { describeBusConformance } from '@gitops-reverser/contract/conformance';
import { NatsServer } from '@gitops-reverser/testkit';
import { afterAll, beforeAll } from 'vitest';
import { NatsBus } from '../src/nats-bus.js';

let server: NatsServer;
beforeAll(async () => {
  server = new NatsServer();
  await server.start();
});
afterAll(async () => server.dispose());

let n = 0;
// The kernel's suite, unchanged, against a real nats-server: each bus gets its own stream.
describeBusConformance('bus-nats', {
  createBus: (capacity) =>
    new NatsBus({
      servers: [server.url],
      stream: `CONFORMANCE_${++n}`,
      subjectPrefix: `conformance-${n}`,
      replicas: 1,
      capacityPerPartition: capacity,
      maxBytes: 0,
      maxMessages: 0,
      duplicateWindowSeconds: 120,
      ackWaitSeconds: 30,
      leaseSeconds: 5,
      discoveryMs: 100,
    }),
  settleMs: 3000,
});
