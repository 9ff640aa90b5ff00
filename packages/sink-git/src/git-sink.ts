import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import {
  type Counter,
  type Gauge,
  errorText,
  grError,
  isRemoteUrl,
  parsePartitionKey,
  type AdapterHealth,
  type BatchPolicy,
  type Sink,
  type SinkBatch,
  type SinkContext,
  type SinkOutcome,
} from '@gitops-reverser/kernel';
import { BranchWriter, type WriterTarget } from './branch-writer.js';
import { DEFAULT_MESSAGES, type Identity, type MessageTemplates } from './commit-message.js';
import type { GitEngine } from './git-engine.js';
import { GitErrorCodes } from './git-error-codes.js';
import { IsomorphicGitEngine } from './isomorphic-git-engine.js';
import { PathLayout } from './path-layout.js';

export interface GitSinkOptions {
  readonly engine: 'isomorphic-git';
  /** Milliseconds to collect events into one commit per author and target; 0 = one commit per event. */
  readonly commitWindowMs: number;
  /** The window also closes at this many bytes of messages. */
  readonly commitMaxBytes: number;
  readonly committer: Identity;
  /** Email domain for actors whose username is not an email address; `{cluster}` is the cluster id. */
  readonly authorEmailDomain: string;
  readonly messages: MessageTemplates;
  /** Where clones of remote repositories live (relative: to the config file's folder). */
  readonly cacheDir?: string;
  readonly remoteTimeoutSeconds: number;
  /** How often one batch replays on a moved remote before it is retried later. */
  readonly pushAttempts: number;
}

/** Accepts `500`, `"500ms"`, `"5s"`, `"1m"`: the config's `commitWindow`. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!match) throw new Error(`"${value}" is not a duration`);
  const amount = Number(match[1]);
  return Math.round(match[2] === 's' ? amount * 1000 : match[2] === 'm' ? amount * 60_000 : amount);
}

/** Chooses the engine for a provider URL; today isomorphic-git (local paths and http/https). */
export type EngineFactory = (input: { url: string; auth: SinkContext['config']['providers'][number]['auth']; branch: string }) => GitEngine;

/**
 * The git sink: one BranchWriter per (repository, branch), created on first use. Targets sharing a
 * branch share its writer; their paths are disjoint (the config refuses nested ones).
 */
export class GitSink implements Sink {
  readonly batchPolicy: BatchPolicy;
  private context: SinkContext | undefined;
  private readonly writers = new Map<string, BranchWriter>();
  private stopped = false;
  private metrics:
    | { commits: Counter<'partition' | 'kind'>; pushes: Counter<'partition' | 'result'>; remoteOk: Gauge<'partition'>; pending: Gauge<'partition'> }
    | undefined;

  constructor(
    private readonly options: GitSinkOptions,
    private readonly engineFactory?: EngineFactory,
  ) {
    this.batchPolicy = { windowMs: options.commitWindowMs, maxBytes: options.commitMaxBytes };
  }

  async start(context: SinkContext): Promise<void> {
    this.context = context;
    const metrics = context.metrics;
    this.metrics = {
      commits: metrics.counter('git_commits_total', 'Commits written, by partition and kind (event, group, seed).', ['partition', 'kind']),
      pushes: metrics.counter('git_pushes_total', 'Push attempts by result: ok, rejected (remote moved), auth, unreachable, other.', ['partition', 'result']),
      remoteOk: metrics.gauge('git_remote_ok', '1 when the last write/push of the partition succeeded, 0 while it is failing.', ['partition']),
      pending: metrics.gauge('git_pending_commits', 'Commits made locally and not yet pushed.', ['partition']),
    };
    // Refuse unusable providers and layouts now, not at the first event.
    for (const route of context.routes.routes()) {
      if (isRemoteUrl(route.provider.url) && !/^https?:\/\//i.test(route.provider.url) && !this.engineFactory) {
        throw grError(GitErrorCodes.UNSUPPORTED_URL, `provider "${route.provider.name}" uses ${route.provider.url}, which the isomorphic-git engine cannot reach (http and https only)`, {
          fix: 'use an https:// URL with a token, or a local path',
        });
      }
      new PathLayout(route.target.layout);
    }
  }

  async apply(batch: SinkBatch): Promise<readonly SinkOutcome[]> {
    if (this.stopped) return batch.items.map(() => ({ status: 'retry', reason: 'the git sink is stopping' }));
    try {
      return await this.writer(batch.partitionKey).apply(batch.items);
    } catch (error) {
      return batch.items.map(() => ({ status: 'retry', reason: errorText(error) }));
    }
  }

  async flush(): Promise<void> {
    for (const writer of this.writers.values()) await writer.flush().catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  health(): AdapterHealth {
    if (this.stopped) return { state: 'stopped' };
    const failing = [...this.writers.entries()].filter(([, w]) => !w.status.ok);
    if (failing.length === 0) return { state: 'ready', details: { partitions: this.writers.size } };
    return {
      state: 'degraded',
      reason: failing.map(([key, w]) => `${key}: ${w.status.reason ?? 'failing'}`).join('; '),
      details: Object.fromEntries(failing.map(([key, w]) => [key, { code: w.status.code, pendingCommits: w.status.pendingCommits }])),
    };
  }

  private writer(partitionKey: string): BranchWriter {
    const existing = this.writers.get(partitionKey);
    if (existing) return existing;
    const context = this.context;
    if (!context) throw new Error('the git sink was not started');
    const routes = context.routes.routes().filter((r) => r.partitionKey === partitionKey);
    const first = routes[0];
    if (!first) throw new Error(`no target is configured for ${partitionKey}`);
    const { branch } = parsePartitionKey(partitionKey);
    const engine = this.engineFactory
      ? this.engineFactory({ url: first.provider.url, auth: first.provider.auth, branch })
      : this.defaultEngine(first.provider.url, first.provider.auth, branch);
    const metrics = this.metrics;
    const layouts = new Map<string, PathLayout>();
    const writer = new BranchWriter({
      engine,
      branch,
      partitionKey,
      targets: () => {
        const current = new Map<string, WriterTarget>();
        for (const route of context.routes.routes()) {
          if (route.partitionKey !== partitionKey) continue;
          const template = route.target.layout ?? '';
          let layout = layouts.get(template);
          if (!layout) {
            layout = new PathLayout(route.target.layout);
            layouts.set(template, layout);
          }
          current.set(route.target.name, { target: route.target, layout });
        }
        return current;
      },
      committer: this.options.committer,
      messages: this.options.messages,
      authorEmailDomain: this.options.authorEmailDomain,
      grouping: this.options.commitWindowMs > 0,
      pushAttempts: this.options.pushAttempts,
      logger: context.logger.child({ partition: partitionKey }),
      onCommit: (kind) => metrics?.commits.inc({ partition: partitionKey, kind }),
      onPush: (result) => metrics?.pushes.inc({ partition: partitionKey, result }),
      onRemoteState: (ok, pending) => {
        metrics?.remoteOk.set({ partition: partitionKey }, ok ? 1 : 0);
        metrics?.pending.set({ partition: partitionKey }, pending);
      },
    });
    this.writers.set(partitionKey, writer);
    return writer;
  }

  private defaultEngine(url: string, auth: SinkContext['config']['providers'][number]['auth'], branch: string): GitEngine {
    const timeoutMs = this.options.remoteTimeoutSeconds * 1000;
    if (!isRemoteUrl(url)) return new IsomorphicGitEngine({ gitdir: url, initialBranch: branch, timeoutMs });
    const config = this.context?.config;
    const base = this.options.cacheDir
      ? isAbsolute(this.options.cacheDir) ? this.options.cacheDir : resolve(config?.baseDir ?? process.cwd(), this.options.cacheDir)
      : join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'gitops-reverser', 'repos');
    // One clone per repository URL (credentials stripped), shared by its branches.
    const key = createHash('sha256').update(url.replace(/\/\/[^@/]*@/, '//')).digest('hex').slice(0, 16);
    return new IsomorphicGitEngine({ url, ...(auth ? { auth } : {}), gitdir: join(base, `${key}.git`), initialBranch: branch, timeoutMs });
  }
}

export const DEFAULT_GIT_SINK_OPTIONS: GitSinkOptions = {
  engine: 'isomorphic-git',
  commitWindowMs: 0,
  commitMaxBytes: 1 << 20,
  committer: { name: 'gitops-reverser', email: 'gitops-reverser@localhost' },
  authorEmailDomain: '{cluster}.cluster.local',
  messages: DEFAULT_MESSAGES,
  remoteTimeoutSeconds: 30,
  pushAttempts: 5,
};
