import { runGit } from './git-cli.js';

/** What one commit did to one file (`git log --raw`, renames not detected: a move is a delete and an add). */
export interface LoggedFileChange {
  readonly status: 'A' | 'M' | 'D' | 'T';
  readonly path: string;
  /** The blob before (absent for an add). */
  readonly before?: string;
  /** The blob after (absent for a delete). */
  readonly after?: string;
}

export interface LoggedCommit {
  readonly oid: string;
  readonly parents: readonly string[];
  readonly authorName: string;
  readonly authorEmail: string;
  /** ISO 8601 author date. */
  readonly authorDate: string;
  /** ISO 8601 committer date. */
  readonly committerDate: string;
  readonly message: string;
  /** The files of the pathspec the commit changed. */
  readonly files: readonly LoggedFileChange[];
}

// A control character and a word: a commit message holding a lone \x1e (a person's) does not split its record.
const RECORD = '\x1egr-commit\x1e';
const FIELD = '\x1f';
const FORMAT = `${RECORD}%H${FIELD}%P${FIELD}%an${FIELD}%ae${FIELD}%aI${FIELD}%cI${FIELD}%B${FIELD}`;
const ZERO = /^0+$/;

/**
 * The commits reachable from `start` that changed `pathspecs`, newest first, with their file changes
 * (limited to the pathspecs). One git process; a single literal path uses git's changed-path Bloom
 * filters when a commit-graph has them, which is what keeps an object's history of a 100,000-commit
 * repository well under a second.
 */
export async function logCommits(gitdir: string, start: string, pathspecs: readonly string[], options: { max?: number } = {}): Promise<LoggedCommit[]> {
  const args = ['log', '-z', '--no-renames', '--raw', '--no-abbrev', `--format=${FORMAT}`, ...(options.max ? [`-${options.max}`] : []), start, '--', ...pathspecs];
  return parseLog((await runGit(gitdir, args)).stdout.toString('utf8'));
}

/** Every file one commit changed under `under` (against its first parent; a root commit against nothing). */
export async function commitChanges(gitdir: string, oid: string, under: string): Promise<LoggedFileChange[]> {
  const args = ['diff-tree', '-z', '-r', '--root', '--no-renames', '--no-abbrev', '--no-commit-id', oid, '--', ...(under === '' ? [] : [under])];
  return parseRaw((await runGit(gitdir, args)).stdout.toString('utf8'));
}

/** Parses `git log -z --raw --format=FORMAT`. Exported for tests. */
export function parseLog(output: string): LoggedCommit[] {
  const commits: LoggedCommit[] = [];
  for (const record of output.split(RECORD)) {
    if (record === '') continue;
    const fields = record.split(FIELD);
    const [oid, parents, authorName, authorEmail, authorDate, committerDate] = fields as string[];
    // The message is everything between the sixth and the last separator (a message may hold anything but these).
    const message = fields.slice(6, -1).join(FIELD);
    const raw = fields[fields.length - 1] ?? '';
    commits.push({
      oid: oid as string,
      parents: (parents ?? '').split(' ').filter(Boolean),
      authorName: authorName ?? '',
      authorEmail: authorEmail ?? '',
      authorDate: authorDate ?? '',
      committerDate: committerDate ?? '',
      message,
      files: parseRaw(raw),
    });
  }
  return commits;
}

/** Parses `--raw -z` entries: `:mode mode before after status\0path\0`. */
export function parseRaw(raw: string): LoggedFileChange[] {
  const tokens = raw.split('\0');
  const files: LoggedFileChange[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const meta = (tokens[i] as string).replace(/^\n+/, '');
    if (!meta.startsWith(':')) continue;
    const path = tokens[i + 1] ?? '';
    i++;
    const [, , before, after, status] = meta.slice(1).split(' ');
    const code = (status ?? 'M').charAt(0) as LoggedFileChange['status'];
    files.push({
      status: code,
      path,
      ...(before && !ZERO.test(before) ? { before } : {}),
      ...(after && !ZERO.test(after) ? { after } : {}),
    });
  }
  return files;
}
