import * as fs from 'node:fs';
import { join } from 'node:path';
import { grError } from '@gitops-reverser/contract';
import { GitRemoteError, type GitEngine } from './git-engine.js';
import { GitErrorCodes } from './git-error-codes.js';
import { parseCommit, parseTree, type CommitFields, type EncodedObject, type TreeEntry } from './git-objects.js';
import { loadNodegit, type NodegitModule, type NodegitRemote, type NodegitRepository } from './nodegit-loader.js';
import { ObjectStoreState, storeObjects, worktreeOnBranch, writeRefFile } from './object-files.js';
import { credentialsOf, prepareGitDir, repoLocationOf } from './repo-location.js';
import type { ProviderAuth } from './provider-config.js';
import type { SshAuthConfig } from './ssh-auth-config.js';
import type { SshGitTransport } from './ssh-transport.js';
import { isSshUrl, parseSshUrl, type SshEndpoint } from './ssh-url.js';

/** libgit2's object type numbers. */
const OBJECT_TYPES: Record<number, string> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };

export interface NodegitEngineOptions {
  /** ssh://, scp-like or http(s) URL; undefined for a local repository written in place. */
  readonly url?: string;
  readonly auth?: ProviderAuth;
  readonly ssh?: SshAuthConfig;
  readonly gitdir: string;
  readonly initialBranch: string;
  readonly timeoutMs: number;
}

/**
 * nodegit (libgit2): the engine for SSH remotes, and a second engine for local and http(s) ones.
 * The writer's objects are stored in git's own file formats (as with isomorphic-git: they are built
 * and hashed by the writer); libgit2 reads them, moves refs, fetches and pushes. For SSH, libgit2
 * speaks the git protocol over a host-key-checked ssh2 channel (SshGitTransport).
 */
export class NodegitEngine implements GitEngine {
  readonly name = 'nodegit';
  readonly hasRemote: boolean;
  readonly location: string;
  private readonly git: NodegitModule;
  private repo: NodegitRepository | undefined;
  private gitdir: string;
  /** Known object folders and spare files, for the git directory in use. */
  private objectStore: ObjectStoreState | undefined;
  private readonly url: string | undefined;
  private readonly auth: ProviderAuth | undefined;
  /** For an SSH URL: where to connect and how to log in. */
  private readonly sshTarget: { readonly endpoint: SshEndpoint; readonly auth: SshAuthConfig } | undefined;
  /** Made at the first remote operation: ssh2 is loaded only when an SSH remote is used. */
  private ssh: SshGitTransport | undefined;

  constructor(private readonly options: NodegitEngineOptions) {
    this.git = loadNodegit();
    this.hasRemote = options.url !== undefined;
    this.location = options.url ? repoLocationOf(options.url) : options.gitdir;
    this.gitdir = options.gitdir;
    if (options.url && isSshUrl(options.url)) {
      const endpoint = parseSshUrl(options.url);
      if (!endpoint)
        throw grError(GitErrorCodes.PROVIDER_URL, `${this.location} is not an SSH URL this engine understands`, {
          fix: 'write it as ssh://user@host[:port]/path/repo.git or user@host:path/repo.git (no password)',
        });
      if (!options.ssh) throw grError(GitErrorCodes.AUTH, `${this.location} needs an ssh: block (key and known_hosts)`, { fix: 'set sink.with.providers[].ssh.privateKeyFile and ssh.knownHostsFile' });
      this.sshTarget = { endpoint, auth: options.ssh };
      this.url = options.url;
    } else if (options.url) {
      ({ url: this.url, auth: this.auth } = credentialsOf(options.url, options.auth));
    }
  }

  async open(): Promise<void> {
    try {
      const prepared = prepareGitDir(this.gitdir, this.url !== undefined);
      this.gitdir = prepared.gitdir;
      if (prepared.create) {
        await this.git.Repository.init(this.gitdir, 1);
        fs.writeFileSync(join(this.gitdir, 'HEAD'), `ref: refs/heads/${this.options.initialBranch}\n`);
      }
      this.repo = await this.git.Repository.open(this.gitdir);
      if (this.url) await this.checkCloneOwner(this.repo);
    } catch (cause) {
      if ((cause as { code?: string }).code === GitErrorCodes.REPO) throw cause;
      throw grError(GitErrorCodes.REPO, `cannot open or create the repository at ${this.gitdir}: ${(cause as Error).message}`, {
        fix: 'check that the folder is writable and is a git repository (or does not exist yet)',
        cause,
      });
    }
  }

  /** A clone belongs to one remote, recorded as remote.origin.url without credentials (as the isomorphic-git engine does). */
  private async checkCloneOwner(repo: NodegitRepository): Promise<void> {
    const config = await repo.config();
    const stored = await config.getStringBuf('remote.origin.url').catch(() => undefined);
    if (stored !== undefined && repoLocationOf(stored) !== this.location) {
      throw grError(GitErrorCodes.REPO, `the clone at ${this.gitdir} belongs to ${repoLocationOf(stored)}, not ${this.location}`, {
        fix: 'remove that folder (it is a cache) or set sink.with.cacheDir to a folder of its own',
      });
    }
    if (stored === undefined) await config.setString('remote.origin.url', this.location);
  }

  async checkedOutWorktree(branch: string): Promise<string | undefined> {
    return worktreeOnBranch(this.gitdir, branch);
  }

  async writeObjects(objects: readonly EncodedObject[]): Promise<void> {
    // The writer's objects go in as git's own files; the engine reads them like any git wrote.
    this.objectStore = ObjectStoreState.for(this.objectStore, this.gitdir);
    await storeObjects(this.gitdir, objects, this.objectStore);
  }

  private async read(oid: string, type: string): Promise<Buffer> {
    const odb = await this.repository().odb();
    const object = await odb.read(this.git.Oid.fromString(oid));
    const actual = OBJECT_TYPES[object.type()];
    if (actual !== type) throw new Error(`object ${oid} is a ${actual}, not a ${type}`);
    return object.data().toBuffer(object.size());
  }

  async hasObject(oid: string): Promise<boolean> {
    try {
      const odb = await this.repository().odb();
      await odb.read(this.git.Oid.fromString(oid));
      return true;
    } catch {
      return false;
    }
  }

  async readTree(oid: string): Promise<TreeEntry[]> {
    return parseTree(await this.read(oid, 'tree'));
  }

  async readBlob(oid: string): Promise<Uint8Array> {
    return await this.read(oid, 'blob');
  }

  async readCommit(oid: string): Promise<CommitFields> {
    return parseCommit(await this.read(oid, 'commit'));
  }

  async readBranch(branch: string): Promise<string | undefined> {
    return this.readRef(`refs/heads/${branch}`);
  }

  async writeBranch(branch: string, oid: string): Promise<void> {
    writeRefFile(this.gitdir, `refs/heads/${branch}`, oid);
  }

  async readRef(ref: string): Promise<string | undefined> {
    try {
      return (await this.git.Reference.nameToId(this.repository(), ref)).tostrS();
    } catch {
      return undefined;
    }
  }

  async writeRef(ref: string, oid: string): Promise<void> {
    writeRefFile(this.gitdir, ref, oid);
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
      if (remoteHead === undefined || (await this.hasObject(remoteHead))) return remoteHead;
      // downloadTags 2 = none: only the branch's objects are wanted.
      await remote.fetch([`+refs/heads/${branch}:refs/remotes/origin/${branch}`], { callbacks: callbacks(), downloadTags: 2 }, null);
      return remoteHead;
    });
  }

  async push(branch: string, oid: string): Promise<void> {
    await this.writeBranch(branch, oid);
    const refusals: string[] = [];
    await this.withRemote('pushing', async (remote, callbacks) => {
      await remote.push([`refs/heads/${branch}:refs/heads/${branch}`], {
        callbacks: {
          ...callbacks(),
          // The server's verdict per ref: a message means refused (e.g. "fetch first", a hook).
          pushUpdateReference: (refname: string, status: string | null) => {
            if (status) refusals.push(`${refname}: ${status}`);
          },
        },
      });
    });
    if (refusals.length > 0)
      throw new GitRemoteError(
        /fast-forward|fetch first|stale|failed to (update|lock)|cannot lock/i.test(refusals.join(' ')) ? 'rejected' : 'other',
        `pushing ${this.location}: the remote refused the push (${refusals.join('; ')})`,
      );
  }

  async close(): Promise<void> {
    this.ssh?.close();
    await this.objectStore?.close();
    this.objectStore = undefined;
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
  private async withRemote<T>(what: string, run: (remote: NodegitRemote, callbacks: () => object) => Promise<T>): Promise<T> {
    if (!this.url) throw new Error('no remote: this repository is written in place');
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
