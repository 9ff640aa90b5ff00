import * as fs from 'node:fs';
import type { HttpClient } from 'isomorphic-git';
import type { GitDirectory } from './git-directory.js';
import type { EncodedObject } from './git-objects.js';
import { isomorphicGit, isomorphicGitHttp } from './isomorphic-git-module.js';
import { GitRemoteError, type GitRemote } from './git-remote.js';
import type { ProviderAuth } from './provider-config.js';
import { ReceivePackClient } from './receive-pack.js';
import { credentialsOf, repoLocationOf, withQuery } from './repo-location.js';

/** How git writes "no commit" (a branch that does not exist) in ref updates. */
const ZERO_OID = '0000000000000000000000000000000000000000';

export interface IsomorphicGitRemoteOptions {
  /** The remote's http(s) URL (credentials in it move to `auth`). */
  readonly url: string;
  readonly auth?: ProviderAuth;
  /** The clone this remote fetches into and pushes from. */
  readonly directory: GitDirectory;
  readonly timeoutMs: number;
}

/**
 * The isomorphic-git engine's remote half: pure JavaScript, http(s) only (no SSH, no file://). It
 * fetches with isomorphic-git, and pushes the objects the writer made in one receive-pack request
 * (ADR 0008), or with isomorphic-git's push when they are not known.
 */
export class IsomorphicGitRemote implements GitRemote {
  readonly location: string;
  /** The remote URL without user or password: what is stored in the clone and sent to isomorphic-git. */
  readonly url: string;
  private readonly auth: ProviderAuth | undefined;
  /** The URL's query string (`?private_token=...`): added to every request, never given to isomorphic-git (its errors and refs never see it). */
  private readonly query: string;
  /** isomorphic-git's HTTP client, adding `query` to each request URL it builds. */
  private readonly http: HttpClient;
  private readonly directory: GitDirectory;
  private receivePack: ReceivePackClient | undefined;

  constructor(private readonly options: IsomorphicGitRemoteOptions) {
    this.location = repoLocationOf(options.url);
    this.directory = options.directory;
    // Credentials written into the URL move to auth: they are never stored in the clone's .git/config.
    const credentials = credentialsOf(options.url, options.auth);
    this.url = credentials.url;
    this.auth = credentials.auth;
    this.query = credentials.query;
    const query = this.query;
    // isomorphic-git's client is imported with the first request (docs/adr/0041).
    this.http = { request: async (request) => (await isomorphicGitHttp()).request(query === '' ? request : { ...request, url: withQuery(request.url, query) }) };
  }

  async fetch(branch: string): Promise<string | undefined> {
    const url = this.url;
    const git = await isomorphicGit();
    const remoteHead = await this.remote('reading the remote branch', async () => {
      const info = await git.getRemoteInfo2({ http: this.http, url, protocolVersion: 1, ...this.authCallbacks() });
      return info.refs?.find((ref) => ref.ref === `refs/heads/${branch}`)?.oid;
    });
    if (remoteHead === undefined || (await this.directory.hasObject(remoteHead))) return remoteHead;
    return await this.remote('fetching', async () => {
      const result = await git.fetch({
        fs,
        http: this.http,
        gitdir: this.directory.gitdir,
        url,
        remote: 'origin',
        ref: branch,
        remoteRef: branch,
        singleBranch: true,
        tags: false,
        cache: this.directory.objectCache,
        ...this.authCallbacks(),
      });
      return result.fetchHead ?? remoteHead;
    });
  }

  async push(branch: string, oldOid: string | undefined, newOid: string): Promise<void> {
    const url = this.url;
    const git = await isomorphicGit();
    // The local branch must point at what is pushed: isomorphic-git pushes a ref, not an oid.
    await this.directory.writeBranch(branch, newOid);
    const result = await this.remote('pushing', () =>
      git.push({
        fs,
        http: this.http,
        gitdir: this.directory.gitdir,
        url,
        ref: `refs/heads/${branch}`,
        remoteRef: `refs/heads/${branch}`,
        cache: this.directory.objectCache,
        // The advertised head must be the expected one, and receive-pack gets it as the old value:
        // a branch that moved after the advertisement refuses the update.
        onPrePush: ({ remoteRef }) => {
          if (remoteRef.oid === (oldOid ?? ZERO_OID)) return true;
          throw new GitRemoteError(
            'rejected',
            `pushing ${this.location}: ${branch} is at ${remoteRef.oid === ZERO_OID ? 'nothing (no such branch)' : remoteRef.oid}, not ${oldOid ?? 'nothing'} as last seen`,
          );
        },
        ...this.authCallbacks(),
      }),
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
    const credentials = this.credentials();
    this.receivePack ??= new ReceivePackClient({ url: this.url, query: this.query, timeoutMs: this.options.timeoutMs, ...(credentials ? { credentials } : {}) });
    // The local branch is not written here: the writer moved it to `newOid` when it committed (or
    // replayed), and the objects go from memory, not from the branch (one ref write less per push).
    try {
      await this.receivePack.push(`refs/heads/${branch}`, oldOid, newOid, objects);
    } catch (error) {
      throw error instanceof GitRemoteError ? new GitRemoteError(error.kind, `${error.message.replace(/^pushing/, `pushing ${this.location}`)}`, { cause: error }) : error;
    }
  }

  async close(): Promise<void> {
    this.receivePack?.close();
    this.receivePack = undefined;
  }

  /** User and password to send, from `auth` (a token goes as the password); undefined when none is configured. */
  private credentials(): { username: string; password: string } | undefined {
    const auth = this.auth;
    if (!auth || (auth.username === undefined && auth.password === undefined && auth.token === undefined)) return undefined;
    return auth.token !== undefined ? { username: auth.username ?? 'x-access-token', password: auth.token } : { username: auth.username ?? '', password: auth.password ?? '' };
  }

  private authCallbacks() {
    const credentials = this.credentials();
    if (!credentials) return {};
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
