import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createWebhookCertificate } from '../src/webhook/webhook-certificate.js';

const names = ['gr-gitops-reverser', 'gr-gitops-reverser.ops.svc', 'gr-gitops-reverser.ops.svc.cluster.local'];

describe('createWebhookCertificate', () => {
  it('a CA and a serving certificate it signed, for exactly the names given; the CA cannot serve, the serving one cannot sign', () => {
    const pair = createWebhookCertificate({ commonName: names[1] as string, dnsNames: names, validityDays: 30, now: new Date('2030-01-01T00:00:00Z') });
    const ca = new X509Certificate(pair.caCert);
    const cert = new X509Certificate(pair.cert);
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.subjectAltName).toBe(names.map((name) => `DNS:${name}`).join(', '));
    expect(cert.checkHost('gr-gitops-reverser.ops.svc')).toBe('gr-gitops-reverser.ops.svc');
    expect(cert.checkHost('other.ops.svc')).toBeUndefined();
    expect(new Date(cert.validFrom).toISOString()).toBe('2029-12-31T23:00:00.000Z');
    expect(new Date(cert.validTo).toISOString()).toBe('2030-01-31T00:00:00.000Z');
    expect(pair.notAfter.toISOString()).toBe('2030-01-31T00:00:00.000Z');
    expect(pair.key).toContain('-----BEGIN PRIVATE KEY-----');
    expect(pair).not.toHaveProperty('caKey');
  });

  it('OpenSSL accepts the chain for a TLS server (strict DER parsing, key usages)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gr-webhook-cert-'));
    // After 2049 the dates are GeneralizedTime: that path is checked too.
    const pair = createWebhookCertificate({ commonName: 'webhook', dnsNames: names, validityDays: 365 * 40 });
    writeFileSync(join(dir, 'ca.crt'), pair.caCert);
    writeFileSync(join(dir, 'tls.crt'), pair.cert);
    const verified = execFileSync(
      'openssl',
      ['verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', 'gr-gitops-reverser.ops.svc', '-CAfile', join(dir, 'ca.crt'), join(dir, 'tls.crt')],
      {
        encoding: 'utf8',
      },
    );
    expect(verified.trim()).toBe(`${join(dir, 'tls.crt')}: OK`);
    expect(new X509Certificate(pair.cert).validTo).toMatch(/20[67]\d GMT$/);
  });

  it('serves TLS that a client trusting only the CA accepts for the certificate names', async () => {
    const pair = createWebhookCertificate({ commonName: 'webhook', dnsNames: ['localhost'], validityDays: 1 });
    const server = createServer({ cert: pair.cert, key: pair.key }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const get = (servername: string) =>
        new Promise<string>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, servername, ca: pair.caCert, path: '/', headers: { host: servername } }, (res) => {
            let body = '';
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () => resolve(body));
          });
          req.on('error', reject);
          req.end();
        });
      expect(await get('localhost')).toBe('ok');
      await expect(get('elsewhere.example')).rejects.toThrow(/altnames|Hostname/);
    } finally {
      server.close();
    }
  });
});
