import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPki, freePort, issueCertificate } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeAuth } from '../src/webhook-auth.js';
import { WebhookListener } from '../src/webhook-listener.js';

// Two kinds of webhook (here: prefixes "audit-webhook" and "admission") of two clusters share one
// address; each route answers only its own callers.

const dir = mkdtempSync(join(tmpdir(), 'gr-webhook-'));
const pki = createPki(join(dir, 'pki'));
const serving = issueCertificate(pki, 'webhook', { commonName: 'webhook', sans: ['IP:127.0.0.1'] });
const tls = { certFile: serving.cert, keyFile: serving.key, clientCAFile: pki.caCert };
const limits = { maxBodyBytes: 1024, maxConnections: 50, requestTimeoutMs: 5000 };
const tokens = { a: 'cluster-a-token-0123456789', b: 'cluster-b-token-0123456789' };
let port: number;
const listeners: WebhookListener[] = [];
const routes = [
  { prefix: 'audit-webhook', cluster: 'a' },
  { prefix: 'admission', cluster: 'a' },
  { prefix: 'admission', cluster: 'b' },
];

beforeAll(async () => {
  port = await freePort();
  for (const route of routes) {
    const listener = WebhookListener.acquire('127.0.0.1', port, tls, limits);
    listeners.push(listener);
    listener.register({
      ...route,
      auth: routeAuth({ token: tokens[route.cluster as 'a' | 'b'] }, undefined, `/${route.prefix}/${route.cluster}`),
      handle: async (body) => ({ status: 200, body: { route: `${route.prefix}/${route.cluster}`, echo: body } }),
    });
  }
  await listeners[0]?.listen();
});
afterAll(async () => {
  for (const [i, listener] of listeners.entries()) await listener.release(routes[i] as (typeof routes)[number]);
});

function post(path: string, body: string, token?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: new Agent({ ca: readFileSync(pki.caCert) }), headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('WebhookListener', () => {
  it('routes each /<prefix>/<cluster> to its handler on one address, with the parsed JSON body', async () => {
    expect(listeners.every((l) => l === listeners[0])).toBe(true);
    expect(await post('/audit-webhook/a', '{"x":1}', tokens.a)).toEqual({ status: 200, text: '{"route":"audit-webhook/a","echo":{"x":1}}' });
    expect(await post('/admission/b', '[2]', tokens.b)).toEqual({ status: 200, text: '{"route":"admission/b","echo":[2]}' });
  });

  it('answers 404, 401, 403, 413 and 400 before any handler runs', async () => {
    expect((await post('/metrics/a', '{}', tokens.a)).status).toBe(404);
    expect((await post('/admission/a', '{}')).status).toBe(401);
    expect((await post('/admission/a', '{}', tokens.b)).status).toBe(403);
    expect((await post('/admission/c', '{}', tokens.a)).status).toBe(403);
    expect((await post('/audit-webhook/b', '{}', tokens.b)).status).toBe(403);
    expect((await post('/admission/a', 'x'.repeat(2048), tokens.a)).status).toBe(413);
    expect((await post('/admission/a', '{not json', tokens.a)).status).toBe(400);
  });

  it('refuses a second source on the address with other TLS files', () => {
    expect(() => WebhookListener.acquire('127.0.0.1', port, { ...tls, certFile: '/elsewhere.crt' }, limits)).toThrow(/GR_ERR_WEBHOOK_LISTEN|different TLS settings/);
  });
});
