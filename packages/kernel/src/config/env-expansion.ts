import { ErrorCodes } from '../errors.js';
import { keyPathOf, type ConfigProblem } from './config-problem.js';

const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` (and `${VAR:-default}`) in every string value with the environment's value;
 * `$$` stands for a literal `$`. Expansion happens on parsed values, never on the raw text, so a
 * variable can never change the YAML structure. Unset variables without a default are problems.
 */
export function expandEnvironment(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[],
  path: (string | number)[] = [],
): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === '$$') return '$';
      const resolved = env[name as string];
      if (resolved !== undefined && resolved !== '') return resolved;
      if (fallback !== undefined) return fallback;
      problems.push({
        code: ErrorCodes.CONFIG_ENV,
        keyPath: keyPathOf(path),
        message: `environment variable ${name} is not set`,
        fix: `export ${name}=... before starting, or write \${${name}:-default} to give a default`,
      });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => expandEnvironment(item, env, problems, [...path, index]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = expandEnvironment(item, env, problems, [...path, key]);
    return out;
  }
  return value;
}
