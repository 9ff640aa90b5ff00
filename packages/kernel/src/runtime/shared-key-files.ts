import { readFileSync } from 'node:fs';
import { type ConfigProblem, ConfigValidationError } from '../config/config-problem.js';
import type { GitopsReverserConfig } from '../config/config-types.js';
import { configProblems } from '../config/load-config.js';
import { ErrorCodes } from '../errors.js';

/** The keys every replica shares, read from their files: what `run` needs and `validate` checks. */
export interface SharedKeys {
  readonly contentKey: Buffer | undefined;
  readonly redactionKey: Buffer | undefined;
}

/** Reads `attribution.contentKeyFile` and `credentials.redactionKeyFile`; a bad file is a config problem (both reported). */
export function readSharedKeys(config: GitopsReverserConfig): SharedKeys {
  const content = readKeyFile(config.attribution.contentKeyFile, 'attribution.contentKeyFile', 'content.key');
  const redaction = readKeyFile(config.credentials.redactionKeyFile, 'credentials.redactionKeyFile', 'redaction.key');
  const problems = [content, redaction].flatMap((read) => (read.problem ? [read.problem] : []));
  if (problems.length > 0) throw new ConfigValidationError(config.configFile, configProblems(config, problems));
  return { contentKey: content.key, redactionKey: redaction.key };
}

/**
 * A shared key from a file: 32+ characters (trimmed), or undefined when the key is not configured.
 */
function readKeyFile(file: string | undefined, keyPath: string, example: string): { key?: Buffer; problem?: ConfigProblem } {
  if (!file) return {};
  let problem: string | undefined;
  let key = '';
  try {
    key = readFileSync(file, 'utf8').trim();
    if (key.length < 32) problem = `${file} holds ${key.length} characters; at least 32 are needed`;
  } catch (error) {
    problem = `cannot read ${file}: ${(error as Error).message}`;
  }
  if (problem) return { problem: { code: ErrorCodes.CONFIG_INVALID, keyPath, message: problem, fix: `a file with a random secret every replica shares, e.g. openssl rand -hex 32 > ${example}` } };
  return { key: Buffer.from(key, 'utf8') };
}
