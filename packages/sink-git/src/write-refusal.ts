import { grError, isGitopsReverserError, type GitopsReverserError, type ResourceIdentity } from '@gitops-reverser/contract';
import { GitErrorCodes } from './git-error-codes.js';
import { MAX_ALIAS_COUNT } from './yaml-syntax.js';

/**
 * One object's write that a person's file stops (ADR 0039): its document cannot be read or edited,
 * or its file cannot be created. Only that object is left unwritten; the rest of the commit goes on.
 * The item is reported `rejected` (the kernel dead-letters the change with this text, the partition
 * goes on), nothing is removed, and the sink is degraded until the object is written.
 */
export interface WriteRefusal {
  readonly code: string;
  /** The file that stops it (repository path). */
  readonly path: string;
  /** `CODE: message` and the fix, as the kernel logs and dead-letters it. */
  readonly reason: string;
}

const REFUSAL_CODES: ReadonlySet<string> = new Set([GitErrorCodes.FILE_UNREADABLE, GitErrorCodes.FILE_UNEDITABLE, GitErrorCodes.PATH_BLOCKED, GitErrorCodes.SOPS_FILE_SHARED]);

/** What every refusal says about getting the object written once the file is fixed. */
const AFTERWARDS =
  "the refused change goes to the bus's dead-letter place where it has one; once the file changes (fixed or removed) the sink asks for a fresh snapshot of the target, which writes the object";

export function objectName(identity: ResourceIdentity): string {
  return `${identity.kind} ${identity.namespace ? `${identity.namespace}/` : ''}${identity.name}`;
}

export function unreadableFile(identity: ResourceIdentity, path: string, layoutPath: string): GitopsReverserError {
  return grError(
    GitErrorCodes.FILE_UNREADABLE,
    `${objectName(identity)} was not written: ${path} holds it in a document that cannot be read (a YAML syntax error, an alias to no anchor, or aliases used more than ${MAX_ALIAS_COUNT} times)`,
    {
      fix: `fix the YAML of that document in ${path}${path === layoutPath ? '' : `, or remove the document (the object is then written at ${layoutPath})`}; ${AFTERWARDS}`,
      details: { path, object: objectName(identity) },
    },
  );
}

export function uneditableDocument(identity: ResourceIdentity, path: string, layoutPath: string, why: string): GitopsReverserError {
  return grError(GitErrorCodes.FILE_UNEDITABLE, `${objectName(identity)} was not written: its document in ${path} could not be changed to hold it (${why})`, {
    fix: `rewrite that document of ${path} in plain block style${path === layoutPath ? '' : `, or remove it (the object is then written at ${layoutPath})`}, and report the shape as a bug; ${AFTERWARDS}`,
    details: { path, object: objectName(identity) },
  });
}

export function sharedSopsFile(identity: ResourceIdentity, path: string, layoutPath: string): GitopsReverserError {
  return grError(
    GitErrorCodes.SOPS_FILE_SHARED,
    `${objectName(identity)} was not written: ${path} is a SOPS file of several documents, one of them this object's; sops encrypts such a file as a whole (one MAC over every document), so changing or removing one document would lose the others or break their decryption (nothing in it was changed)`,
    {
      fix: `give each object a SOPS file of its own: decrypt ${path} (sops -d), split it into one file per document (${layoutPath} is this object's layout path), encrypt each (sops -e -i) and remove ${path}; ${AFTERWARDS}`,
      details: { path, object: objectName(identity) },
    },
  );
}

export function sopsFileTaken(identity: ResourceIdentity, path: string): GitopsReverserError {
  return grError(
    GitErrorCodes.SOPS_FILE_SHARED,
    `${objectName(identity)} was not written: its file ${path} is a SOPS file that holds other documents; sops encrypts a file as a whole (one MAC over every document), so adding a document would break their decryption (nothing in it was changed)`,
    { fix: `move ${path} elsewhere (it holds no document of this object), so this object gets it; ${AFTERWARDS}`, details: { path, object: objectName(identity) } },
  );
}

export function blockedPath(identity: ResourceIdentity, path: string, blocker: string, blockerIsFolder: boolean): GitopsReverserError {
  const what = blockerIsFolder ? `${blocker} is a folder` : `${blocker} is a file, and the path needs a folder there`;
  return grError(GitErrorCodes.PATH_BLOCKED, `${objectName(identity)} was not written: its file ${path} cannot be created, ${what} (nothing in it was changed)`, {
    fix: `move or remove ${blocker}, or change the target's layout; ${AFTERWARDS}`,
    details: { path, blocker, object: objectName(identity) },
  });
}

/** The refusal an error thrown while placing one object stands for; undefined for any other error (the batch is retried). */
export function refusalOf(error: unknown): WriteRefusal | undefined {
  if (!isGitopsReverserError(error) || !REFUSAL_CODES.has(error.code)) return undefined;
  const path = (error.details as { blocker?: unknown; path?: unknown }).blocker ?? (error.details as { path?: unknown }).path;
  return { code: error.code, path: typeof path === 'string' ? path : '', reason: error.describe() };
}
