import { readFileSync, statSync } from 'node:fs';

/** Shortest bearer token accepted: an empty or guessable token would let anyone post audit events. */
export const MIN_TOKEN_LENGTH = 16;

/** Why `token` may not be used as a bearer token, or undefined when it may. */
export function tokenProblem(token: string): string | undefined {
  if (token.trim() === '') return 'it is empty';
  if (/\s/.test(token.trim())) return 'it contains whitespace';
  if (token.trim().length < MIN_TOKEN_LENGTH) return `it has ${token.trim().length} characters; at least ${MIN_TOKEN_LENGTH} are needed`;
  return undefined;
}

/** The token in effect now, or why there is none (then every request is refused). */
export type TokenState = { readonly token: string } | { readonly problem: string };

/**
 * A token kept in a file (a mounted Secret), re-read when the file changes so a rotated token takes
 * effect without a restart. A file that becomes unreadable, empty or too short fails closed: no
 * request is accepted until it holds a usable token again; `onChange` says what happened.
 */
export class TokenFile {
  private state: TokenState;
  private seen = '';

  constructor(
    readonly path: string,
    private readonly onChange?: (state: TokenState) => void,
  ) {
    this.state = this.read();
  }

  /** The token now (the file is looked at again on every call; read only when it changed). */
  current(): TokenState {
    let stamp: string;
    try {
      const stat = statSync(this.path);
      stamp = `${stat.mtimeMs}|${stat.size}|${stat.ino}`;
    } catch (error) {
      stamp = `missing: ${(error as Error).message}`;
    }
    if (stamp !== this.seen) {
      const before = this.state;
      this.state = this.read();
      if (JSON.stringify(before) !== JSON.stringify(this.state)) this.onChange?.(this.state);
    }
    return this.state;
  }

  private read(): TokenState {
    try {
      const stat = statSync(this.path);
      this.seen = `${stat.mtimeMs}|${stat.size}|${stat.ino}`;
      const text = readFileSync(this.path, 'utf8');
      const problem = tokenProblem(text);
      return problem ? { problem: `the token in ${this.path} is not usable: ${problem}` } : { token: text.trim() };
    } catch (error) {
      this.seen = `missing: ${(error as Error).message}`;
      return { problem: `cannot read ${this.path}: ${(error as Error).message}` };
    }
  }
}
