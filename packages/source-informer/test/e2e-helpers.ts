import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, Runtime, silentLogger, type KernelMetrics } from '@gitops-reverser/kernel';
import { ControlPlaneAccess, type TestUserName } from '@gitops-reverser/testkit';
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
