import { grError } from '@gitops-reverser/contract';
import { type GitDirectory, repositoryError } from './git-directory.js';
import { GitErrorCodes } from './git-error-codes.js';
import { GitRemoteError, type GitRemote } from './git-remote.js';
import { loadNodegit, type NodegitModule, type NodegitRemoteObject, type NodegitRepository } from './nodegit-loader.js';
import type { ProviderAuth } from './provider-config.js';
import { credentialsOf, repoLocationOf } from './repo-location.js';
import type { SshAuthConfig } from './ssh-auth-config.js';
import type { SshGitTransport } from './ssh-transport.js';
import { isSshUrl, parseSshUrl, type SshEndpoint } from './ssh-url.js';

export interface NodegitRemoteOptions {
  /** ssh://, scp-like or http(s) URL. */
  readonly url: string;
  readonly auth?: ProviderAuth;
  readonly ssh?: SshAuthConfig;
  /** The clone this remote fetches into and pushes from. */
  readonly directory: GitDirectory;
  readonly timeoutMs: number;
}

/**
 * The nodegit engine's remote half: libgit2 fetches and pushes, for SSH remotes and as a second engine
 * for http(s) ones. The objects it sends are those the writer stored in the clone (GitDirectory);
 * libgit2 finds them itself. For SSH, libgit2 speaks the git protocol over a host-key-checked ssh2
 * channel (SshGitTransport, ADR 0011).
 */
export class NodegitRemote implements GitRemote {
  readonly location: string;
  readonly url: string;
  private readonly git: NodegitModule;
  private readonly directory: GitDirectory;
  private repo: NodegitRepository | undefined;
  private readonly auth: ProviderAuth | undefined;
  /** For an SSH URL: where to connect and how to log in. */
  private readonly sshTarget: { readonly endpoint: SshEndpoint; readonly auth: SshAuthConfig } | undefined;
  /** Made at the first remote operation: ssh2 is loaded only when an SSH remote is used. */
  private ssh: SshGitTransport | undefined;

  constructor(private readonly options: NodegitRemoteOptions) {
    this.git = loadNodegit();
    this.location = repoLocationOf(options.url);
    this.directory = options.directory;
    if (isSshUrl(options.url)) {
      const endpoint = parseSshUrl(options.url);
      if (!endpoint)
        throw grError(GitErrorCodes.PROVIDER_URL, `${this.location} is not an SSH URL this engine understands`, {
          fix: 'write it as ssh://user@host[:port]/path/repo.git or user@host:path/repo.git (no password)',
        });
      if (!options.ssh) throw grError(GitErrorCodes.AUTH, `${this.location} needs an ssh: block (key and known_hosts)`, { fix: 'set sink.with.providers[].ssh.privateKeyFile and ssh.knownHostsFile' });
      this.sshTarget = { endpoint, auth: options.ssh };
      this.url = options.url;
    } else {
      const credentials = credentialsOf(options.url, options.auth);
      // The descriptor refuses it at load; libgit2 would silently drop it.
      if (credentials.query !== '') {
        throw grError(GitErrorCodes.UNSUPPORTED_URL, `${this.location} has a query string, which the nodegit engine (libgit2) drops from its requests`, {
          fix: 'use engine: isomorphic-git, or move the token to auth: { token }',
        });
      }
      ({ url: this.url, auth: this.auth } = credentials);
    }
  }

  /** libgit2's handle on the clone, which GitDirectory has opened (created when missing). */
  async open(): Promise<void> {
    try {
      this.repo = await this.git.Repository.open(this.directory.gitdir);
    } catch (cause) {
      throw repositoryError(this.directory.gitdir, cause);
    }
  }

  async fetch(branch: string): Promise<string | undefined> {
    return await this.withRemote('fetching', async (remote, callbacks) => {
      await remote.connect(this.git.Enums.DIRECTION.FETCH, callbacks());
      const heads = await remote.referenceList();
      await remote.disconnect();
      const remoteHead = heads
        .find((head) => head.name() === `refs/heads/${branch}`)
        ?.oid()
        .tostrS();
      if (remoteHead === undefined || (await this.directory.hasObject(remoteHead))) return remoteHead;
      // downloadTags 2 = none: only the branch's objects are wanted.
      await remote.fetch([`+refs/heads/${branch}:refs/remotes/origin/${branch}`], { callbacks: callbacks(), downloadTags: 2 }, null);
      return remoteHead;
    });
  }

  async push(branch: string, oldOid: string | undefined, newOid: string): Promise<void> {
    await this.directory.writeBranch(branch, newOid);
    const refusals: string[] = [];
    await this.withRemote('pushing', async (remote, callbacks) => {
      // One connection: the advertisement checked here is the one the upload's update is made against
      // (libgit2 would create a deleted branch again from our copy, and has no expected-old-value option).
      await remote.connect(this.git.Enums.DIRECTION.PUSH, callbacks());
      try {
        const advertised = (await remote.referenceList())
          .find((head) => head.name() === `refs/heads/${branch}`)
          ?.oid()
          .tostrS();
        if (advertised !== oldOid) {
          throw new GitRemoteError('rejected', `pushing ${this.location}: ${branch} is at ${advertised ?? 'nothing (no such branch)'}, not ${oldOid ?? 'nothing'} as last seen`);
        }
        await remote.upload([`refs/heads/${branch}:refs/heads/${branch}`], {
          callbacks: {
            ...callbacks(),
            // The server's verdict per ref: a message means refused (e.g. "fetch first", a hook).
            // 0 = go on: without a return value libgit2's upload counts the callback as failed.
            pushUpdateReference: (refname: string, status: string | null) => {
              if (status) refusals.push(`${refname}: ${status}`);
              return 0;
            },
          },
        });
      } finally {
        await remote.disconnect();
      }
    });
    if (refusals.length > 0)
      throw new GitRemoteError(
        /fast-forward|fetch first|stale|failed to (update|lock)|cannot lock/i.test(refusals.join(' ')) ? 'rejected' : 'other',
        `pushing ${this.location}: the remote refused the push (${refusals.join('; ')})`,
      );
  }

  async close(): Promise<void> {
    this.ssh?.close();
  }

  /** The SSH transport for an SSH URL, loading ssh2 on first use (planning and validating targets never load it). */
  private async sshTransport(): Promise<SshGitTransport | undefined> {
    if (!this.sshTarget) return undefined;
    if (!this.ssh) {
      const { SshGitTransport } = await import('./ssh-transport.js');
      this.ssh ??= new SshGitTransport(this.sshTarget.endpoint, this.sshTarget.auth, this.options.timeoutMs, this.location);
    }
    return this.ssh;
  }

  private repository(): NodegitRepository {
    if (!this.repo) throw new Error('the repository is not open');
    return this.repo;
  }

  /** Runs a remote operation with credentials, a timeout, and its failure turned into a GitRemoteError. */
  private async withRemote<T>(what: string, run: (remote: NodegitRemoteObject, callbacks: () => object) => Promise<T>): Promise<T> {
    const auth = this.auth;
    const refused = { credentials: false };
    // Fresh callbacks per libgit2 call: each call may ask once; a second ask within one call means
    // the server refused what was given (libgit2 would otherwise ask forever).
    const callbacks = () => {
      let asked = 0;
      return {
        credentials: () => {
          asked += 1;
          if (asked > 1 || !auth) {
            refused.credentials = true;
            return new Error('credentials refused');
          }
          const username = auth.token !== undefined ? (auth.username ?? 'x-access-token') : (auth.username ?? '');
          return this.git.Cred.userpassPlaintextNew(username, auth.token ?? auth.password ?? '');
        },
      };
    };
    const operation = async (url: string): Promise<T> => {
      const remote = await this.git.Remote.createAnonymous(this.repository(), url);
      return await run(remote, callbacks);
    };
    const ssh = await this.sshTransport();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new GitRemoteError('unreachable', `${what} ${this.location} timed out after ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    });
    try {
      const work = ssh ? ssh.withGitUrl(what, operation) : operation(this.url);
      return await Promise.race([work, timeout]);
    } catch (error) {
      throw classify(error, `${what} ${this.location}`, refused.credentials, ssh?.remoteMessage);
    } finally {
      clearTimeout(timer);
    }
  }
}

function classify(error: unknown, what: string, credentialsRefused: boolean, remoteMessage: string | undefined): GitRemoteError {
  if (error instanceof GitRemoteError) return error;
  const message = (error as Error)?.message ?? String(error);
  const detail = remoteMessage ? `${message} (server: ${remoteMessage.split('\n')[0]})` : message;
  if (credentialsRefused || /authentication|401|403|credentials/i.test(message)) return new GitRemoteError('auth', `${what}: the remote refused the credentials`, { cause: error });
  if (/non-fastforward|not present locally|fetch first|stale/i.test(message)) return new GitRemoteError('rejected', `${what}: rejected (${message})`, { cause: error });
  if (/failed to (connect|resolve|send)|connection|timed out|unexpected eof|early eof|ECONN/i.test(message)) return new GitRemoteError('unreachable', `${what}: ${detail}`, { cause: error });
  if (/\b404\b|not found|does not appear to be a git repository/i.test(detail)) return new GitRemoteError('other', `${what}: repository not found (${detail})`, { cause: error });
  return new GitRemoteError('other', `${what}: ${detail}`, { cause: error });
}
