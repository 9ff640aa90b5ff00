import type { EncodedObject } from './git-objects.js';

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
 * The remote half of an engine: moves a branch and its objects between the local git directory (a
 * clone, GitDirectory, the same for every engine) and the remote. isomorphic-git implements it for
 * http(s), nodegit (libgit2) for http(s) and SSH; a local repository written in place has none.
 */
export interface GitRemote {
  /** The remote as logs and errors name it, never containing credentials. */
  readonly location: string;
  /** The URL the clone records as its origin: without credentials. */
  readonly url: string;
  /** Called after the local git directory is opened, before the first fetch. */
  open?(): Promise<void>;
  /** Brings the remote branch's objects into the local directory and returns its head (undefined: no such branch). */
  fetch(branch: string): Promise<string | undefined>;
  /**
   * Pushes `newOid` to the branch, only if the remote branch is at `oldOid` (undefined: it must not
   * exist): a branch moved, rewritten or deleted meanwhile is never overwritten or created again from
   * our copy. Throws GitRemoteError ('rejected' when the remote is not at `oldOid`).
   */
  push(branch: string, oldOid: string | undefined, newOid: string): Promise<void>;
  /**
   * Optional: pushes `newOid` sending exactly `objects` (everything the remote lacks), with `oldOid` as
   * the expected remote head (undefined: no branch yet). Same errors as `push`. Remotes without it get
   * `push`, which finds the objects itself.
   */
  pushObjects?(branch: string, oldOid: string | undefined, newOid: string, objects: readonly EncodedObject[]): Promise<void>;
  /** Releases connections kept open between operations (keep-alive HTTP, an SSH session). */
  close(): Promise<void>;
}
