import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsBusOptions } from '@gitops-reverser/bus-nats';
import { jetstreamManager, type StoredMsg } from '@nats-io/jetstream';
import { type ConnectionOptions, connect, credsAuthenticator, type NatsConnection, nkeyAuthenticator } from '@nats-io/transport-node';
import { createNatsNkeyUser, createPki, issueCertificate, NatsOperator, NatsServer } from '@gitops-reverser/testkit';

export function tempDir(prefix = 'gr-nats-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A message key file as an operator makes one (`openssl rand -base64 48`). */
export function messageKeyFile(dir: string, name = 'message-key'): string {
  const file = join(dir, name);
  writeFileSync(file, `${randomBytes(48).toString('base64')}\n`, { mode: 0o600 });
  return file;
}

let streams = 0;
/** Options of a bus on its own stream and subjects, defaults as the schema fills them (short lease and discovery for tests). */
export function busOptions(servers: readonly string[], overrides: Partial<NatsBusOptions> = {}): NatsBusOptions {
  const n = ++streams;
  return {
    servers,
    stream: `TEST_${process.pid}_${n}`,
    subjectPrefix: `test-${process.pid}-${n}`,
    replicas: 1,
    capacityPerPartition: 10_000,
    maxBytes: 0,
    maxMessages: 0,
    duplicateWindowSeconds: 120,
    ackWaitSeconds: 30,
    leaseSeconds: 5,
    discoveryMs: 100,
    messageKeys: [],
    allowUnsignedMessages: false,
    ...overrides,
  };
}

/** What a client needs to log in to one of the secured servers below (as bus options, and as raw connect options). */
export interface SecuredServer {
  readonly server: NatsServer;
  readonly busOptions: Partial<NatsBusOptions>;
  readonly connectOptions: () => Partial<ConnectionOptions>;
}

/** nats-server serving TLS only and verifying client certificates (mTLS), with a PKI of its own. */
export async function tlsServer(dir = tempDir()): Promise<SecuredServer & { readonly caFile: string; readonly client: { cert: string; key: string } }> {
  const pki = createPki(join(dir, 'pki'));
  const serving = issueCertificate(pki, 'nats', { commonName: 'nats', sans: ['IP:127.0.0.1', 'DNS:localhost'] });
  const client = issueCertificate(pki, 'replica', { commonName: 'gitops-reverser', clientAuth: true });
  const server = new NatsServer({ tls: { certFile: serving.cert, keyFile: serving.key, caFile: pki.caCert, verify: true } });
  await server.start();
  const tls = { caFile: pki.caCert, certFile: client.cert, keyFile: client.key };
  return { server, caFile: pki.caCert, client, busOptions: { tls }, connectOptions: () => ({ tls }) };
}

/** nats-server that lets in only one nkey user. */
export async function nkeyServer(dir = tempDir()): Promise<SecuredServer & { readonly seedFile: string }> {
  const user = createNatsNkeyUser(dir, 'replica');
  const server = new NatsServer({ nkeyUsers: [user.publicKey] });
  await server.start();
  return {
    server,
    seedFile: user.seedFile,
    busOptions: { nkeySeedFile: user.seedFile },
    connectOptions: () => ({ authenticator: nkeyAuthenticator(new TextEncoder().encode(readFileSync(user.seedFile, 'utf8').trim())) }),
  };
}

/** nats-server in operator mode: users of one account log in with a `.creds` file. */
export async function credsServer(dir = tempDir()): Promise<SecuredServer & { readonly credsFile: string }> {
  const operator = new NatsOperator();
  const user = operator.user(dir, 'replica');
  const server = new NatsServer({ operator });
  await server.start();
  return {
    server,
    credsFile: user.credsFile,
    busOptions: { credsFile: user.credsFile },
    connectOptions: () => ({ authenticator: credsAuthenticator(readFileSync(user.credsFile)) }),
  };
}

/** A plain NATS client (what an attacker with the server's credentials has). */
export async function rawClient(server: NatsServer, options: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
  return connect({ servers: [server.url], ...options });
}

/** Every message of a stream (read by sequence, without consuming). */
export async function streamMessages(nc: NatsConnection, stream: string): Promise<StoredMsg[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream);
  const out: StoredMsg[] = [];
  for (let seq = info.state.first_seq; seq > 0 && seq <= info.state.last_seq; seq++) {
    const message = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (message) out.push(message);
  }
  return out;
}
