import { createRequire } from 'node:module';
import { grError } from '@gitops-reverser/contract';
import { GitErrorCodes } from './git-error-codes.js';

/** The nodegit release this engine is written and tested against (libgit2 0.28, libssh2 1.9). */
export const NODEGIT_VERSION = '0.27.0';

/** What it takes to install nodegit where no prebuilt binary exists (it compiles libgit2, ~4-6 min). */
export const NODEGIT_INSTALL_FIX =
  `install the system packages (Debian/Ubuntu: apt-get install -y build-essential python3 libkrb5-dev libssl-dev), ` +
  `allow nodegit's install script (npm 11: "allowScripts": { "nodegit": true } in your package.json, or npm install-scripts approve nodegit), ` +
  `then run npm install nodegit@${NODEGIT_VERSION}`;

/** The parts of nodegit's API the nodegit remote uses (nodegit ships no types). */
export interface NodegitOid {
  tostrS(): string;
}
/** libgit2's handle on a repository: the remote operations run on it. */
export type NodegitRepository = object;
/** libgit2's remote object (an anonymous remote per operation). */
export interface NodegitRemoteObject {
  connect(direction: number, callbacks: object): Promise<void>;
  referenceList(): Promise<{ name(): string; oid(): NodegitOid }[]>;
  disconnect(): Promise<void>;
  fetch(refspecs: string[], options: object, message: string | null): Promise<void>;
  push(refspecs: string[], options: object): Promise<void>;
  /** Pushes over the connection `connect` opened (push without its own connect). */
  upload(refspecs: string[], options: object): Promise<void>;
}
export interface NodegitModule {
  Repository: { open(path: string): Promise<NodegitRepository> };
  Remote: { createAnonymous(repo: NodegitRepository, url: string): Promise<NodegitRemoteObject> };
  Cred: { userpassPlaintextNew(username: string, password: string): unknown };
  Enums: { DIRECTION: { FETCH: number; PUSH: number } };
}

let attempt: { module?: NodegitModule; error?: Error } | undefined;

/** nodegit, loaded once; the error of a missing or unbuilt install names the exact fix. */
export function loadNodegit(): NodegitModule {
  attempt ??= (() => {
    try {
      // CommonJS with a native binary: loaded on first use only, so the default install never needs it.
      return { module: createRequire(import.meta.url)('nodegit') as NodegitModule };
    } catch (error) {
      return { error: error as Error };
    }
  })();
  if (attempt.module) return attempt.module;
  const reason = /Cannot find module 'nodegit'/.test(attempt.error?.message ?? '') ? 'nodegit is not installed' : `nodegit cannot be loaded (${attempt.error?.message.split('\n')[0]})`;
  throw grError(GitErrorCodes.ENGINE, `the nodegit engine is needed (engine: nodegit, or an SSH provider URL) but ${reason}`, { fix: NODEGIT_INSTALL_FIX, cause: attempt.error });
}

export function nodegitAvailable(): boolean {
  try {
    loadNodegit();
    return true;
  } catch {
    return false;
  }
}
