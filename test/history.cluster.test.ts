import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger, loadConfigFile, Runtime } from '@gitops-reverser/kernel';
import { ControlPlane, ControlPlaneAccess, createPki, freePort, GitHttpServer, issueCertificate, until } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../packages/kernel/src/cli/run-cli.js';

// `history` of an object three people edited, recorded by the real pipeline (informer, the API server's
// audit webhook naming each author, sink-git pushing to a real git server), after a person moved the
// object's file with the git CLI. An API server of its own: its audit webhook points at this test's source.

const dir = mkdtempSync(join(tmpdir(), 'gr-history-e2e-'));
const pki = createPki(join(dir, 'pki'));
const serving = issueCertificate(pki, 'audit-listener', { commonName: 'audit-listener', sans: ['IP:127.0.0.1'] });
const TOKEN = 'history-audit-token';
let plane: ControlPlane;
let server: GitHttpServer;
let port: number;
const gitAsync = async (cwd: string, ...args: string[]) => (await promisify(execFile)('git', args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } })).stdout;

beforeAll(async () => {
  port = await freePort();
  server = new GitHttpServer();
  await server.start();
  server.createRepo('history');
  plane = await ControlPlane.start({ pki, dataDir: join(dir, 'plane'), audit: { url: `https://127.0.0.1:${port}/audit-webhook/hist`, caFile: pki.caCert, token: TOKEN, batchMaxWaitMs: 200 } });
  writeFileSync(join(dir, 'kubeconfig'), new ControlPlaneAccess(plane.info).kubeconfigText('admin'));
}, 600_000);

afterAll(async () => {
  await plane?.stop();
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, path: string, user: 'admin' | 'alice' | 'bob', body: unknown) {
  const response = await new ControlPlaneAccess(plane.info).request(method, path, {
    user,
    body,
    ...(method === 'PATCH' ? { headers: { 'content-type': 'application/merge-patch+json' } } : {}),
  });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.body.slice(0, 200)}`);
}

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

function configFile(name: string, cacheDir: string): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `apiVersion: gitops-reverser/v1alpha2
shutdown: { timeoutSeconds: 10 }
sources:
  - { use: "@gitops-reverser/source-informer", cluster: hist, with: { kubeconfig: ./kubeconfig } }
  - { use: "@gitops-reverser/source-audit", cluster: hist, with: { listen: { port: ${port} }, tls: { certFile: "${serving.cert}", keyFile: "${serving.key}" }, auth: { token: ${TOKEN} } } }
attribution: { waitMs: 5000 }
sink: { use: "@gitops-reverser/sink-git", with: { cacheDir: ${cacheDir}, providers: [ { name: origin, url: "${server.url('history')}" } ] } }
targets: [ { name: live, with: { provider: origin, branch: main, path: clusters/hist } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [shop], resources: [configmaps] } ]
`,
  );
  return file;
}

interface Entry {
  author: { name: string };
  operation: string;
  attribution: { by: string; id?: string };
  path: string;
  previousPath?: string;
  fields: { path: string; before?: unknown; after?: unknown }[];
}

describe('gitops-reverser history against a real API server, audit webhook and git server', () => {
  it('shows the three people who edited an object, with how each was known, also after a person moved its file', async () => {
    const config = configFile('config.yaml', './daemon-cache');
    const daemon = await Runtime.create(loadConfigFile(config), { logger: createLogger('warn') });
    await daemon.start();
    const remote = server.repoPath('history');
    const subjects = () => {
      try {
        return execFileSync('git', ['-C', remote, 'log', '--format=%s', 'main'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
          .trim()
          .split('\n');
      } catch {
        return [];
      }
    };
    const path = 'clusters/hist/shop/configmaps/settings.yaml';
    try {
      await call('POST', '/api/v1/namespaces', 'admin', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
      await call('POST', '/api/v1/namespaces/shop/configmaps', 'alice', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { color: 'blue' } });
      await until(() => subjects().includes('[CREATE] v1/configmaps/shop/settings') || undefined, 'the create', 60_000);
      await call('PATCH', '/api/v1/namespaces/shop/configmaps/settings', 'bob', { data: { color: 'green' } });
      await until(() => subjects().filter((s) => s === '[UPDATE] v1/configmaps/shop/settings').length === 1 || undefined, "bob's update", 60_000);
      await call('PATCH', '/api/v1/namespaces/shop/configmaps/settings', 'admin', { data: { color: 'red', size: 'L' } });
      await until(() => subjects().filter((s) => s === '[UPDATE] v1/configmaps/shop/settings').length === 2 || undefined, "admin's update", 60_000);

      // A person moves the file with the git CLI and pushes.
      const clone = join(dir, 'person');
      await gitAsync(dir, 'clone', '--quiet', server.url('history'), clone);
      execFileSync('git', ['-C', clone, 'mv', path, 'clusters/hist/shop/settings.yaml']);
      execFileSync('git', ['-C', clone, '-c', 'user.name=Pat Person', '-c', 'user.email=pat@example.com', 'commit', '--quiet', '-m', 'keep settings next to the namespace']);
      await gitAsync(clone, 'push', '--quiet', 'origin', 'HEAD:main');
      // The cluster changes it again: the daemon edits the file where the person put it (ADR 0020).
      await call('PATCH', '/api/v1/namespaces/shop/configmaps/settings', 'bob', { data: { color: 'black' } });
      await until(() => subjects().filter((s) => s === '[UPDATE] v1/configmaps/shop/settings').length === 3 || undefined, "bob's second update", 60_000);
    } finally {
      await daemon.stop('test done');
    }

    // Read through the daemon's own clone, and from a fresh machine (a clone of its own, fetched first).
    for (const reader of [config, configFile('workstation.yaml', './workstation-cache')]) {
      const { code, stdout, stderr } = await cli('history', 'ConfigMap/shop/settings', '--config', reader, '--output', 'json');
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const changes = (JSON.parse(stdout) as { targets: { changes: Entry[] }[] }).targets[0]?.changes ?? [];
      expect(changes.map((c) => [c.operation, c.author.name, c.attribution.by, c.path, c.previousPath ?? ''])).toEqual([
        ['UPDATE', 'bob', 'audit', 'clusters/hist/shop/settings.yaml', ''],
        ['MOVE', 'Pat Person', 'git', 'clusters/hist/shop/settings.yaml', path],
        ['UPDATE', 'admin', 'audit', path, ''],
        ['UPDATE', 'bob', 'audit', path, ''],
        ['CREATE', 'alice@example.com', 'audit', path, ''],
      ]);
      expect(changes.filter((c) => c.attribution.by === 'audit').every((c) => typeof c.attribution.id === 'string' && c.attribution.id.length > 0)).toBe(true);
      expect(changes[2]?.fields).toEqual([
        { path: 'data.color', before: 'green', after: 'red' },
        { path: 'data.size', after: 'L' },
      ]);
    }
    const text = await cli('history', 'ConfigMap/shop/settings', '--config', config, '--author', 'alice');
    expect(text.stdout).toContain('CREATE  alice@example.com <alice@example.com>');
    expect(text.stdout).toMatch(/author known by: audit \(Audit-ID [0-9a-f-]+\)/);
  });
});
