import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseConfig, Runtime, silentLogger } from '@gitops-reverser/kernel';
import { ControlPlaneAccess, createTestNamespace, GitHttpServer, until } from '@gitops-reverser/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';

// History stays as the git remote says, end to end: the real API server through the informer source,
// the kernel, and the git sink pushing to a real `git http-backend`. After a purge, a re-created
// repository or a branch deleted while running, the remote gets the cluster's current state (a fresh
// seed), never the clone cache's folder or its old commits.

const access = new ControlPlaneAccess(inject('testCluster'));
let server: GitHttpServer;
let runtimes: Runtime[] = [];

beforeAll(async () => {
  server = new GitHttpServer({ credentials: { username: 'bot', password: 'pw' } });
  await server.start();
});
afterAll(async () => {
  await server.dispose();
});
afterEach(async () => {
  for (const runtime of runtimes) await runtime.stop('test done');
  runtimes = [];
});

const git = (repo: string, ...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
// The git server runs in this process: commands that talk to it must not block the event loop.
const gitAsync = async (...args: string[]) => (await promisify(execFile)('git', args, { env: { ...process.env, GIT_TERMINAL_PROMPT: '0', FILTER_BRANCH_SQUELCH_WARNING: '1' } })).stdout;

async function api(method: string, path: string, body?: unknown): Promise<void> {
  const response = await access.request(method, path, {
    ...(body === undefined ? {} : { body }),
    ...(method === 'PATCH' ? { headers: { 'content-type': 'application/merge-patch+json' } } : {}),
  });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.body.slice(0, 300)}`);
}

const configMap = (name: string, data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

/** Files at the head of `ref` (all of them, or under `path`); [] when the branch does not exist. */
function files(repo: string, path = '', ref = 'main'): string[] {
  try {
    return git(repo, 'ls-tree', '-r', '--name-only', ref, ...(path ? ['--', path] : []))
      .trim()
      .split('\n')
      .filter(Boolean)
      .sort();
  } catch {
    return [];
  }
}

/** True when any object reachable in the repository holds `text`. */
function historyContains(repo: string, text: string): boolean {
  const oids = git(repo, 'rev-list', '--all', '--objects')
    .trim()
    .split('\n')
    .map((line) => line.split(' ')[0] as string);
  return oids.some((oid) => git(repo, 'cat-file', '-p', oid).includes(text));
}

let repoCounter = 0;

/** A repository on the git server, a clone cache, and a runtime config for `namespaces`; `start` runs one. */
function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'gr-history-'));
  const name = `history-${repoCounter++}`;
  server.createRepo(name);
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, access.kubeconfigText('admin'));
  const start = async (namespaces: readonly string[]) => {
    const yaml = `apiVersion: gitops-reverser/v1alpha2
shutdown: { timeoutSeconds: 10 }
sources: [ { use: "@gitops-reverser/source-informer", cluster: e2e, with: { kubeconfig: ${kubeconfig} } } ]
sink:
  use: "@gitops-reverser/sink-git"
  with:
    cacheDir: ${join(dir, 'cache')}
    providers: [ { name: origin, url: "${server.url(name)}", auth: { username: bot, password: pw } } ]
targets: [ { name: live, with: { provider: origin, branch: main, path: clusters/e2e } } ]
rules:
  - { target: live, scope: Namespaced, namespaces: [${namespaces.join(', ')}], apiGroups: [""], resources: [configmaps] }
`;
    const runtime = await Runtime.create(parseConfig(yaml, join(dir, 'config.yaml')), { logger: silentLogger() });
    runtimes.push(runtime);
    await runtime.start();
    return runtime;
  };
  const stop = async (runtime: Runtime) => {
    await runtime.stop('test');
    runtimes = runtimes.filter((r) => r !== runtime);
  };
  return { dir, name, repo: server.repoPath(name), start, stop };
}

/** Every commit rewritten without `path` (a purge as a human does it), force-pushed, old objects pruned on the server. */
async function purge(dir: string, name: string, path: string): Promise<string> {
  const clone = join(dir, 'purging-clone');
  await gitAsync('clone', '--quiet', server.url(name, true), clone);
  await gitAsync('-C', clone, 'filter-branch', '--force', '--prune-empty', '--index-filter', `git rm -q --cached --ignore-unmatch ${path}`, '--', 'main');
  await gitAsync('-C', clone, 'push', '--quiet', '--force', 'origin', 'main:main');
  const repo = server.repoPath(name);
  git(repo, 'reflog', 'expire', '--expire=now', '--all');
  git(repo, 'gc', '--quiet', '--prune=now');
  return git(repo, 'rev-parse', 'main').trim();
}

/** `names` of ConfigMaps in `ns` as the files of the target folder. */
const filesOf = (ns: string, ...names: string[]) => names.map((name) => `clusters/e2e/${ns}/configmaps/${name}.yaml`).sort();

describe('git history end to end (real API server, informer, real git server)', () => {
  it('a file purged from the remote history while stopped stays purged: the restart writes the seed, never the cache', async () => {
    const ns = await createTestNamespace(access, 'purge');
    const { dir, name, repo, start, stop } = setup();
    const leak = `clusters/e2e/${ns}/configmaps/leak.yaml`;
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('keep', { color: 'blue' }));
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('leak', { password: 'hunter2-purged' }));
    const first = await start([ns]);
    await until(() => files(repo).length === 2 || undefined, 'both files written');
    await stop(first);
    // While stopped: the leaked ConfigMap is deleted, its file purged from the remote history, and
    // `keep` changes (so the restart's seed makes a commit).
    await api('DELETE', `/api/v1/namespaces/${ns}/configmaps/leak`);
    await api('PATCH', `/api/v1/namespaces/${ns}/configmaps/keep`, { data: { color: 'green' } });
    const purged = await purge(dir, name, leak);
    expect(files(repo)).toEqual(filesOf(ns, 'keep'));
    await start([ns]);
    await until(() => git(repo, 'show', `main:${filesOf(ns, 'keep')[0]}`).includes('green') || undefined, 'the seed of the restart');
    expect(files(repo)).toEqual(filesOf(ns, 'keep'));
    expect(git(repo, 'log', '--all', '--format=%H', '--', leak).trim()).toBe('');
    const newer = git(repo, 'rev-list', `${purged}..main`).trim().split('\n').filter(Boolean);
    expect(newer.length).toBeGreaterThan(0);
    for (const commit of newer) expect(files(repo, '', commit)).not.toContain(leak);
    expect(historyContains(repo, 'hunter2-purged')).toBe(false);
    git(repo, 'fsck', '--strict');
  });

  it('a repository re-created empty at the same URL gets only the objects selected now, nothing from the cache', async () => {
    const before = await createTestNamespace(access, 'before');
    const now = await createTestNamespace(access, 'now');
    const { name, repo, start, stop } = setup();
    await api('POST', `/api/v1/namespaces/${before}/configmaps`, configMap('old-a', { k: 'a' }));
    await api('POST', `/api/v1/namespaces/${before}/configmaps`, configMap('old-b', { k: 'b' }));
    await api('POST', `/api/v1/namespaces/${now}/configmaps`, configMap('current', { k: 'c' }));
    const first = await start([before]);
    await until(() => files(repo).length === 2 || undefined, 'the first repository written');
    await stop(first);
    // The repository is deleted and created again, empty; the rules now select another namespace,
    // and one of the old objects is gone.
    rmSync(repo, { recursive: true, force: true });
    server.createRepo(name);
    await api('DELETE', `/api/v1/namespaces/${before}/configmaps/old-a`);
    await start([now]);
    await until(() => files(repo).length > 0 || undefined, 'the new repository written');
    expect(files(repo)).toEqual(filesOf(now, 'current'));
    expect(git(repo, 'log', '--all', '--format=%s', '--', `clusters/e2e/${before}`).trim()).toBe('');
    expect(git(repo, 'log', '--format=%s', 'main').trim().split('\n')).toEqual(['reconciled 1 resources']);
    git(repo, 'fsck', '--strict');
  });

  it('a remote branch deleted while running: after the next change the sources reseed and the remote holds every live object again', async () => {
    const ns = await createTestNamespace(access, 'branch');
    const { repo, start } = setup();
    const names = ['c1', 'c2', 'c3', 'c4', 'c5'];
    for (const cm of names) await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(cm, { k: cm }));
    await start([ns]);
    await until(() => files(repo).length === names.length || undefined, 'the first seed');
    const old = git(repo, 'rev-list', 'main').trim().split('\n');
    git(repo, 'update-ref', '-d', 'refs/heads/main');
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('c6', { k: 'c6' }));
    await until(() => files(repo).length === 6 || undefined, 'every live object back after the reseed');
    expect(files(repo)).toEqual(filesOf(ns, ...names, 'c6'));
    expect(git(repo, 'log', '--format=%s', 'main').trim().split('\n')).toEqual(['reconciled 6 resources', `[CREATE] v1/configmaps/${ns}/c6`]);
    const now = git(repo, 'rev-list', 'main').trim().split('\n');
    expect(now.filter((commit) => old.includes(commit))).toEqual([]);
    git(repo, 'fsck', '--strict');
  });
});
