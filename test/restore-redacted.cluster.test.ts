import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, loadConfigFile, Runtime } from '@gitops-reverser/kernel';
import { ControlPlaneAccess, createTestNamespace, until } from '@gitops-reverser/testkit';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../packages/kernel/src/cli/run-cli.js';

// restore of a file the credential gate redacted, against the real API server and a repository the
// real pipeline wrote: git never held the credential, so restore must neither write the marker into
// the cluster nor print the live credential.

const access = new ControlPlaneAccess(inject('testCluster'));
const dir = mkdtempSync(join(tmpdir(), 'gr-restore-redacted-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function api(method: string, path: string, body?: unknown): Promise<Record<string, unknown> | undefined> {
  const response = await access.request(method, path, { ...(body === undefined ? {} : { body }), ...(method === 'PATCH' ? { headers: { 'content-type': 'application/merge-patch+json' } } : {}) });
  if (response.status === 404 && method === 'GET') return undefined;
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.body.slice(0, 300)}`);
  return JSON.parse(response.body || '{}') as Record<string, unknown>;
}

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('gitops-reverser restore of a redacted file', () => {
  it('leaves the redacted value live and out of the output; restores the rest; a re-created object lacks only that field', async () => {
    const ns = await createTestNamespace(access, 'redacted');
    const password = randomBytes(12).toString('base64url');
    const url = `postgres://app:${password}@db:5432/app`;
    writeFileSync(join(dir, 'kubeconfig'), access.kubeconfigText('admin'));
    writeFileSync(join(dir, 'redaction.key'), randomBytes(32).toString('hex'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `apiVersion: gitops-reverser/v1alpha2
shutdown: { timeoutSeconds: 10 }
credentials: { mode: redact, redactionKeyFile: ./redaction.key }
sources: [ { use: "@gitops-reverser/source-informer", cluster: e2e, with: { kubeconfig: ./kubeconfig } } ]
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: local, url: ./state.git } ] } }
targets: [ { name: live, with: { provider: local, branch: main, path: clusters/e2e } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [${ns}], resources: [configmaps] } ]
`,
    );
    const file = `clusters/e2e/${ns}/configmaps/app.yaml`;
    const show = () => {
      try {
        return execFileSync('git', ['-C', join(dir, 'state.git'), 'show', `main:${file}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch {
        return undefined;
      }
    };
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app' }, data: { color: 'blue', 'db.url': url } });
    const runtime = await Runtime.create(loadConfigFile(config), { logger: createLogger('warn') });
    await runtime.start();
    try {
      const stored = await until(() => show(), `${file} committed`, 60_000);
      expect(stored).toContain('REDACTED:sha256-hmac:');
      expect(stored).not.toContain(password);
    } finally {
      await runtime.stop('test step');
    }
    const at = new Date(Date.now() + 1000).toISOString();
    await new Promise((r) => setTimeout(r, 2000));

    // Out of band: the color changes; the live credential stays.
    await api('PATCH', `/api/v1/namespaces/${ns}/configmaps/app`, { data: { color: 'red' } });
    const dryRun = await cli('restore', `ConfigMap/${ns}/app`, '--at', at, '--config', config, '--kubeconfig', join(dir, 'kubeconfig'));
    expect(dryRun.stderr).toBe('');
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).not.toContain(password);
    expect(dryRun.stdout).toContain('~ data.color: "red" -> "blue"');
    expect(dryRun.stdout).not.toContain('db.url:');
    expect(dryRun.stdout).toContain('kept as live (redacted in git, never restored): data.db.url');

    const applied = await cli('restore', `ConfigMap/${ns}/app`, '--at', at, '--config', config, '--kubeconfig', join(dir, 'kubeconfig'), '--apply', '--output', 'json');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).not.toContain(password);
    const result = JSON.parse(applied.stdout) as { objects: { action: string; result: string; redacted?: string[] }[] };
    expect(result.objects).toEqual([expect.objectContaining({ action: 'update', result: 'written', redacted: ['data.db.url'] })]);
    expect(((await api('GET', `/api/v1/namespaces/${ns}/configmaps/app`)) as { data: Record<string, string> }).data).toEqual({ color: 'blue', 'db.url': url });

    // Deleted, then restored: everything git held comes back, the credential it never held does not.
    await api('DELETE', `/api/v1/namespaces/${ns}/configmaps/app`);
    const recreated = await cli('restore', `ConfigMap/${ns}/app`, '--at', at, '--config', config, '--kubeconfig', join(dir, 'kubeconfig'), '--apply');
    expect(recreated.code).toBe(0);
    expect(recreated.stdout).toContain('kept as live (redacted in git, never restored): data.db.url');
    expect(((await api('GET', `/api/v1/namespaces/${ns}/configmaps/app`)) as { data: Record<string, string> }).data).toEqual({ color: 'blue' });
  });
});
