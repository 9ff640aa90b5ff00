import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SourceContext } from '@gitops-reverser/contract';
import { memoryLogger, noopMetrics } from '@gitops-reverser/contract/conformance';
import { ConfigValidationError, parseConfig, Runtime, silentLogger } from '@gitops-reverser/kernel';
import { createPki, freePort, issueCertificate } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditSource } from '../src/audit-source.js';

// Audit auth fails closed: no empty, blank or short token is ever accepted (at load, and when a
// token file changes while running), and a client certificate is bound to its cluster by name.

const dir = mkdtempSync(join(tmpdir(), 'gr-audit-auth-'));
const pki = createPki(join(dir, 'pki'));
const serving = issueCertificate(pki, 'audit', { commonName: 'audit', sans: ['IP:127.0.0.1'] });
const certA = issueCertificate(pki, 'apiserver-a', { commonName: 'apiserver-a', clientAuth: true });
const certB = issueCertificate(pki, 'apiserver-b', { commonName: 'apiserver-b', clientAuth: true });
const tokenFile = join(dir, 'token');
const TOKEN_A = 'first-token-0123456789abcdef';
const TOKEN_B = 'second-token-0123456789abcdef';

function context(clusterId: string, logger = memoryLogger()): SourceContext {
  return {
    clusterId,
    selection: { rules: [], targets: [] },
    logger,
    metrics: noopMetrics(),
    emit: async () => {},
    attribute: async () => {},
    beginSnapshot: () => {
      throw new Error('not used');
    },
  };
}

function post(port: number, cluster: string, options: { authorization?: string; cert?: { cert: string; key: string } } = {}): Promise<number> {
  const body = JSON.stringify({ apiVersion: 'audit.k8s.io/v1', kind: 'EventList', items: [] });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: `/audit-webhook/${cluster}`,
        method: 'POST',
        agent: new Agent({ ca: readFileSync(pki.caCert), ...(options.cert ? { cert: readFileSync(options.cert.cert), key: readFileSync(options.cert.key) } : {}) }),
        headers: { 'content-type': 'application/json', ...(options.authorization !== undefined ? { authorization: options.authorization } : {}) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The problems `validate` reports for one audit source's `auth:` (the rest of the config is valid). */
async function problemsOf(auth: string): Promise<{ keyPath: string; code: string; message: string; fix?: string }[]> {
  const yaml = `apiVersion: gitops-reverser/v1alpha2
sources:
  - { use: "@gitops-reverser/source-audit", cluster: dev, with: { mode: changes, tls: { certFile: "${serving.cert}", keyFile: "${serving.key}", clientCAFile: "${pki.caCert}" }, auth: ${auth} } }
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: local, url: ./repo } ] } }
targets: [ { name: live, with: { provider: local, branch: main, path: live } } ]
rules: [ { target: live, resources: [configmaps] } ]
`;
  const error = await Runtime.create(parseConfig(yaml, join(dir, 'config.yaml')), { logger: silentLogger() }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigValidationError);
  return (error as ConfigValidationError).problems.map((p) => ({ keyPath: p.keyPath, code: p.code, message: p.message, ...(p.fix ? { fix: p.fix } : {}) }));
}

describe('validate refuses audit credentials that would accept anyone', () => {
  it.each([
    ['an empty token file', ''],
    ['a token file of whitespace', '   \n\t \n'],
    ['a short token file', 'short-token\n'],
  ])('%s', async (_what, content) => {
    writeFileSync(tokenFile, content);
    const problems = await problemsOf(`{ tokenFile: "${tokenFile}" }`);
    expect(problems).toEqual([expect.objectContaining({ keyPath: 'sources[0].with.auth.tokenFile', code: 'GR_ERR_WEBHOOK_AUTH_CONFIG', message: expect.stringContaining('is not usable') })]);
  });

  it('an inline token of blanks', async () => {
    const problems = await problemsOf(`{ token: "                    " }`);
    expect(problems).toEqual([
      expect.objectContaining({
        keyPath: 'sources[0].with.auth.token',
        code: 'GR_ERR_WEBHOOK_AUTH_CONFIG',
        message: 'auth.token is not usable: it is empty (source adapter "@gitops-reverser/source-audit")',
      }),
    ]);
  });

  it('client certificates without the names that bind them to this cluster', async () => {
    const problems = await problemsOf('{ clientCertificate: {} }');
    expect(problems).toEqual([expect.objectContaining({ keyPath: 'sources[0].with.auth.clientCertificate.commonNames' })]);
  });
});

describe('at run time', () => {
  let port: number;
  const logger = memoryLogger();
  const sources: AuditSource[] = [];
  beforeAll(async () => {
    writeFileSync(tokenFile, `${TOKEN_A}\n`);
    port = await freePort();
    const base = {
      listen: { host: '127.0.0.1', port },
      tls: { certFile: serving.cert, keyFile: serving.key, clientCAFile: pki.caCert },
      mode: 'changes' as const,
      maxBodyBytes: 64 * 1024,
      dedupeEntries: 1000,
      actors: { users: {} },
    };
    // Cluster a: a token file and certificates named apiserver-a; cluster b: certificates named apiserver-b. One listener, one CA.
    sources.push(new AuditSource({ ...base, auth: { tokenFile, clientCertificate: { commonNames: ['apiserver-a'] } } }));
    sources.push(new AuditSource({ ...base, auth: { clientCertificate: { commonNames: ['apiserver-b'] } } }));
    await sources[0]?.start(context('a', logger));
    await sources[1]?.start(context('b'));
  });
  afterAll(async () => {
    for (const source of sources) await source.stop();
  });

  it('a token file that becomes empty accepts no Authorization header at all; a rotated token takes effect without a restart', async () => {
    expect(await post(port, 'a', { authorization: `Bearer ${TOKEN_A}` })).toBe(200);
    writeFileSync(tokenFile, '');
    for (const authorization of ['Bearer ', 'Bearer', 'Bearer x', '', 'Basic Og==', `Bearer ${TOKEN_A}`]) {
      expect([401, 403], `Authorization: "${authorization}"`).toContain(await post(port, 'a', { authorization }));
    }
    expect(logger.lines.some((l) => l.level === 'error' && l.message.includes('GR_ERR_WEBHOOK_AUTH_CONFIG') && l.message.includes('is not usable: it is empty'))).toBe(true);
    writeFileSync(tokenFile, `${TOKEN_B}\n`);
    expect(await post(port, 'a', { authorization: `Bearer ${TOKEN_B}` })).toBe(200);
    expect(await post(port, 'a', { authorization: `Bearer ${TOKEN_A}` })).toBe(403);
  });

  it("a cluster's client certificate is accepted on its own path only, not on another cluster's of the same listener and CA", async () => {
    expect(await post(port, 'b', { cert: certB })).toBe(200);
    expect(await post(port, 'a', { cert: certA })).toBe(200);
    expect(await post(port, 'a', { cert: certB })).toBe(403);
    expect(await post(port, 'b', { cert: certA })).toBe(403);
  });
});
