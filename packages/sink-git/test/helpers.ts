import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KernelMetrics,
  parseConfig,
  RouteTable,
  silentLogger,
  type Actor,
  type BusMessage,
  type ChangeEvent,
  type GitopsReverserConfig,
  type KubeObject,
  type SinkContext,
  type SinkItem,
} from '@gitops-reverser/kernel';

export function tempDir(prefix = 'gr-sink-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs the git CLI: the tests judge results with git itself. */
export function git(repo: string, ...args: string[]): string {
  return execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
}

export function contextFor(yaml: string, baseDir: string): SinkContext & { config: GitopsReverserConfig } {
  const config = parseConfig(yaml, join(baseDir, 'config.yaml'), { env: process.env });
  const routes = new RouteTable(config.rules, config.targets, config.providers);
  return { config, routes, logger: silentLogger(), metrics: new KernelMetrics() };
}

export interface ChangeOptions {
  target?: string;
  namespace?: string;
  group?: string;
  version?: string;
  resource?: string;
  kind?: string;
  operation?: 'upsert' | 'delete';
  data?: Record<string, string>;
  actor?: Actor;
  auditId?: string;
  resourceVersion?: string;
  snapshotId?: string;
  object?: KubeObject;
  observedAt?: string;
}

export function change(name: string, options: ChangeOptions = {}): BusMessage {
  const namespace = options.namespace ?? 'default';
  const group = options.group ?? '';
  const version = options.version ?? 'v1';
  const kind = options.kind ?? 'ConfigMap';
  const event: ChangeEvent = {
    identity: { clusterId: 'dev', group, version, resource: options.resource ?? 'configmaps', kind, namespace, name },
    operation: options.operation ?? 'upsert',
    created: false,
    ...(options.operation === 'delete'
      ? {}
      : { object: options.object ?? { apiVersion: group ? `${group}/${version}` : version, kind, metadata: { name, ...(namespace ? { namespace } : {}) }, data: options.data ?? { key: 'value' } } }),
    resourceVersion: options.resourceVersion ?? '100',
    observedAt: options.observedAt ?? '2026-11-21T10:00:00.000Z',
    origin: options.snapshotId ? 'seed' : 'watch',
    ...(options.actor ? { actor: options.actor } : {}),
    ...(options.auditId ? { auditId: options.auditId } : {}),
    ...(options.snapshotId ? { snapshotId: options.snapshotId } : {}),
  };
  return { kind: 'change', target: options.target ?? 'live', event };
}

export function marker(snapshotId: string, objectCount: number, target = 'live'): BusMessage {
  return { kind: 'snapshot', target, snapshotId, objectCount, clusterId: 'dev', completedAt: new Date().toISOString() };
}

export function items(...messages: BusMessage[]): SinkItem[] {
  return messages.map((message) => ({ message, attempt: 1 }));
}

/** `git log` of a branch as "subject|author name|author email" lines, newest first. */
export function log(repo: string, branch = 'main', format = '%s|%an|%ae'): string[] {
  return git(repo, 'log', `--format=${format}`, branch).trim().split('\n').filter(Boolean);
}
