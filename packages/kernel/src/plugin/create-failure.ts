import { errorText, isGitopsReverserError } from '@gitops-reverser/contract';
import type { ConfigProblem } from '../config/config-problem.js';
import { ErrorCodes } from '../errors.js';

/** The adapter whose `create()` threw, as the config names it. */
export interface FailedAdapter {
  /** e.g. `bus adapter "acme-queue"`. */
  readonly where: string;
  /** Key path of its config entry, e.g. `bus` or `sources[1]`. */
  readonly keyPath: string;
  /** The descriptor's `meta.name`. */
  readonly name: string;
  /** The package its module belongs to; undefined for a descriptor given in code. */
  readonly packageName?: string;
}

/** The first word of this project's codes (`GR_ERR_*`); only its own packages report under it. */
const PROJECT_CODE_WORD = 'GR';
const PROJECT_SCOPE = '@gitops-reverser/';

const GENERIC_FIX = 'check its options; if you wrote the adapter, keep create() free of I/O and move connecting to start()';

/**
 * The problem reported for an error an adapter's `create()` threw. An adapter's own coded error
 * (`grError('ACME_ERR_WHAT', message, { fix })`) reaches the user as it is, at the option it names
 * (`details.optionPath`) or at its entry: the author knows best what is wrong. Any other error is
 * GR_ERR_PLUGIN_CREATE; a code that breaks the rule (docs/writing-adapters.md) is kept in the
 * message and its fix in the fix, so nothing the author said is lost.
 */
export function createFailureProblem(error: unknown, adapter: FailedAdapter): ConfigProblem {
  const optionPath = isGitopsReverserError(error) ? error.details['optionPath'] : undefined;
  const keyPath = typeof optionPath === 'string' && optionPath !== '' ? `${adapter.keyPath}.with.${optionPath}` : `${adapter.keyPath}.use`;
  if (isGitopsReverserError(error) && !reservedFor(error.code, adapter)) {
    return { code: error.code, keyPath, message: `${error.message} (${adapter.where})`, ...(error.fix ? { fix: error.fix } : {}) };
  }
  const code = codeOf(error);
  if (code === undefined) return { code: ErrorCodes.PLUGIN_CREATE, keyPath, message: `${adapter.where} failed in create(): ${errorText(error)}`, fix: GENERIC_FIX };
  const fix = (error as { fix?: unknown }).fix;
  const why = isGitopsReverserError(error) ? `${PROJECT_CODE_WORD}_ERR_* codes are gitops-reverser's own` : 'not of the form <PACKAGE>_ERR_<WHAT>';
  return {
    code: ErrorCodes.PLUGIN_CREATE,
    keyPath,
    message: `${adapter.where} failed in create(): ${(error as Error).message} (its code ${code} is ${why})`,
    fix: `${typeof fix === 'string' && fix !== '' ? fix : GENERIC_FIX}; to the adapter's author: report it under a code of the form <PACKAGE>_ERR_<WHAT> (docs/writing-adapters.md)`,
  };
}

/** A code of this project's, thrown by an adapter that is not one of this project's packages (by name and by the package it was loaded from). */
function reservedFor(code: string, adapter: FailedAdapter): boolean {
  const ours = adapter.name.startsWith(PROJECT_SCOPE) && (adapter.packageName === undefined || adapter.packageName.startsWith(PROJECT_SCOPE));
  return code.split('_')[0] === PROJECT_CODE_WORD && !ours;
}

/** The `code` a thrown Error carries (made with grError or by a library), if any. */
function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return error instanceof Error && typeof code === 'string' && code !== '' ? code : undefined;
}
