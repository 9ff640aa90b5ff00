import * as fs from 'node:fs';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { grError } from '@gitops-reverser/contract';
import type { ProviderAuth } from './provider-config.js';
import { credentialsOf, prepareGitDir, repoLocationOf } from './repo-location.js';
import { GitRemoteError, type GitEngine } from './git-engine.js';
import { GitErrorCodes } from './git-error-codes.js';
import { isTreeMode, type CommitFields, type EncodedObject, type TreeEntry } from './git-objects.js';
import { ObjectStoreState, storeObjects, worktreeOnBranch, writeRefFile } from './object-files.js';
import { ReceivePackClient } from './receive-pack.js';

export interface IsomorphicGitEngineOptions {
  /** For a remote provider: its http(s) URL. Undefined for a local repository written in place. */
  readonly url?: string;
  readonly auth?: ProviderAuth;
  /** The git directory to work in (the repository itself when local; a cache clone when remote). */
  readonly gitdir: string;
  /** Default branch name when the repository is created. */
  readonly initialBranch: string;
  readonly timeoutMs: number;
}

/** isomorphic-git: pure JavaScript, http(s) transport only (no SSH, no file://). */
export class IsomorphicGitEngine implements GitEngine {
  readonly name = 'isomorphic-git';
  readonly hasRemote: boolean;
  readonly location: string;
  /** isomorphic-git's parsed-object cache, shared across calls (packfile indexes are costly to load). */
  private readonly cache = {};
  private gitdir: string;
  /** Known object folders and spare files, for the git directory in use. */
  private objectStore: ObjectStoreState | undefined;
  /** The remote URL without user or password: what is stored in the clone and sent to isomorphic-git. */
  private readonly url: string | undefined;
  private readonly auth: ProviderAuth | undefined;
  private receivePack: ReceivePackClient | undefined;

  constructor(private readonly options: IsomorphicGitEngineOptions) {
    this.hasRemote = options.url !== undefined;
    this.location = options.url ? repoLocationOf(options.url) : options.gitdir;
    this.gitdir = options.gitdir;
    // Credentials written into the URL move to auth: they are never stored in the clone's .git/config.
    const credentials = options.url ? credentialsOf(options.url, options.auth) : undefined;
    this.url = credentials?.url;
    this.auth = credentials?.auth ?? options.auth;
  }

  async open(): Promise<void> {
    try {
      const prepared = prepareGitDir(this.gitdir, this.url !== undefined);
      this.gitdir = prepared.gitdir;
      if (prepared.create) await git.init({ fs, gitdir: this.gitdir, bare: true, defaultBranch: this.options.initialBranch });
      if (this.url) {
        const stored = await git.getConfig({ fs, gitdir: this.gitdir, path: 'remote.origin.url' });
        if (typeof stored === 'string' && repoLocationOf(stored) !== this.location) {
          throw grError(GitErrorCodes.REPO, `the clone at ${this.gitdir} belongs to ${repoLocationOf(stored)}, not ${this.location}`, {
            fix: 'remove that folder (it is a cache) or set sink.with.cacheDir to a folder of its own',
          });
        }
        // isomorphic-git fetches through a named remote with a refspec; stored without credentials.
        await git.addRemote({ fs, gitdir: this.gitdir, remote: 'origin', url: this.url, force: true });
      }
    } catch (cause) {
      if ((cause as { code?: string }).code === GitErrorCodes.REPO) throw cause;
      throw grError(GitErrorCodes.REPO, `cannot open or create the repository at ${this.gitdir}: ${(cause as Error).message}`, {
        fix: 'check that the folder is writable and is a git repository (or does not exist yet)',
        cause,
      });
    }
  }

  async checkedOutWorktree(branch: string): Promise<string | undefined> {
    return worktreeOnBranch(this.gitdir, branch);
  }

  async writeObjects(objects: readonly EncodedObject[]): Promise<void> {
    // The writer's objects go in as git's own files; the engine reads them like any git wrote.
    this.objectStore = ObjectStoreState.for(this.objectStore, this.gitdir);
    await storeObjects(this.gitdir, objects, this.objectStore);
  }

  async hasObject(oid: string): Promise<boolean> {
    try {
      await git.readObject({ fs, gitdir: this.gitdir, oid, format: 'deflated', cache: this.cache });
      return true;
    } catch {
      return false;
    }
  }

  async readTree(oid: string): Promise<TreeEntry[]> {
    const { tree } = await git.readTree({ fs, gitdir: this.gitdir, oid, cache: this.cache });
    return tree.map((entry) => ({ mode: isTreeMode(entry.mode) ? '40000' : entry.mode, name: entry.path, oid: entry.oid }));
  }

  async readBlob(oid: string): Promise<Uint8Array> {
    return (await git.readBlob({ fs, gitdir: this.gitdir, oid, cache: this.cache })).blob;
  }

  async readCommit(oid: string): Promise<CommitFields> {
    const { commit } = await git.readCommit({ fs, gitdir: this.gitdir, oid, cache: this.cache });
    return {
      tree: commit.tree,
      parents: commit.parent,
      author: { name: commit.author.name, email: commit.author.email, timestamp: commit.author.timestamp },
      committer: { name: commit.committer.name, email: commit.committer.email, timestamp: commit.committer.timestamp },
      message: commit.message,
    };
  }

  async readBranch(branch: string): Promise<string | undefined> {
    return this.readRef(`refs/heads/${branch}`);
  }

  async writeBranch(branch: string, oid: string): Promise<void> {
    writeRefFile(this.gitdir, `refs/heads/${branch}`, oid);
  }

  async readRef(ref: string): Promise<string | undefined> {
    try {
      return await git.resolveRef({ fs, gitdir: this.gitdir, ref });
    } catch {
      return undefined;
    }
  }

  async writeRef(ref: string, oid: string): Promise<void> {
    writeRefFile(this.gitdir, ref, oid);
  }

  async fetch(branch: string): Promise<string | undefined> {
    const url = this.remoteUrl();
    const remoteHead = await this.remote('reading the remote branch', async () => {
      const info = await git.getRemoteInfo2({ http, url, protocolVersion: 1, ...this.authCallbacks() });
      return info.refs?.find((ref) => ref.ref === `refs/heads/${branch}`)?.oid;
    });
    if (remoteHead === undefined || (await this.hasObject(remoteHead))) return remoteHead;
    return await this.remote('fetching', async () => {
      const result = await git.fetch({
        fs,
        http,
        gitdir: this.gitdir,
        url,
        remote: 'origin',
        ref: branch,
        remoteRef: branch,
        singleBranch: true,
        tags: false,
        cache: this.cache,
        ...this.authCallbacks(),
      });
      return result.fetchHead ?? remoteHead;
    });
  }

  async push(branch: string, oid: string): Promise<void> {
    const url = this.remoteUrl();
    // The local branch must point at what is pushed: isomorphic-git pushes a ref, not an oid.
    await this.writeBranch(branch, oid);
    const result = await this.remote('pushing', () =>
      git.push({ fs, http, gitdir: this.gitdir, url, ref: `refs/heads/${branch}`, remoteRef: `refs/heads/${branch}`, cache: this.cache, ...this.authCallbacks() }),
    );
    const refResult = result.refs?.[`refs/heads/${branch}`];
    if (!result.ok || (refResult && !refResult.ok)) {
      const reason = refResult?.error ?? result.error ?? 'push refused';
      throw new GitRemoteError(
        /fast-forward|fetch first|stale|failed to (update|lock)|reference already exists|cannot lock/i.test(reason) ? 'rejected' : 'other',
        `the remote refused the push: ${reason}`,
      );
    }
  }

  async pushObjects(branch: string, oldOid: string | undefined, newOid: string, objects: readonly EncodedObject[]): Promise<void> {
    const url = this.remoteUrl();
    const auth = this.auth;
    this.receivePack ??= new ReceivePackClient({
      url,
      timeoutMs: this.options.timeoutMs,
      ...(auth && (auth.token !== undefined || auth.password !== undefined || auth.username !== undefined)
        ? { credentials: auth.token !== undefined ? { username: auth.username ?? 'x-access-token', password: auth.token } : { username: auth.username ?? '', password: auth.password ?? '' } }
        : {}),
    });
    await this.writeBranch(branch, newOid);
    try {
      await this.receivePack.push(`refs/heads/${branch}`, oldOid, newOid, objects);
    } catch (error) {
      throw error instanceof GitRemoteError ? new GitRemoteError(error.kind, `${error.message.replace(/^pushing/, `pushing ${this.location}`)}`, { cause: error }) : error;
    }
  }

  async close(): Promise<void> {
    this.receivePack?.close();
    this.receivePack = undefined;
    await this.objectStore?.close();
    this.objectStore = undefined;
  }

  private remoteUrl(): string {
    if (!this.url) throw new Error('no remote: this repository is written in place');
    return this.url;
  }

  private authCallbacks() {
    const auth = this.auth;
    if (!auth || (auth.username === undefined && auth.password === undefined && auth.token === undefined)) return {};
    const credentials = auth.token !== undefined ? { username: auth.username ?? 'x-access-token', password: auth.token } : { username: auth.username ?? '', password: auth.password ?? '' };
    return {
      onAuth: () => credentials,
      // Refused credentials are final for this attempt: do not let isomorphic-git ask again.
      onAuthFailure: () => ({ cancel: true }),
    };
  }

  /** Runs a remote call with a timeout and turns its failure into a GitRemoteError of a known kind. */
  private async remote<T>(what: string, run: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new GitRemoteError('unreachable', `${what} ${this.location} timed out after ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    });
    try {
      return await Promise.race([run(), timeout]);
    } catch (error) {
      throw classify(error, `${what} ${this.location}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

function classify(error: unknown, what: string): GitRemoteError {
  if (error instanceof GitRemoteError) return error;
  const e = error as { code?: string; message?: string; data?: { statusCode?: number; statusMessage?: string; reason?: string } };
  const status = e.data?.statusCode;
  if (e.code === 'UserCanceledError' || status === 401 || status === 403) {
    return new GitRemoteError('auth', `${what}: the remote refused the credentials${status ? ` (HTTP ${status})` : ''}`, { cause: error });
  }
  if (e.code === 'PushRejectedError' || e.code === 'GitPushError') {
    return new GitRemoteError('rejected', `${what}: rejected (${e.data?.reason ?? e.message})`, { cause: error });
  }
  if (e.code === 'HttpError' && status !== undefined && status >= 500) {
    return new GitRemoteError('unreachable', `${what}: HTTP ${status} ${e.data?.statusMessage ?? ''}`.trim(), { cause: error });
  }
  if (e.code === 'HttpError' && status === 404) {
    return new GitRemoteError('other', `${what}: repository not found (HTTP 404)`, { cause: error });
  }
  if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
    return new GitRemoteError('unreachable', `${what}: ${e.message ?? e.code}`, { cause: error });
  }
  return new GitRemoteError('other', `${what}: ${e.message ?? String(error)}`, { cause: error });
}
