import { spawn } from 'node:child_process';
import { grError } from '@gitops-reverser/contract';
import { GitHistoryErrorCodes } from './history-error-codes.js';

/** What history reads need of git: `log --raw -z`, `cat-file --batch`, `commit-graph write --changed-paths` (2.27+). */
export const GIT_CLI_FIX = 'install git 2.27 or newer and put it on PATH (e.g. apt-get install git); history, diff and restore read the repository with it';

/**
 * Options every history read passes: no prompts, no pager, stable output, and `safe.directory` for
 * the one repository read (a repository written by the daemon's user is owned by another user, which
 * git otherwise refuses to read since 2.35.2).
 */
export function gitArgs(gitdir: string, args: readonly string[]): string[] {
  return ['-c', `safe.directory=${gitdir}`, '-c', 'core.quotePath=false', '-c', 'log.showSignature=false', '--git-dir', gitdir, ...args];
}

// GIT_LITERAL_PATHSPECS: paths are file names, never patterns (`*`, `?`, `[` and `:(exclude)` in a
// selector or in a file a person named are matched as written).
export const GIT_ENV = { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0', GIT_LITERAL_PATHSPECS: '1' };

/**
 * Runs one git command on a git directory and returns its stdout. A missing git, or git failing, is
 * GR_ERR_GIT_CLI with the command and git's own message; `okExit` lists exit codes that are answers
 * rather than failures (e.g. 1 of `merge-base --is-ancestor`).
 */
export function runGit(gitdir: string, args: readonly string[], options: { input?: string; okExit?: readonly number[] } = {}): Promise<{ stdout: Buffer; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', gitArgs(gitdir, args), { env: GIT_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => reject(gitFailure(args, error.code === 'ENOENT' ? 'git is not installed (not found on PATH)' : error.message)));
    child.on('close', (code) => {
      const exit = code ?? 1;
      if (exit === 0 || options.okExit?.includes(exit)) resolve({ stdout: Buffer.concat(out), code: exit });
      else reject(gitFailure(args, Buffer.concat(err).toString('utf8').trim() || `exit code ${exit}`, gitdir));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** The error of a git command that could not run or failed. */
export function gitFailure(args: readonly string[], reason: string, gitdir?: string): Error {
  return grError(GitHistoryErrorCodes.GIT_CLI, `git ${args.slice(0, 2).join(' ')}${gitdir ? ` on ${gitdir}` : ''} failed: ${reason}`, {
    fix: reason.includes('not installed') ? GIT_CLI_FIX : 'check that the repository is readable by this user; the message above is git’s own',
  });
}
