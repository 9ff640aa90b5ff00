import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import type { SourceContext } from '@gitops-reverser/contract';
import { memoryLogger, noopMetrics } from '@gitops-reverser/contract/conformance';
import { createPki, freePort, issueCertificate, until } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditSource } from '../src/audit-source.js';

// A flood of connections that send nothing (or too slowly) cannot hold the receiver: at most
// listen.maxConnections are open at once, idle ones are closed after listen.requestTimeoutSeconds,
// and the API server's next batch gets through.

const dir = mkdtempSync(join(tmpdir(), 'gr-audit-limits-'));
const pki = createPki(join(dir, 'pki'));
const serving = issueCertificate(pki, 'audit', { commonName: 'audit', sans: ['IP:127.0.0.1'] });
const TOKEN = 'limits-test-token-0123456789';
let port: number;
let source: AuditSource;

const context: SourceContext = {
  clusterId: 'dev',
  selection: { rules: [], targets: [] },
  logger: memoryLogger(),
  metrics: noopMetrics(),
  emit: async () => {},
  attribute: async () => {},
  beginSnapshot: () => {
    throw new Error('not used');
  },
};

beforeAll(async () => {
  port = await freePort();
  source = new AuditSource({
    listen: { host: '127.0.0.1', port, maxConnections: 10, requestTimeoutSeconds: 1 },
    tls: { certFile: serving.cert, keyFile: serving.key },
    auth: { token: TOKEN },
    mode: 'changes',
    maxBodyBytes: 64 * 1024,
    dedupeEntries: 1000,
    actors: { users: {} },
  });
  await source.start(context);
});
afterAll(async () => {
  await source.stop();
});

function post(): Promise<number> {
  const body = JSON.stringify({ apiVersion: 'audit.k8s.io/v1', kind: 'EventList', items: [] });
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/audit-webhook/dev', method: 'POST', agent: new Agent({ ca: readFileSync(pki.caCert) }), headers: { authorization: `Bearer ${TOKEN}` } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('the audit receiver under a connection flood', () => {
  it('keeps at most maxConnections open, closes idle ones after requestTimeoutSeconds, then serves the next batch', async () => {
    const open = new Set<TLSSocket>();
    const sockets = Array.from({ length: 30 }, () => {
      const socket = connect({ host: '127.0.0.1', port, ca: readFileSync(pki.caCert), servername: '127.0.0.1' });
      socket.on('error', () => undefined);
      socket.on('secureConnect', () => open.add(socket));
      socket.on('close', () => open.delete(socket));
      return socket;
    });
    // Connections beyond the cap are closed at once; the others stay until their timeout.
    await until(() => sockets.filter((s) => s.closed).length >= 20 || undefined, 'the connections over the cap to be closed', 5000);
    expect(open.size).toBeLessThanOrEqual(10);
    await until(() => sockets.every((s) => s.closed) || undefined, 'the idle connections to time out', 10_000);
    expect(await post()).toBe(200);
  });
});
