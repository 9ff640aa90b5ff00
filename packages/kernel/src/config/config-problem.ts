import { GitopsReverserError } from '@gitops-reverser/contract';
import { ErrorCodes } from '../errors.js';

/** One thing wrong with a config file, located by key path (and line, when known). */
export interface ConfigProblem {
  readonly code: string;
  /** e.g. `targets[1].path`; "" for the whole file. */
  readonly keyPath: string;
  readonly message: string;
  readonly fix?: string;
  /** 1-based line and column in the config file, when the key exists in it. */
  readonly line?: number;
  readonly column?: number;
}

/** All problems of one config file, reported together so a user fixes them in one pass. */
export class ConfigValidationError extends GitopsReverserError {
  readonly problems: readonly ConfigProblem[];
  readonly file: string;

  constructor(file: string, problems: readonly ConfigProblem[]) {
    const first = problems[0];
    super(first?.code ?? ErrorCodes.CONFIG_INVALID, formatProblems(file, problems), {
      details: { file, problems },
      ...(first?.fix ? { fix: first.fix } : {}),
    });
    this.name = 'ConfigValidationError';
    this.file = file;
    this.problems = problems;
  }

  override describe(): string {
    return this.message;
  }
}

export function formatProblem(file: string, problem: ConfigProblem): string {
  const where = problem.line ? `${file}:${problem.line}:${problem.column ?? 1}` : file;
  const key = problem.keyPath ? `${problem.keyPath}: ` : '';
  const fix = problem.fix ? `\n    fix: ${problem.fix}` : '';
  return `${where}: ${key}${problem.message} [${problem.code}]${fix}`;
}

function formatProblems(file: string, problems: readonly ConfigProblem[]): string {
  const header = problems.length === 1 ? 'invalid config' : `invalid config (${problems.length} problems)`;
  return `${header}\n${problems.map((p) => `  ${formatProblem(file, p)}`).join('\n')}`;
}

/** `['targets', 1, 'path']` -> `targets[1].path` */
export function keyPathOf(segments: readonly (string | number)[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}
