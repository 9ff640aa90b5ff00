import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { createLogger, parseConfig, Runtime } from '@gitops-reverser/kernel';
import { ControlPlaneAccess, createTestNamespace, GitHttpServer, until } from '@gitops-reverser/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { ageKey, sopsDecrypt, tempDir, tools } from './helpers.js';

// Secrets from the real API server, through the informer and sanitizer-sops, pushed to a real git
// server; every file checked with the real `sops` binary.

const access = new ControlPlaneAccess(inject('testCluster'));
const gitAsync = async (cwd: string, ...args: string[]) => (await promisify(execFile)('git', args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } })).stdout;
const git = (repo: string, ...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });

let server: GitHttpServer;
const runtimes: Runtime[] = [];
beforeAll(async () => {
  server = new GitHttpServer();
  await server.start();
});
afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.stop('test done');
});
afterAll(async () => server.dispose());

async function api(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await access.request(method, path, { ...(body === undefined ? {} : { body }), ...(method === 'PATCH' ? { headers: { 'content-type': 'application/merge-patch+json' } } : {}) });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.body.slice(0, 300)}`);
  return JSON.parse(response.body || '{}') as Record<string, unknown>;
}

const subjects = (repo: string) => {
  try {
    return git(repo, 'log', '--format=%s', 'main').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

describe('sanitizer-sops against the real API server, git server and sops CLI', () => {
  it('writes Secrets as SOPS files sops decrypts, never plaintext, with no churn across restarts', async () => {
    const ns = await createTestNamespace(access, 'sops');
    const dir = tempDir();
    const key = ageKey(dir);
    writeFileSync(join(dir, 'kubeconfig'), access.kubeconfigText('admin'));
    const values = { password: 'hunter2-very-secret', token: 'tok-3f9a1c77e2' };
    await api('POST', `/api/v1/namespaces/${ns}/secrets`, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db' },
      type: 'Opaque',
      data: { password: Buffer.from(values.password).toString('base64') },
    });
    await api('POST', `/api/v1/namespaces/${ns}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'api' }, stringData: { token: values.token } });
    await api('POST', `/api/v1/namespaces/${ns}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'empty' } });
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'plain' }, data: { a: 'b' } });
    server.createRepo('sops');
    const remote = server.repoPath('sops');
    const yaml = `apiVersion: gitops-reverser/v1alpha2
shutdown: { timeoutSeconds: 10 }
sources: [ { use: "@gitops-reverser/source-informer", cluster: e2e, with: { kubeconfig: ./kubeconfig } } ]
normalizers: [ { use: "@gitops-reverser/sanitizer-sops", with: { identitiesFile: ./key.agekey } } ]
sink:
  use: "@gitops-reverser/sink-git"
  with: { cacheDir: ./cache, providers: [ { name: origin, url: "${server.url('sops')}" } ] }
targets: [ { name: live, with: { provider: origin, branch: main, path: clusters/e2e } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [${ns}], resources: ["*"] } ]
`;
    let logs = '';
    const start = async () => {
      const logger = createLogger(
        'debug',
        new Writable({
          write: (chunk, _e, done) => {
            logs += String(chunk);
            done();
          },
        }),
      );
      const runtime = await Runtime.create(parseConfig(yaml, join(dir, 'config.yaml')), { logger });
      await runtime.start();
      runtimes.push(runtime);
      return runtime;
    };
    const first = await start();
    await until(() => subjects(remote)[0] === 'reconciled 4 resources' || undefined, 'the seed');
    const files = git(remote, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n').sort();
    expect(files).toEqual([
      'clusters/e2e/.sops.yaml',
      `clusters/e2e/${ns}/configmaps/plain.yaml`,
      `clusters/e2e/${ns}/secrets/api.sops.yaml`,
      `clusters/e2e/${ns}/secrets/db.sops.yaml`,
      `clusters/e2e/${ns}/secrets/empty.sops.yaml`,
    ]);
    expect(git(remote, 'show', 'main:clusters/e2e/.sops.yaml')).toContain(`age: '${key.recipient}'`);
    // Every Secret file decrypts with the real sops (MAC verified) to the live Secret's data.
    for (const name of ['db', 'api', 'empty']) {
      const live = await api('GET', `/api/v1/namespaces/${ns}/secrets/${name}`);
      const decrypted = JSON.parse(sopsDecrypt(git(remote, 'show', `main:clusters/e2e/${ns}/secrets/${name}.sops.yaml`), key.file)) as Record<string, unknown>;
      expect(decrypted['data']).toEqual(live['data']);
    }
    // No plaintext value in any object of the history, nor in the logs.
    const history = git(remote, 'rev-list', '--all', '--objects')
      .trim()
      .split('\n')
      .map((line) => line.split(' ')[0] as string);
    const forbidden = [values.password, values.token, Buffer.from(values.password).toString('base64'), Buffer.from(values.token).toString('base64')];
    for (const oid of history) {
      const content = git(remote, 'cat-file', '-p', oid);
      for (const text of forbidden) expect(content.includes(text), `object ${oid} holds a plaintext value`).toBe(false);
    }

    // A restart with unchanged Secrets: the seed re-reads every Secret and makes no commit.
    const before = subjects(remote).length;
    await first.stop('restart');
    runtimes.splice(runtimes.indexOf(first), 1);
    await start();
    await new Promise((r) => setTimeout(r, 3000));
    expect(subjects(remote)).toHaveLength(before);

    // One changed key of one Secret: one commit touching one file.
    await api('PATCH', `/api/v1/namespaces/${ns}/secrets/db`, { data: { password: Buffer.from('changed-secret').toString('base64') } });
    await until(() => subjects(remote).length === before + 1 || undefined, 'the update commit');
    expect(git(remote, 'show', '--name-only', '--format=', 'main').trim()).toBe(`clusters/e2e/${ns}/secrets/db.sops.yaml`);
    expect(JSON.parse(sopsDecrypt(git(remote, 'show', `main:clusters/e2e/${ns}/secrets/db.sops.yaml`), key.file)).data).toEqual({ password: Buffer.from('changed-secret').toString('base64') });

    // A human edits a file with sops (adds a key) and pushes; then the cluster changes it: still decryptable.
    const clone = join(dir, 'human');
    await gitAsync(dir, 'clone', '--quiet', server.url('sops'), clone);
    git(clone, 'config', 'user.name', 'Human');
    git(clone, 'config', 'user.email', 'human@example.com');
    const humanFile = join(clone, `clusters/e2e/${ns}/secrets/api.sops.yaml`);
    execFileSync(tools.sops, ['set', humanFile, '["data"]["extra"]', `"${Buffer.from('added by hand').toString('base64')}"`], { env: { ...process.env, SOPS_AGE_KEY_FILE: key.file } });
    expect(JSON.parse(sopsDecrypt(readFileSync(humanFile, 'utf8'), key.file)).data.extra).toBe(Buffer.from('added by hand').toString('base64'));
    git(clone, 'commit', '--quiet', '-am', 'hand edit with sops');
    await gitAsync(clone, 'push', '--quiet', 'origin', 'HEAD:main');
    await api('PATCH', `/api/v1/namespaces/${ns}/secrets/api`, { stringData: { token: 'rotated-token-value' } });
    await until(() => subjects(remote)[0] === `[UPDATE] v1/secrets/${ns}/api` || undefined, 'the cluster change after the hand edit');
    const decrypted = JSON.parse(sopsDecrypt(git(remote, 'show', `main:clusters/e2e/${ns}/secrets/api.sops.yaml`), key.file)) as { data: Record<string, string> };
    expect(decrypted.data).toEqual({ token: Buffer.from('rotated-token-value').toString('base64') });
    expect(subjects(remote)).toContain('hand edit with sops');
    git(remote, 'fsck', '--strict');
    for (const text of [...forbidden, 'rotated-token-value', 'changed-secret']) expect(logs.includes(text)).toBe(false);
  });
});
