import { describeBusConformance } from '@gitops-reverser/contract/conformance';
import { NatsServer } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe } from 'vitest';
import { NatsBus } from '../src/nats-bus.js';
import { busOptions, credsServer, messageKeyFile, nkeyServer, type SecuredServer, tempDir, tlsServer } from './helpers.js';

// The kernel's suite, unchanged, against a real nats-server: each bus gets its own stream, and every
// message is signed and checked with a message key. Then the same over TLS with client certificates
// (mTLS), with nkey users, and with a .creds file on a server in operator mode.

const keyFile = messageKeyFile(tempDir());
const messageKeys = [{ id: 'k1', file: keyFile }];

function conformance(name: string, setup: () => Promise<Pick<SecuredServer, 'server' | 'busOptions'>>): void {
  describe(name, () => {
    let secured: Pick<SecuredServer, 'server' | 'busOptions'> | undefined;
    beforeAll(async () => {
      secured = await setup();
    });
    afterAll(async () => secured?.server.dispose());
    describeBusConformance(name, {
      createBus: (capacity) => {
        const { server, busOptions: login } = secured as SecuredServer;
        return new NatsBus(busOptions([server.url], { ...login, messageKeys, capacityPerPartition: capacity }));
      },
      settleMs: 3000,
    });
  });
}

conformance('bus-nats', async () => {
  const server = new NatsServer();
  await server.start();
  return { server, busOptions: {} };
});
conformance('bus-nats over TLS with client certificates', () => tlsServer());
conformance('bus-nats with an nkey user', () => nkeyServer());
conformance('bus-nats with a .creds file (operator mode)', () => credsServer());
