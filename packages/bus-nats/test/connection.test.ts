import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import descriptor from '@gitops-reverser/bus-nats';
import { type AdapterContext, type Bus, isGitopsReverserError } from '@gitops-reverser/contract';
import { memoryLogger, noopMetrics } from '@gitops-reverser/contract/conformance';
import { NatsServer } from '@gitops-reverser/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus } from '../src/nats-bus.js';
import type { NatsBusOptions } from '../src/nats-bus-options.js';
import { busOptions, credsServer, messageKeyFile, nkeyServer, tempDir, tlsServer } from './helpers.js';

// How bus-nats reaches and logs in to a real nats-server (TLS with client certificates, nkeys, .creds),
// what it refuses before connecting, and the loud warning when the bus is left open.

const dir = tempDir();
const messageKeys = [{ id: 'k1', file: messageKeyFile(dir) }];
let plain: NatsServer;
let tls: Awaited<ReturnType<typeof tlsServer>>;
let nkey: Awaited<ReturnType<typeof nkeyServer>>;
let creds: Awaited<ReturnType<typeof credsServer>>;
const buses: Bus[] = [];

beforeAll(async () => {
  plain = new NatsServer();
  await plain.start();
  [tls, nkey, creds] = await Promise.all([tlsServer(), nkeyServer(), credsServer()]);
});
afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.stop();
});
afterAll(async () => {
  for (const server of [plain, tls?.server, nkey?.server, creds?.server]) await server?.dispose();
});

async function started(options: NatsBusOptions) {
  const logger = memoryLogger();
  const bus = new NatsBus(options);
  buses.push(bus);
  await bus.start({ logger, metrics: noopMetrics() });
  return { bus, logger, insecure: (bus.health().details?.['insecure'] ?? []) as string[] };
}

async function connectError(options: NatsBusOptions): Promise<string> {
  const bus = new NatsBus(options);
  try {
    await bus.start({ logger: memoryLogger(), metrics: noopMetrics() });
  } catch (error) {
    return isGitopsReverserError(error) ? `${error.code}: ${error.message}` : String(error);
  } finally {
    await bus.stop();
  }
  return 'connected';
}

/** The descriptor's create(), as the kernel calls it: paths relative to the config file's folder. */
function create(options: Record<string, unknown>): Bus {
  const context = { options: { ...busOptions(['nats://127.0.0.1:1']), ...options }, config: { resolvePath: (path: string) => resolve(dir, path) } };
  return descriptor.create(context as unknown as AdapterContext<NatsBusOptions>);
}

function createError(options: Record<string, unknown>): string {
  try {
    create(options);
    return 'created';
  } catch (error) {
    return isGitopsReverserError(error) ? `${error.code} at ${error.details['optionPath']}: ${error.message}` : String(error);
  }
}

describe('bus-nats: logging in', () => {
  it('over TLS with a client certificate: no warning; without a certificate, or trusting another CA, it cannot connect', async () => {
    const { insecure, logger } = await started(busOptions([tls.server.url], { ...tls.busOptions, messageKeys }));
    expect(insecure).toEqual([]);
    expect(logger.lines.filter((line) => line.message.startsWith('INSECURE'))).toEqual([]);

    expect(await connectError(busOptions([tls.server.url], { tls: { caFile: tls.caFile }, messageKeys }))).toMatch(/^GR_ERR_NATS_CONNECT: cannot connect to NATS/);
    const other = await tlsServer(tempDir());
    try {
      expect(await connectError(busOptions([tls.server.url], { tls: { caFile: other.caFile, certFile: tls.client.cert, keyFile: tls.client.key }, messageKeys }))).toMatch(/^GR_ERR_NATS_CONNECT/);
      // Plain TCP to a TLS-only server is refused as well.
      expect(await connectError(busOptions([tls.server.url], { messageKeys }))).toMatch(/^GR_ERR_NATS_CONNECT/);
    } finally {
      await other.server.dispose();
    }
  });

  it('with an nkey seed file; without it the server refuses the client', async () => {
    const { insecure } = await started(busOptions([nkey.server.url], { ...nkey.busOptions, messageKeys }));
    expect(insecure).toEqual([expect.stringContaining('plain TCP')]);
    expect(await connectError(busOptions([nkey.server.url], { messageKeys }))).toMatch(/^GR_ERR_NATS_CONNECT: .*[Aa]uthorization/);
  });

  it('with a .creds file on a server in operator mode; without it the server refuses the client', async () => {
    const { insecure } = await started(busOptions([creds.server.url], { ...creds.busOptions, messageKeys }));
    expect(insecure).toEqual([expect.stringContaining('plain TCP')]);
    expect(await connectError(busOptions([creds.server.url], { messageKeys }))).toMatch(/^GR_ERR_NATS_CONNECT: .*[Aa]uthorization/);
  });

  it('says loudly, once, and in /readyz what leaves the bus open: no credentials, plain TCP, unsigned messages', async () => {
    const { bus, logger, insecure } = await started(busOptions([plain.url], { allowUnsignedMessages: true }));
    expect(insecure).toEqual([expect.stringContaining('no NATS credentials are configured'), expect.stringContaining('plain TCP'), expect.stringContaining('allowUnsignedMessages is true')]);
    const lines = logger.lines.filter((line) => line.level === 'warn' && line.message.startsWith('INSECURE: '));
    expect(lines).toHaveLength(3);
    expect(bus.health().state).toBe('ready');
  });

  it('names a server that ignores the credentials it is given', async () => {
    const { insecure } = await started(busOptions([plain.url], { token: 'a-token-nobody-checks', messageKeys }));
    expect(insecure).toEqual([expect.stringContaining('does not require credentials'), expect.stringContaining('plain TCP')]);
  });
});

describe('bus-nats: options refused before connecting (so `validate` names them)', () => {
  it('two ways to log in, a password without a user, half a client certificate, a file that cannot be read', () => {
    writeFileSync(join(dir, 'seed.nk'), 'SUAAAA\n');
    expect(createError({ messageKeys, token: 't', nkeySeedFile: 'seed.nk' })).toMatch(
      /^GR_ERR_NATS_AUTH_CONFIG at nkeySeedFile: more than one way to log in to NATS is configured: token, nkeySeedFile/,
    );
    expect(createError({ messageKeys, password: 'p' })).toMatch(/^GR_ERR_NATS_AUTH_CONFIG at password: password is set without user/);
    expect(createError({ messageKeys, tls: { certFile: 'c.pem' } })).toMatch(/^GR_ERR_NATS_AUTH_CONFIG at tls.keyFile/);
    expect(createError({ messageKeys, credsFile: 'missing.creds' })).toMatch(/^GR_ERR_NATS_AUTH_CONFIG at credsFile: cannot read credsFile .*missing.creds/);
    expect(createError({ messageKeys, tls: { caFile: 'missing-ca.pem' } })).toMatch(/^GR_ERR_NATS_AUTH_CONFIG at tls.caFile/);
  });

  it('no message key, a key too short, an unreadable key file, an id twice; never the key in the message', () => {
    expect(createError({})).toMatch(/^GR_ERR_NATS_MESSAGE_KEY at messageKeys: no message key is configured/);
    expect(createError({ allowUnsignedMessages: true })).toBe('created');
    const short = 'a-key-of-thirty-one-characters!';
    expect(createError({ messageKeys: [{ id: 'k1', value: short }] })).toMatch(/^GR_ERR_NATS_MESSAGE_KEY at messageKeys\[0\]: message key "k1" has 31 bytes; at least 32 are needed/);
    expect(createError({ messageKeys: [{ id: 'k1', value: short }] })).not.toContain(short);
    expect(createError({ messageKeys: [{ id: 'k1', file: 'nope' }] })).toMatch(/^GR_ERR_NATS_MESSAGE_KEY at messageKeys\[0\].file: cannot read message key "k1"/);
    expect(createError({ messageKeys: [messageKeys[0], { id: 'k1', value: 'x'.repeat(40) }] })).toMatch(/^GR_ERR_NATS_MESSAGE_KEY at messageKeys\[1\]: message key id "k1" is used twice/);
    expect(createError({ messageKeys: [{ id: 'k1' }] })).toMatch(/^GR_ERR_NATS_MESSAGE_KEY at messageKeys\[0\]: message key "k1" needs exactly one of file and value/);
    // A key file relative to the config file's folder.
    writeFileSync(join(dir, 'relative-key'), `${'r'.repeat(40)}\n`);
    expect(createError({ messageKeys: [{ id: 'k1', file: 'relative-key' }] })).toBe('created');
  });
});
