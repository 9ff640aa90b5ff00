import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChangeEvent, SourceContext } from '@gitops-reverser/contract';
import { memoryLogger, noopMetrics } from '@gitops-reverser/contract/conformance';
import { createPki, freePort, issueCertificate } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditSource } from '../src/audit-source.js';

// The API server's batching webhook posts batches concurrently, so the next batch can arrive while
// the bus still holds the receiver up on the previous one. Handled at once, the two interleaved: the
// deletes of a deletecollection passed the "older than what was seen" check before the creates they
// followed, and those creates were dropped (an audit-only cluster then missed their commits).

const dir = mkdtempSync(join(tmpdir(), 'gr-audit-order-'));
const pki = createPki(join(dir, 'pki'));
const serving = issueCertificate(pki, 'audit', { commonName: 'audit', sans: ['IP:127.0.0.1'] });
const TOKEN = 'a-long-random-audit-token-for-order';

const emitted: ChangeEvent[] = [];
/** The first emit waits for this: the bus is slow to take the first batch's first change. */
let releaseFirst: () => void = () => undefined;
const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
let firstStarted: () => void = () => undefined;
const firstEmitting = new Promise<void>((resolve) => (firstStarted = resolve));

let port: number;
let source: AuditSource;
beforeAll(async () => {
  port = await freePort();
  source = new AuditSource({
    listen: { host: '127.0.0.1', port },
    tls: { certFile: serving.cert, keyFile: serving.key },
    auth: { token: TOKEN },
    mode: 'changes',
    maxBodyBytes: 64 * 1024,
    dedupeEntries: 1000,
    actors: { users: {} },
  });
  const context: SourceContext = {
    clusterId: 'edge',
    selection: { rules: [], targets: [] },
    logger: memoryLogger(),
    metrics: noopMetrics(),
    emit: async (event) => {
      emitted.push(event);
      if (emitted.length === 1) {
        firstStarted();
        await firstHeld;
      }
    },
    attribute: async () => undefined,
    beginSnapshot: () => {
      throw new Error('not used');
    },
  };
  await source.start(context);
});
afterAll(async () => {
  await source.stop();
});

const agent = new Agent({ keepAlive: true, maxSockets: 4, ca: readFileSync(pki.caCert) });
function post(body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/audit-webhook/edge', method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const objectOf = (name: string, rv: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'team', resourceVersion: rv, uid: `uid-${name}` }, data: { name } });
const create = (name: string, rv: string) => ({
  auditID: `create-${name}`,
  stage: 'ResponseComplete',
  verb: 'create',
  user: { username: 'admin' },
  objectRef: { resource: 'configmaps', namespace: 'team', name, apiVersion: 'v1' },
  responseStatus: { code: 201 },
  responseObject: objectOf(name, rv),
});
const deleteCollection = (items: { name: string; rv: string }[]) => ({
  auditID: 'deletecollection-1',
  stage: 'ResponseComplete',
  verb: 'deletecollection',
  user: { username: 'bob' },
  objectRef: { resource: 'configmaps', namespace: 'team', apiVersion: 'v1' },
  responseStatus: { code: 200 },
  responseObject: { apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: '20' }, items: items.map(({ name, rv }) => objectOf(name, rv)) },
});
const list = (...items: unknown[]) => JSON.stringify({ apiVersion: 'audit.k8s.io/v1', kind: 'EventList', items });

describe('the audit webhook receiver, batches posted concurrently', () => {
  it('hands over a batch that arrives while the previous one waits only after it: the creates, then the deletes that followed them', async () => {
    const creates = post(list(create('batch-1', '10'), create('batch-2', '11')));
    await firstEmitting;
    const deletes = post(
      list(
        deleteCollection([
          { name: 'batch-1', rv: '12' },
          { name: 'batch-2', rv: '13' },
        ]),
      ),
    );
    // The deletes' batch is in; released either way (it waits for the creates' batch when handled in order).
    await Promise.race([deletes, new Promise((r) => setTimeout(r, 300))]);
    releaseFirst();
    expect(await creates).toBe(200);
    expect(await deletes).toBe(200);
    expect(emitted.map((event) => `${event.operation} ${event.identity.name}`)).toEqual(['upsert batch-1', 'upsert batch-2', 'delete batch-1', 'delete batch-2']);
  });
});
