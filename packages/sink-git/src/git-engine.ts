import type { CommitFields, EncodedObject, TreeEntry } from './git-objects.js';

/** Why a remote operation failed, so the writer can decide: rebuild and retry, or wait. */
export type RemoteFailureKind = 'auth' | 'unreachable' | 'rejected' | 'other';

export class GitRemoteError extends Error {
  /** A more precise error code than the kind's (e.g. GR_ERR_GIT_HOST_KEY), and its fix. */
  readonly code: string | undefined;
  readonly fix: string | undefined;

  constructor(
    readonly kind: RemoteFailureKind,
    message: string,
    options?: { cause?: unknown; code?: string; fix?: string },
  ) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'GitRemoteError';
    this.code = options?.code;
    this.fix = options?.fix;
  }
}

/**
 * What the branch writer needs from git. The writer builds objects itself and only asks the engine
 * to store and read them, move a branch, fetch and push. isomorphic-git is the default engine;
 * another engine (nodegit, for SSH) implements the same interface without touching the writer.
 */
export interface GitEngine {
  readonly name: string;
  /** True when there is a remote to fetch from and push to; false for a local repository written in place. */
  readonly hasRemote: boolean;
  /** A description for logs and errors, never containing credentials. */
  readonly location: string;
  /** Opens the local repository, creating it (bare) when missing. */
  open(): Promise<void>;
  writeObjects(objects: readonly EncodedObject[]): Promise<void>;
  hasObject(oid: string): Promise<boolean>;
  readTree(oid: string): Promise<TreeEntry[]>;
  readBlob(oid: string): Promise<Uint8Array>;
  readCommit(oid: string): Promise<CommitFields>;
  /** The local branch head, or undefined when the branch does not exist yet. */
  readBranch(branch: string): Promise<string | undefined>;
  writeBranch(branch: string, oid: string): Promise<void>;
  /** Any ref of the local repository (e.g. `refs/gitops-reverser/pushed/main`); undefined when missing. */
  readRef(ref: string): Promise<string | undefined>;
  writeRef(ref: string, oid: string): Promise<void>;
  /** Remote only: brings the remote branch's objects in and returns its head (undefined: no such branch). */
  fetch(branch: string): Promise<string | undefined>;
  /** Remote only: pushes `oid` to the branch; throws GitRemoteError ('rejected' when the remote moved). */
  push(branch: string, oid: string): Promise<void>;
  /**
   * Remote only, optional: pushes `newOid` sending exactly `objects` (everything the remote lacks),
   * with `oldOid` as the expected remote head (undefined: no branch yet). Same errors as `push`.
   * Engines without it get `push`, which finds the objects itself.
   */
  pushObjects?(branch: string, oldOid: string | undefined, newOid: string, objects: readonly EncodedObject[]): Promise<void>;
  /** Local repositories: the working tree path when `branch` is checked out there (it will not follow our commits). */
  checkedOutWorktree?(branch: string): Promise<string | undefined>;
  /** Releases connections kept open between operations (keep-alive HTTP, an SSH session). */
  close?(): Promise<void>;
}
