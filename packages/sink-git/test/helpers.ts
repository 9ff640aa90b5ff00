import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import type { Actor, ChangeEvent, KubeObject, SinkChange, SinkContext, SinkItem, SinkMessage, TargetConfig, TargetPlan } from '@gitops-reverser/contract';
import { KernelMetrics, renderYaml, silentLogger } from '@gitops-reverser/kernel';
import type { GitEngineName } from '../src/git-sink.js';
import { planGitTargets, type GitPartition } from '../src/git-target.js';
import { NODEGIT_INSTALL_FIX, nodegitAvailable } from '../src/nodegit-loader.js';
import type { ProviderConfig } from '../src/provider-config.js';
import { resolveProviderUrl } from '../src/repo-location.js';

export function tempDir(prefix = 'gr-sink-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs the git CLI: the tests judge results with git itself. */
export function git(repo: string, ...args: string[]): string {
  return execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
}

export interface GitTestContext extends SinkContext<GitPartition> {
  /** Providers with local paths resolved, for `new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, providers })`. */
  readonly providers: ProviderConfig[];
  readonly targetConfigs: TargetConfig[];
  readonly plan: TargetPlan<GitPartition>;
  /** The partition planned for a target. */
  partition(target: string): GitPartition;
  /** What the sink asked with `requestSnapshot`, in order (the kernel would have the sources reseed these). */
  readonly snapshotRequests: { targets: string[]; reason: string }[];
}

/**
 * A sink context from a short YAML of providers and targets (target keys as in `targets[].with`),
 * planned the way the kernel plans them: what the git sink sees at run time.
 */
export function contextFor(yaml: string, baseDir: string): GitTestContext {
  // ${VAR} from the environment, as the kernel expands config values.
  const doc = parse(yaml.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => process.env[name] ?? '')) as {
    providers: { name: string; url: string; allowedBranches?: string[]; auth?: ProviderConfig['auth']; ssh?: ProviderConfig['ssh'] }[];
    targets: { name: string; provider: string; branch: string; path?: string; prune?: string; layout?: string }[];
  };
  const providers: ProviderConfig[] = doc.providers.map((p) => ({
    name: p.name,
    url: resolveProviderUrl(p.url, baseDir),
    allowedBranches: p.allowedBranches ?? ['**'],
    ...(p.auth ? { auth: p.auth } : {}),
    ...(p.ssh ? { ssh: p.ssh } : {}),
  }));
  const targetConfigs: TargetConfig[] = doc.targets.map(({ name, ...options }, i) => ({ name, with: { path: '', prune: 'OnEvent', ...options }, keyPath: `targets[${i}]` }));
  const plan = planGitTargets(targetConfigs, providers, () => true);
  const snapshotRequests: { targets: string[]; reason: string }[] = [];
  return {
    snapshotRequests,
    requestSnapshot: (targets, reason) => snapshotRequests.push({ targets: [...targets], reason }),
    providers,
    targetConfigs,
    plan,
    partition: (target) => plan.partitions.get(target) as GitPartition,
    logger: silentLogger(),
    metrics: new KernelMetrics(),
    targets: () => targetConfigs.flatMap((target) => (plan.partitions.has(target.name) ? [{ target, partition: plan.partitions.get(target.name) as GitPartition }] : [])),
  };
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
  attribution?: { by: string; id: string };
  fieldManager?: string;
  resourceVersion?: string;
  snapshotId?: string;
  object?: KubeObject;
  observedAt?: string;
}

export function change(name: string, options: ChangeOptions = {}): SinkChange {
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
    phase: options.snapshotId ? 'seed' : 'live',
    observedBy: 'watch',
    ...(options.actor ? { actor: options.actor } : {}),
    ...(options.auditId ? { attribution: { by: 'audit', id: options.auditId } } : {}),
    ...(options.attribution ? { attribution: options.attribution } : {}),
    ...(options.fieldManager ? { fieldManager: options.fieldManager } : {}),
    ...(options.snapshotId ? { snapshotId: options.snapshotId } : {}),
  };
  // The kernel renders every upsert once and sends the text along.
  return { kind: 'change', target: options.target ?? 'live', event, ...(event.object ? { yaml: renderYaml(event.object) } : {}) };
}

export function marker(snapshotId: string, objectCount: number, target = 'live'): SinkMessage {
  return { kind: 'snapshot-end', target, snapshotId, objectCount, clusterId: 'dev', completedAt: new Date().toISOString() };
}

export function items(...messages: SinkMessage[]): SinkItem[] {
  return messages.map((message) => ({ message, attempt: 1 }));
}

/** `git log` of a branch as "subject|author name|author email" lines, newest first. */
export function log(repo: string, branch = 'main', format = '%s|%an|%ae'): string[] {
  return git(repo, 'log', `--format=${format}`, branch).trim().split('\n').filter(Boolean);
}

let engine: GitEngineName = 'isomorphic-git';

/** The engine the shared suites are running with right now (set by `useEngine` in their beforeEach). */
export function engineUnderTest(): GitEngineName {
  return engine;
}

export function useEngine(name: GitEngineName): void {
  engine = name;
}

/**
 * The engines the shared sink suites run with: both when nodegit is installed. Without it the
 * nodegit runs do not exist (nothing is counted as passed); GR_REQUIRE_NODEGIT=1 (set by .ci/run)
 * turns a missing nodegit into a failure instead.
 */
export function testEngines(): GitEngineName[] {
  if (nodegitAvailable()) return ['isomorphic-git', 'nodegit'];
  if (process.env['GR_REQUIRE_NODEGIT'] === '1') throw new Error(`GR_REQUIRE_NODEGIT=1 but nodegit cannot load: ${NODEGIT_INSTALL_FIX}`);
  return ['isomorphic-git'];
}

/** A deterministic pseudo-random sequence in [0, 1] (the same cases every run). */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

/** The git CLI run asynchronously (a test's own git server answers in this process), its stdout; never prompts for credentials. */
export async function gitAsync(...args: string[]): Promise<string> {
  return (await promisify(execFile)('git', args, { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } })).stdout;
}
