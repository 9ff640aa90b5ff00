import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, Runtime, silentLogger, type KernelMetrics } from '@gitops-reverser/kernel';
import { ControlPlaneAccess, type GitHttpServer, type TestUserName } from '@gitops-reverser/testkit';
export { until } from '@gitops-reverser/testkit';
import { inject } from 'vitest';

export const cluster = inject('testCluster');
export const access = new ControlPlaneAccess(cluster);

export function tempDir(prefix = 'gr-informer-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function git(repo: string, ...args: string[]): string {
  return execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Subjects of the branch, newest first ([] when the branch does not exist yet). */
export function subjects(repo: string, branch = 'main'): string[] {
  try {
    return git(repo, 'log', '--format=%s', branch).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

export function files(repo: string, path: string, branch = 'main'): string[] {
  try {
    return git(repo, 'ls-tree', '-r', '--name-only', branch, '--', path).trim().split('\n').filter(Boolean).sort();
  } catch {
    return [];
  }
}

export function show(repo: string, path: string, branch = 'main'): string {
  return git(repo, 'show', `${branch}:${path}`);
}

/** Writes a kubeconfig for a test user into `dir`, optionally through another server address. */
export function kubeconfig(dir: string, user: TestUserName = 'admin', server?: string): string {
  const file = join(dir, `kubeconfig-${user}`);
  let text = access.kubeconfigText(user);
  if (server) text = text.replace(cluster.server, server);
  writeFileSync(file, text);
  return file;
}

/** A runtime from YAML (adapters resolved by package name, like the CLI does). */
export async function startRuntime(yaml: string, dir: string, metrics?: KernelMetrics): Promise<Runtime> {
  const config = parseConfig(yaml, join(dir, 'config.yaml'));
  const runtime = await Runtime.create(config, { logger: silentLogger(), ...(metrics ? { metrics } : {}) });
  await runtime.start();
  return runtime;
}

export async function api(method: string, path: string, body?: unknown, user: TestUserName = 'admin'): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await access.request(method, path, {
    user,
    ...(body === undefined ? {} : { body }),
    ...(method === 'PATCH' ? { headers: { 'content-type': 'application/merge-patch+json' } } : {}),
  });
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(response.body) as Record<string, unknown>;
  } catch {
    // empty body
  }
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.body.slice(0, 300)}`);
  return { status: response.status, json };
}

export function configMap(name: string, data: Record<string, string>, extra: Record<string, unknown> = {}) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data };
}

/** The API server's count of open WATCH requests for a resource (all scopes, or one: "namespace", "cluster"). */
export async function openWatches(resource: string, scope?: string): Promise<number> {
  const metrics = (await access.request('GET', '/metrics')).body;
  let total = 0;
  for (const line of metrics.split('\n')) {
    if (line.startsWith('apiserver_longrunning_requests{') && line.includes(`resource="${resource}"`) && line.includes('verb="WATCH"') && (!scope || line.includes(`scope="${scope}"`))) {
      total += Number(line.split(' ').pop());
    }
  }
  return total;
}

export interface MirrorOptions {
  user?: TestUserName;
  kubeconfigFile?: string;
  kubeServer?: string;
  targetPath?: string;
  prune?: string;
  /** More informer options, written after the others (", listPageSize: 7"). */
  informer?: string;
  /** More top-level config (YAML lines). */
  extra?: string;
  /** `targets:` entries beyond `live` (YAML flow mappings). */
  moreTargets?: string[];
}

let repoCounter = 0;

/**
 * A fresh repository on `server` and a config that mirrors the test cluster into it through the
 * informer and sink-git, with `rules` (YAML lines). `start` runs it (adapters resolved by package
 * name, as the CLI does) and hands the runtime to `track` for the test's cleanup.
 */
export function mirrorSetup(server: GitHttpServer, rules: string, options: MirrorOptions, track: (runtime: Runtime) => void) {
  const dir = tempDir();
  const name = `state-${process.pid}-${repoCounter++}`;
  server.createRepo(name);
  const target = (targetName: string, path: string) => `{ name: ${targetName}, with: { provider: origin, branch: main, path: ${path}${options.prune ? `, prune: ${options.prune}` : ''} } }`;
  const yaml = `apiVersion: gitops-reverser/v1alpha2
server: { port: 0, host: 127.0.0.1, enabled: true }
shutdown: { timeoutSeconds: 10 }
sources: [ { use: "@gitops-reverser/source-informer", cluster: e2e, with: { kubeconfig: ${options.kubeconfigFile ?? kubeconfig(dir, options.user ?? 'admin', options.kubeServer)}, rediscoverySeconds: 30 ${options.informer ?? ''} } } ]
bus: { use: "@gitops-reverser/bus-memory" }
sink:
  use: "@gitops-reverser/sink-git"
  with:
    cacheDir: ${dir}/cache
    providers: [ { name: origin, url: "${server.url(name)}", auth: { username: bot, password: pw } } ]
targets: [ ${[target('live', options.targetPath ?? 'clusters/e2e'), ...(options.moreTargets ?? [])].join(', ')} ]
${options.extra ?? ''}
rules:
${rules}
`;
  const start = async (text = yaml, metrics?: KernelMetrics) => {
    const runtime = await startRuntime(text, dir, metrics);
    track(runtime);
    return runtime;
  };
  return { dir, repo: server.repoPath(name), yaml, start };
}
