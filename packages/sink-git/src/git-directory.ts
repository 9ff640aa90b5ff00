import * as fs from 'node:fs';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { grError } from '@gitops-reverser/contract';
import { GitErrorCodes } from './git-error-codes.js';
import { initBareRepository } from './git-init.js';
import { isTreeMode, TREE_MODE, type CommitFields, type EncodedObject, type TreeEntry } from './git-objects.js';
import { isomorphicGit } from './isomorphic-git-module.js';
import { LOOSE_UNKNOWN, looseObject, looseObjectState, looseRef } from './loose-reads.js';
import { ObjectStoreState, storeObjects, worktreeOnBranch, writeRefFile } from './object-files.js';
import { PackReads } from './pack-reads.js';
import { repoLocationOf } from './repo-location.js';

/** The remote a clone belongs to, as the clone records it. */
export interface CloneOrigin {
  /** The remote URL without user or password: stored as `remote.origin.url`. */
  readonly url: string;
  /** The remote as logs name it (repoLocationOf): what the stored URL is compared with. */
  readonly location: string;
}

/**
 * The local half of a repository, the same for every engine: the git directory of a local repository
 * written in place, or of the clone of a remote. Objects the writer builds go in as git's own files
 * (object-files.ts, ADR 0005); objects, refs and config are read with isomorphic-git's reader, which
 * reads whatever git, libgit2 or this sink wrote; refs move the way git moves them. An engine adds
 * only the remote half (fetch, push) beside it. A ref or object that is a plain loose file is read
 * here directly, and a new repository is created here, so isomorphic-git is loaded only when a pack,
 * packed refs or a read of objects is needed (ADR 0041: it costs ~8 MB of resident memory).
 */
export class GitDirectory {
  /**
   * isomorphic-git's parsed-object cache for this directory (packfile indexes are costly to load).
   * The isomorphic-git remote passes it to fetch and push, so each packfile is loaded once.
   */
  readonly objectCache = {};
  private resolved: string | undefined;
  /** Known object folders and spare files, for the git directory in use. */
  private objectStore: ObjectStoreState | undefined;
  /** Blobs read from packs without isomorphic-git, for the git directory in use. */
  private packs: PackReads | undefined;

  /** `path`: a repository folder (its `.git` is used when it has one) or a bare git directory. */
  constructor(readonly path: string) {}

  /** The git directory: `path/.git` for a repository with a working tree, else `path`. */
  get gitdir(): string {
    return this.resolved ?? gitdirOf(this.path);
  }

  /** True when a repository exists at `path`. Creates nothing: for reads that must not change the disk. */
  exists(): boolean {
    const gitdir = gitdirOf(this.path);
    if (!existsSync(join(gitdir, 'HEAD'))) return false;
    this.resolved = gitdir;
    return true;
  }

  /**
   * Opens the repository, creating it (bare, `initialBranch` checked out) when missing. For the clone
   * of a remote (`origin`), a new folder is private (0700: it holds fetched content), a clone that
   * belongs to another remote is refused, and the remote is recorded without credentials.
   */
  async open(options: { readonly initialBranch: string; readonly origin?: CloneOrigin }): Promise<void> {
    const { initialBranch, origin } = options;
    try {
      const { gitdir, create } = prepareGitDir(this.path, origin !== undefined);
      this.resolved = gitdir;
      if (create) initBareRepository(gitdir, initialBranch);
      if (origin) {
        const git = await isomorphicGit();
        const stored = await git.getConfig({ fs, gitdir, path: 'remote.origin.url' });
        if (typeof stored === 'string' && repoLocationOf(stored) !== origin.location) {
          throw grError(GitErrorCodes.REPO, `the clone at ${gitdir} belongs to ${repoLocationOf(stored)}, not ${origin.location}`, {
            fix: 'remove that folder (it is a cache) or set sink.with.cacheDir to a folder of its own',
          });
        }
        // isomorphic-git fetches through a named remote with a refspec; stored without credentials.
        await git.addRemote({ fs, gitdir, remote: 'origin', url: origin.url, force: true });
      }
    } catch (cause) {
      if ((cause as { code?: string }).code === GitErrorCodes.REPO) throw cause;
      throw repositoryError(this.gitdir, cause);
    }
  }

  /** For a repository with a working tree: that tree when `branch` is checked out there (it will not follow our commits). */
  checkedOutWorktree(branch: string): string | undefined {
    return worktreeOnBranch(this.gitdir, branch);
  }

  async writeObjects(objects: readonly EncodedObject[]): Promise<void> {
    this.objectStore = ObjectStoreState.for(this.objectStore, this.gitdir);
    await storeObjects(this.gitdir, objects, this.objectStore);
  }

  async hasObject(oid: string): Promise<boolean> {
    const loose = looseObjectState(this.gitdir, oid);
    if (loose !== LOOSE_UNKNOWN) return loose;
    if (this.packReads().has(oid) === true) return true;
    const git = await isomorphicGit();
    try {
      await git.readObject({ fs, gitdir: this.gitdir, oid, format: 'deflated', cache: this.objectCache });
      return true;
    } catch {
      return false;
    }
  }

  async readTree(oid: string): Promise<TreeEntry[]> {
    const git = await isomorphicGit();
    const { tree } = await git.readTree({ fs, gitdir: this.gitdir, oid, cache: this.objectCache });
    return tree.map((entry) => ({ mode: isTreeMode(entry.mode) ? TREE_MODE : entry.mode, name: entry.path, oid: entry.oid }));
  }

  async readBlob(oid: string): Promise<Uint8Array> {
    const loose = looseObject(this.gitdir, oid, 'blob');
    if (loose !== LOOSE_UNKNOWN) return loose;
    const packed = this.packReads().blob(oid);
    if (packed !== LOOSE_UNKNOWN) return packed;
    const git = await isomorphicGit();
    return (await git.readBlob({ fs, gitdir: this.gitdir, oid, cache: this.objectCache })).blob;
  }

  async readCommit(oid: string): Promise<CommitFields> {
    const git = await isomorphicGit();
    const { commit } = await git.readCommit({ fs, gitdir: this.gitdir, oid, cache: this.objectCache });
    return {
      tree: commit.tree,
      parents: commit.parent,
      author: { name: commit.author.name, email: commit.author.email, timestamp: commit.author.timestamp },
      committer: { name: commit.committer.name, email: commit.committer.email, timestamp: commit.committer.timestamp },
      message: commit.message,
    };
  }

  /** The local branch head, or undefined when the branch does not exist yet. */
  async readBranch(branch: string): Promise<string | undefined> {
    return this.readRef(`refs/heads/${branch}`);
  }

  async writeBranch(branch: string, oid: string): Promise<void> {
    writeRefFile(this.gitdir, `refs/heads/${branch}`, oid, this.objectStore);
  }

  /** Any ref (e.g. `refs/gitops-reverser/pushed/main`, loose or packed); undefined when missing. */
  async readRef(ref: string): Promise<string | undefined> {
    const loose = looseRef(this.gitdir, ref);
    if (loose !== LOOSE_UNKNOWN) return loose;
    const git = await isomorphicGit();
    try {
      return await git.resolveRef({ fs, gitdir: this.gitdir, ref });
    } catch {
      return undefined;
    }
  }

  async writeRef(ref: string, oid: string): Promise<void> {
    writeRefFile(this.gitdir, ref, oid);
  }

  /** Removes a ref (loose or packed); nothing happens when it does not exist. */
  async deleteRef(ref: string): Promise<void> {
    if ((await this.readRef(ref)) === undefined) return;
    const git = await isomorphicGit();
    await git.deleteRef({ fs, gitdir: this.gitdir, ref });
  }

  private packReads(): PackReads {
    if (this.packs?.gitdir !== this.gitdir) this.packs = new PackReads(this.gitdir);
    return this.packs;
  }

  /** Removes the spare files prepared for large objects; the directory can be opened and used again. */
  async close(): Promise<void> {
    await this.objectStore?.close();
    this.objectStore = undefined;
  }
}

/** The error of a repository that cannot be opened or created, with what to check. */
export function repositoryError(gitdir: string, cause: unknown): Error {
  return grError(GitErrorCodes.REPO, `cannot open or create the repository at ${gitdir}: ${(cause as Error).message}`, {
    fix: 'check that the folder is writable and is a git repository (or does not exist yet)',
    cause,
  });
}

function gitdirOf(path: string): string {
  return existsSync(join(path, '.git', 'HEAD')) ? join(path, '.git') : path;
}

/**
 * Where a repository's git data is (`path/.git` for a repository with a working tree), and whether it
 * must be created there. A folder with files that is not a repository is someone's data: it is never
 * turned into one. A new folder for a clone of a remote is private (0700): it may hold fetched content.
 */
function prepareGitDir(path: string, isClone: boolean): { gitdir: string; create: boolean } {
  const gitdir = gitdirOf(path);
  if (existsSync(join(gitdir, 'HEAD'))) return { gitdir, create: false };
  if (!isClone && existsSync(gitdir) && readdirSync(gitdir).length > 0) {
    throw grError(GitErrorCodes.REPO, `${gitdir} is not a git repository and not empty: refusing to turn it into one`, {
      fix: 'point the provider url at a git repository, an empty folder or a path that does not exist yet',
    });
  }
  makeFolders(gitdir, isClone ? 0o700 : undefined);
  return { gitdir, create: true };
}

/**
 * `mkdir -p`, one level at a time. Node's recursive mkdirSync spins forever on a path under a
 * folder where creating is refused with ENOENT (`/proc/nope/repo`): here that is an error naming it.
 */
function makeFolders(path: string, mode: number | undefined): void {
  const missing: string[] = [];
  for (let at = resolve(path); !existsSync(at); at = dirname(at)) {
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const folder of missing) {
    try {
      mkdirSync(folder, mode === undefined ? {} : { mode });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw grError(GitErrorCodes.REPO, `cannot create ${folder} for the repository ${path}: ${(error as Error).message}`, {
        fix: 'point the provider url (or cacheDir) at a folder this process may create and write',
      });
    }
  }
}
