import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  errorText,
  type AdapterHealth,
  type BatchPolicy,
  type CounterMetric,
  type GaugeMetric,
  type ResourceIdentity,
  type Sink,
  type SinkBatch,
  type StoredContent,
  type SinkContext,
  type SinkOutcome,
  type TargetConfig,
  type TargetPlan,
} from '@gitops-reverser/contract';
import { BranchReader } from './branch-reader.js';
import { BranchWriter } from './branch-writer.js';
import { DEFAULT_MESSAGES, type Identity, type MessageTemplates } from './commit-message.js';
import { GitDirectory } from './git-directory.js';
import type { GitRemote } from './git-remote.js';
import { gitTargetOptions, isGitPartition, planGitTargets, type GitPartition, type GitTarget } from './git-target.js';
import { IsomorphicGitRemote } from './isomorphic-git-remote.js';
import { loadNodegit, NODEGIT_INSTALL_FIX, nodegitAvailable } from './nodegit-loader.js';
import { NodegitRemote } from './nodegit-remote.js';
import { PathLayout } from './path-layout.js';
import type { ProviderConfig } from './provider-config.js';
import { isRemoteUrl, repoLocationOf } from './repo-location.js';
import { isSshUrl } from './ssh-url.js';
import { objectName } from './write-refusal.js';

/** isomorphic-git: pure JavaScript, local and http(s). nodegit: libgit2, also SSH (optional dependency). */
export type GitEngineName = 'isomorphic-git' | 'nodegit';

export interface GitSinkOptions {
  /** The engine for local and http(s) providers; SSH providers always use nodegit. */
  readonly engine: GitEngineName;
  /** Milliseconds to collect events into one commit per author and target; 0 = one commit per event. */
  readonly commitWindowMs: number;
  /** The window also closes at this many bytes of messages. */
  readonly commitMaxBytes: number;
  readonly committer: Identity;
  /** Email domain for actors whose username is not an email address; `{cluster}` is the cluster id. */
  readonly authorEmailDomain: string;
  readonly messages: MessageTemplates;
  /** Repositories targets may write to; local paths already absolute. */
  readonly providers: readonly ProviderConfig[];
  /** Where clones of remote repositories live (absolute). */
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

/** How long a read waits before it tries again to clone a remote that failed (it answers undefined meanwhile). */
const CLONE_RETRY_MS = 60_000;

/** A repository as a writer uses it: the local git directory, and the remote half for a clone of a remote. */
export interface GitRepository {
  readonly directory: GitDirectory;
  /** Undefined for a local repository written in place. */
  readonly remote?: GitRemote;
}

/**
 * Makes the repository of a partition. By default: the local path, or a clone in `cacheDir` with the
 * remote half of the configured engine (nodegit for SSH URLs).
 */
export type RepositoryFactory = (partition: GitPartition) => GitRepository;

/**
 * The git sink: one BranchWriter per (repository, branch), created on first use. Targets sharing a
 * branch share its writer; their folders are disjoint (planTargets refuses nested ones).
 */
export class GitSink implements Sink<GitPartition>, StoredContent {
  readonly batchPolicy: BatchPolicy;
  private context: SinkContext<GitPartition> | undefined;
  private readonly writers = new Map<string, BranchWriter>();
  /** The repository of each partition used so far: a writer and reads share its git directory. */
  private readonly repositories = new Map<string, GitRepository>();
  /** Readers of partitions without an open writer here (see `read`). */
  private readonly readers = new Map<string, BranchReader>();
  private readonly layouts = new Map<string, PathLayout>();
  private readonly parsedTargets = new WeakMap<TargetConfig, GitTarget>();
  private stopped = false;
  /** When a read last failed to clone a partition's remote (see `readFile`). */
  private readonly cloneFailures = new Map<string, number>();
  private metrics:
    | {
        commits: CounterMetric<'partition' | 'kind'>;
        pushes: CounterMetric<'partition' | 'result'>;
        remoteOk: GaugeMetric<'partition'>;
        pending: GaugeMetric<'partition'>;
        refusedWrites: CounterMetric<'partition' | 'code'>;
        refusedObjects: GaugeMetric<'partition'>;
      }
    | undefined;

  constructor(
    private readonly options: GitSinkOptions,
    private readonly repositoryFactory?: RepositoryFactory,
  ) {
    this.batchPolicy = { windowMs: options.commitWindowMs, maxBytes: options.commitMaxBytes };
  }

  planTargets(targets: readonly TargetConfig[]): TargetPlan<GitPartition> {
    // An injected repository may reach more than http(s) (tests, other engines): let it decide at open.
    return planGitTargets(
      targets,
      this.options.providers,
      (url) => this.repositoryFactory !== undefined || (isSshUrl(url) ? nodegitAvailable() : /^https?:\/\//i.test(url)),
      (provider) =>
        isSshUrl(provider.url)
          ? { message: `provider "${provider.name}" uses SSH (${repoLocationOf(provider.url)}), which needs the nodegit engine, and it is not installed or cannot load`, fix: NODEGIT_INSTALL_FIX }
          : {
              message: `provider "${provider.name}" uses ${repoLocationOf(provider.url)}, which the git engines cannot reach (http, https and SSH only)`,
              fix: 'use an https:// URL with a token, an SSH URL, or a local path',
            },
    );
  }

  async start(context: SinkContext<GitPartition>): Promise<void> {
    this.context = context;
    const metrics = context.metrics;
    this.metrics = {
      commits: metrics.counter('git_commits_total', 'Commits written, by partition and kind (event, group, seed).', ['partition', 'kind']),
      pushes: metrics.counter('git_pushes_total', 'Push attempts by result: ok, rejected (remote moved), auth, unreachable, other.', ['partition', 'result']),
      remoteOk: metrics.gauge('git_remote_ok', '1 when the last write/push of the partition succeeded, 0 while it is failing.', ['partition']),
      pending: metrics.gauge('git_pending_commits', 'Commits made locally and not yet pushed.', ['partition']),
      refusedWrites: metrics.counter('git_refused_writes_total', "Object writes a person's file stopped (ADR 0039), by error code; the other objects were written.", ['partition', 'code']),
      refusedObjects: metrics.gauge('git_refused_objects', "Objects not written because a person's file stops them (the sink is degraded while > 0).", ['partition']),
    };
  }

  async apply(batch: SinkBatch<GitPartition>): Promise<readonly SinkOutcome[]> {
    if (this.stopped) return batch.items.map(() => ({ status: 'retry', reason: 'the git sink is stopping' }));
    const partition = batch.partition;
    if (!isGitPartition(partition)) {
      return batch.items.map(() => ({ status: 'rejected', reason: `no target writes to ${partition.key} any more (removed by a config reload)` }));
    }
    try {
      return await this.writer(partition).apply(batch.items);
    } catch (error) {
      return batch.items.map(() => ({ status: 'retry', reason: errorText(error) }));
    }
  }

  async flush(): Promise<void> {
    for (const writer of this.writers.values()) await writer.flush().catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Open SSH sessions and keep-alive connections would keep the process alive after a stop.
    await Promise.all([...this.writers.values()].map((writer) => writer.close().catch(() => undefined)));
  }

  health(): AdapterHealth {
    if (this.stopped) return { state: 'stopped' };
    if (!this.context) return { state: 'starting' };
    const failing = [...this.writers.entries()].filter(([, w]) => !w.status.ok);
    // A person's file that stops objects degrades the sink (ADR 0003: still ready; ADR 0039).
    const refusing = [...this.writers.entries()].filter(([, w]) => w.refusedObjects.size > 0);
    if (failing.length === 0 && refusing.length === 0) return { state: 'ready', details: { partitions: this.writers.size } };
    const refusals = refusing.map(([key, w]) => {
      const objects = w.refusedObjects.list();
      const first = objects[0];
      return [
        key,
        {
          count: objects.length,
          text: `${key}: ${objects.length} object(s) not written because a file stops them; the first: ${first ? `${objectName(first.identity)}, ${first.code} (${first.path})` : ''}`,
        },
      ] as const;
    });
    const details: Record<string, unknown> = Object.fromEntries(failing.map(([key, w]) => [key, { code: w.status.code, pendingCommits: w.status.pendingCommits }]));
    for (const [key, { count }] of refusals) {
      const objects = (this.writers.get(key) as BranchWriter).refusedObjects.list().slice(0, 10);
      details[key] = { ...(details[key] as object | undefined), refusedObjects: count, refused: objects.map((o) => ({ object: objectName(o.identity), code: o.code, path: o.path })) };
    }
    return {
      state: 'degraded',
      reason: [...failing.map(([key, w]) => `${key}: ${w.status.reason ?? 'failing'}`), ...refusals.map(([, r]) => r.text)].join('; '),
      details,
    };
  }

  /**
   * What the branch holds for an object on a target (its `.sops.yaml` variant first): the
   * StoredContent service encoders use to keep unchanged Secrets byte-for-byte. With an open writer
   * for the partition here, the file at its head (its last commit, pushed or not); otherwise the branch
   * as the local repository, or the clone of a remote in `cacheDir`, holds it (on a replica that does
   * not write the partition, possibly behind the remote). Fetches only when there is no local copy of
   * a remote's branch yet (a new node): then the partition's writer is opened once, which clones it;
   * undefined when that fails.
   */
  async read(targetName: string, identity: ResourceIdentity): Promise<string | undefined> {
    const planned = this.context?.targets().find((t) => t.target.name === targetName);
    if (!planned || !isGitPartition(planned.partition)) return undefined;
    const partition = planned.partition;
    const target = this.targetsOf(partition.key).get(targetName);
    const placed = target?.layout.pathOf(target.path, identity);
    if (!placed || 'problem' in placed) return undefined;
    for (const path of placed.encrypted ? [placed.encrypted, placed.path] : [placed.path]) {
      const text = await this.readFile(partition, path);
      if (text !== undefined) return text;
    }
    return undefined;
  }

  private async readFile(partition: GitPartition, path: string): Promise<string | undefined> {
    let writer = this.writers.get(partition.key);
    if (!writer?.isOpen && isRemoteUrl(partition.provider.url) && this.mayClone(partition.key) && !(await this.hasLocalBranch(partition))) {
      // A new node (an empty cacheDir, as a pod's emptyDir after a restart): without the branch every
      // SOPS file of the first snapshot would be encrypted anew, one commit of churn per restart
      // (ADR 0009, 0039). The writer is opened once: it clones, as its first write would anyway. A
      // failed attempt (the remote down) is not repeated for a minute: reads must not wait on it.
      writer = this.writer(partition);
      await writer.ensureOpen().catch(() => this.cloneFailures.set(partition.key, Date.now()));
    }
    if (writer?.isOpen) {
      // The writer's head: its last commit, pushed or not (and its trees are cached).
      this.readers.delete(partition.key);
      return await writer.readFile(path);
    }
    let reader = this.readers.get(partition.key);
    if (!reader) {
      reader = new BranchReader(this.repositoryOf(partition).directory, partition.branch);
      this.readers.set(partition.key, reader);
    }
    return await reader.readFile(path);
  }

  private mayClone(partitionKey: string): boolean {
    const failed = this.cloneFailures.get(partitionKey);
    return failed === undefined || Date.now() - failed >= CLONE_RETRY_MS;
  }

  /** True when the partition's git directory holds its branch (a clone made, the branch fetched). */
  private async hasLocalBranch(partition: GitPartition): Promise<boolean> {
    const { directory } = this.repositoryOf(partition);
    return directory.exists() && (await directory.readBranch(partition.branch).catch(() => undefined)) !== undefined;
  }

  /** The targets of one partition now (asked per batch, so a reload takes effect). */
  private targetsOf(partitionKey: string): ReadonlyMap<string, GitTarget> {
    const current = new Map<string, GitTarget>();
    for (const planned of this.context?.targets() ?? []) {
      if (planned.partition.key === partitionKey) current.set(planned.target.name, this.gitTarget(planned.target));
    }
    return current;
  }

  /**
   * A target's options as the writer uses them, parsed once per TargetConfig: the kernel hands the
   * same objects until a reload, which brings new ones (and the old ones are let go of).
   */
  private gitTarget(config: TargetConfig): GitTarget {
    const known = this.parsedTargets.get(config);
    if (known) return known;
    const options = gitTargetOptions(config);
    const template = options.layout ?? '';
    let layout = this.layouts.get(template);
    if (!layout) {
      layout = new PathLayout(options.layout);
      this.layouts.set(template, layout);
    }
    const target: GitTarget = { name: config.name, path: options.path, prune: options.prune, layout, kustomizations: options.kustomizations, omitNamespace: options.omitNamespace };
    this.parsedTargets.set(config, target);
    return target;
  }

  private writer(partition: GitPartition): BranchWriter {
    const existing = this.writers.get(partition.key);
    if (existing) return existing;
    const context = this.context;
    if (!context) throw new Error('the git sink was not started');
    const { directory, remote } = this.repositoryOf(partition);
    const metrics = this.metrics;
    const key = partition.key;
    const writer = new BranchWriter({
      directory,
      ...(remote ? { remote } : {}),
      branch: partition.branch,
      partitionKey: key,
      targets: () => this.targetsOf(key),
      committer: this.options.committer,
      messages: this.options.messages,
      authorEmailDomain: this.options.authorEmailDomain,
      grouping: this.options.commitWindowMs > 0,
      pushAttempts: this.options.pushAttempts,
      logger: context.logger.child({ partition: key }),
      onCommit: (kind) => metrics?.commits.inc({ partition: key, kind }),
      onPush: (result) => metrics?.pushes.inc({ partition: key, result }),
      onRemoteState: (ok, pending) => {
        metrics?.remoteOk.set({ partition: key }, ok ? 1 : 0);
        metrics?.pending.set({ partition: key }, pending);
      },
      onHistoryLost: (targets, reason) => context.requestSnapshot(targets, reason),
      onRefused: (code) => metrics?.refusedWrites.inc({ partition: key, code }),
      onRefusedCount: (count) => metrics?.refusedObjects.set({ partition: key }, count),
      onRefusedFileChanged: (targets, reason) => context.requestSnapshot(targets, reason),
    });
    this.writers.set(key, writer);
    return writer;
  }

  /** The repository of a partition, made once (making one opens nothing); the stored history reads it too. */
  repositoryOf(partition: GitPartition): GitRepository {
    let repository = this.repositories.get(partition.key);
    if (!repository) {
      repository = this.repositoryFactory ? this.repositoryFactory(partition) : this.defaultRepository(partition);
      this.repositories.set(partition.key, repository);
    }
    return repository;
  }

  private defaultRepository(partition: GitPartition): GitRepository {
    const { url, auth, ssh } = partition.provider;
    if (!isRemoteUrl(url)) return { directory: new GitDirectory(url) };
    const timeoutMs = this.options.remoteTimeoutSeconds * 1000;
    const nodegit = this.options.engine === 'nodegit' || isSshUrl(url);
    const directory = new GitDirectory(this.clonePathOf(url, nodegit));
    const remote = nodegit
      ? new NodegitRemote({ url, ...(auth ? { auth } : {}), ...(ssh ? { ssh } : {}), directory, timeoutMs })
      : new IsomorphicGitRemote({ url, ...(auth ? { auth } : {}), directory, timeoutMs });
    return { directory, remote };
  }

  /** One clone per repository URL (credentials stripped) and engine, shared by its branches. */
  private clonePathOf(url: string, nodegit: boolean): string {
    const base = this.options.cacheDir ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'gitops-reverser', 'repos');
    const key = createHash('sha256').update(repoLocationOf(url)).digest('hex').slice(0, 16);
    return join(base, nodegit ? `${key}-nodegit.git` : `${key}.git`);
  }

  /** Fails at start (and in `validate`) when the configured engine cannot load, with the install command. */
  static checkEngine(engine: GitEngineName): void {
    if (engine === 'nodegit') loadNodegit();
  }
}

export const DEFAULT_GIT_SINK_OPTIONS: Omit<GitSinkOptions, 'providers'> = {
  engine: 'isomorphic-git',
  commitWindowMs: 0,
  commitMaxBytes: 1 << 20,
  committer: { name: 'gitops-reverser', email: 'gitops-reverser@localhost' },
  authorEmailDomain: '{cluster}.cluster.local',
  messages: DEFAULT_MESSAGES,
  remoteTimeoutSeconds: 30,
  pushAttempts: 5,
};
