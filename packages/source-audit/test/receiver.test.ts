import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import type { AttributionFact, ChangeEvent, SourceContext } from '@gitops-reverser/contract';
import { memoryLogger, noopMetrics } from '@gitops-reverser/contract/conformance';
import { createPki, freePort, issueCertificate } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditSource } from '../src/audit-source.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const dir = mkdtempSync(join(tmpdir(), 'gr-audit-'));
const pki = createPki(join(dir, 'pki'));
const serving = issueCertificate(pki, 'audit', { commonName: 'audit', sans: ['IP:127.0.0.1'] });
const client = issueCertificate(pki, 'kube-apiserver-client', { commonName: 'kube-apiserver', clientAuth: true });
const stranger = issueCertificate(pki, 'stranger', { commonName: 'someone-else', clientAuth: true });
const TOKEN = 'a-long-random-audit-token';

const facts: AttributionFact[] = [];
const changes: ChangeEvent[] = [];
function context(clusterId: string): SourceContext {
  return {
    clusterId,
    selection: { rules: [], targets: [] },
    logger: memoryLogger(),
    metrics: noopMetrics(),
    emit: async (event) => {
      changes.push(event);
    },
    attribute: async (fact) => {
      facts.push(fact);
    },
    beginSnapshot: () => {
      throw new Error('not used');
    },
  };
}

let port: number;
const sources: AuditSource[] = [];
beforeAll(async () => {
  port = await freePort();
  const tls = { certFile: serving.cert, keyFile: serving.key, clientCAFile: pki.caCert };
  const base = { listen: { host: '127.0.0.1', port }, tls, maxBodyBytes: 64 * 1024, dedupeEntries: 1000, actors: { users: {} } };
  // Two clusters on one listener, each with its own credentials and mode.
  sources.push(new AuditSource({ ...base, auth: { token: TOKEN }, mode: 'attribute' }));
  sources.push(new AuditSource({ ...base, auth: { clientCertificate: { commonNames: ['kube-apiserver'] } }, mode: 'changes' }));
  await sources[0]?.start(context('main'));
  await sources[1]?.start(context('edge'));
});
afterAll(async () => {
  for (const source of sources) await source.stop();
});

const agent = new Agent({ keepAlive: true, maxSockets: 20, ca: readFileSync(pki.caCert) });
function post(path: string, body: string | Buffer, options: { token?: string; cert?: { cert: string; key: string } } = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: options.cert ? new Agent({ ca: readFileSync(pki.caCert), cert: readFileSync(options.cert.cert), key: readFileSync(options.cert.key) }) : agent,
        headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const write = (auditID: string, name: string) => ({
  auditID,
  stage: 'ResponseComplete',
  verb: 'create',
  user: { username: 'jane' },
  objectRef: { resource: 'configmaps', namespace: 'shop', name, apiVersion: 'v1' },
  responseStatus: { code: 201 },
  responseObject: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'shop', resourceVersion: '5' } },
});
const list = (...items: unknown[]) => JSON.stringify({ apiVersion: 'audit.k8s.io/v1', kind: 'EventList', items });

describe('the audit webhook receiver', () => {
  it('accepts an EventList with the cluster token and hands the writes over before answering', async () => {
    const response = await post('/audit-webhook/main', list(write('ok-1', 'a')), { token: TOKEN });
    expect(response.status).toBe(200);
    expect(facts.map((f) => [f.identity.clusterId, f.identity.name, f.actor.username])).toEqual([['main', 'a', 'jane']]);
  });

  it('accepts a client certificate for the cluster that names its common name; changes mode emits changes', async () => {
    expect((await post('/audit-webhook/edge', list(write('cert-1', 'b')), { cert: client })).status).toBe(200);
    expect(changes.map((c) => [c.identity.clusterId, c.identity.name, c.observedBy])).toEqual([['edge', 'b', 'audit']]);
    expect((await post('/audit-webhook/edge', list(write('cert-2', 'c')), { cert: stranger })).status).toBe(403);
  });

  it.each([
    ['no credentials', '/audit-webhook/main', {}, 401],
    ['a wrong token', '/audit-webhook/main', { token: 'not-the-token-at-all' }, 403],
    ['the token of another cluster', '/audit-webhook/edge', { token: TOKEN }, 403],
    ['an unknown cluster', '/audit-webhook/nowhere', { token: TOKEN }, 403],
    ['another path', '/audit', { token: TOKEN }, 404],
  ])('refuses %s with %s and ingests nothing', async (_case, path, auth, status) => {
    const before = facts.length + changes.length;
    expect((await post(path, list(write(`refused-${status}-${path}`, 'x')), auth)).status).toBe(status);
    expect(facts.length + changes.length).toBe(before);
  });

  it('refuses an oversized body (413), malformed JSON and the wrong kind (400) with a reason, and keeps serving', async () => {
    const before = facts.length;
    expect((await post('/audit-webhook/main', Buffer.alloc(100 * 1024, 'x'), { token: TOKEN })).status).toBe(413);
    const bad = await post('/audit-webhook/main', '{"items": [', { token: TOKEN });
    expect(bad).toMatchObject({ status: 400, text: expect.stringContaining('not JSON') });
    expect(await post('/audit-webhook/main', JSON.stringify({ kind: 'PodList', items: [] }), { token: TOKEN })).toMatchObject({
      status: 400,
      text: expect.stringContaining('audit.k8s.io/v1 EventList'),
    });
    expect((await post('/audit-webhook/main', list(write('after-bad', 'd')), { token: TOKEN })).status).toBe(200);
    expect(facts.length).toBe(before + 1);
  });

  it('counts a batch delivered twice once (deduplicated by audit ID and stage)', async () => {
    const before = facts.length;
    const batch = list(write('dup-1', 'e'), write('dup-2', 'f'));
    await post('/audit-webhook/main', batch, { token: TOKEN });
    await post('/audit-webhook/main', batch, { token: TOKEN });
    expect(facts.length - before).toBe(2);
  });

  it('survives 10,000 fuzzed payloads (random JSON, truncated, huge strings, wrong types) with bounded memory', async () => {
    const valid = JSON.stringify({ apiVersion: 'audit.k8s.io/v1', kind: 'EventList', items: [write('fuzz-template', 'g')] });
    const random = (depth = 0): unknown => {
      const pick = Math.floor(Math.random() * (depth > 3 ? 4 : 7));
      if (pick === 0) return Math.random() * 1e9;
      if (pick === 1) return randomBytes(Math.floor(Math.random() * 40)).toString('base64');
      if (pick === 2) return Math.random() < 0.5;
      if (pick === 3) return null;
      if (pick === 4) return Array.from({ length: Math.floor(Math.random() * 4) }, () => random(depth + 1));
      const keys = ['auditID', 'stage', 'verb', 'user', 'objectRef', 'responseStatus', 'responseObject', 'items', 'kind', 'apiVersion', 'metadata', 'name'];
      return Object.fromEntries(Array.from({ length: Math.floor(Math.random() * 6) }, () => [keys[Math.floor(Math.random() * keys.length)], random(depth + 1)]));
    };
    const payload = (n: number): string => {
      switch (n % 5) {
        case 0:
          return JSON.stringify(random());
        case 1:
          return valid.slice(0, Math.floor(Math.random() * valid.length)); // truncated
        case 2:
          return list({ ...write(`f-${n}`, 'h'), objectRef: random(), user: random(), responseObject: random() });
        case 3:
          return list({ ...write(`s-${n}`, 'x'.repeat(20_000)), verb: random() }); // huge string, wrong types
        default:
          return list(...Array.from({ length: 3 }, () => random()));
      }
    };
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const statuses = new Map<number, number>();
    for (let n = 0; n < 10_000; n += 50) {
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => post('/audit-webhook/main', payload(n + i), { token: TOKEN })));
      for (const { status } of answers) statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    expect([...statuses.keys()].every((status) => [200, 400, 413].includes(status))).toBe(true);
    expect((statuses.get(200) ?? 0) + (statuses.get(400) ?? 0) + (statuses.get(413) ?? 0)).toBe(10_000);
    // Still serving, and memory stays bounded (dedupe sets are capped; bodies are not kept).
    expect((await post('/audit-webhook/main', list(write('after-fuzz', 'i')), { token: TOKEN })).status).toBe(200);
    global.gc?.();
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(150 * 1024 * 1024);
  });
});
