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
  expanded?: Map<string, ExpandedValue>,
): unknown {
  if (typeof value === 'string') {
    const result = value.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === '$$') return '$';
      const resolved = env[name as string];
      if (resolved !== undefined && resolved !== '') return resolved;
      if (fallback !== undefined) return fallback;
      problems.push({
        code: ErrorCodes.CONFIG_ENV,
        keyPath: keyPathOf(path),
        message: `environment variable ${name} is ${resolved === '' ? 'empty' : 'not set'}`,
        fix: `export ${name}=... before starting, or write \${${name}:-default} to give a default`,
      });
      return '';
    });
    // What is left of a `${` once every reference and `$$` is taken out is a reference written wrong
    // (`${TOKEN`, `${1X}`): kept as text it would reach the adapter as a literal, e.g. a password.
    if (value.replace(REFERENCE, '').includes('${')) {
      problems.push({
        code: ErrorCodes.CONFIG_ENV,
        keyPath: keyPathOf(path),
        message: 'a ${ that does not start a variable reference: ${NAME} or ${NAME:-default}, NAME of letters, digits and _ (not starting with a digit), closed by }',
        fix: 'close the reference with }, fix the variable name, or write $${ for a literal ${',
      });
    }
    if (result !== value && expanded) expanded.set(keyPathOf(path), { written: value, value: result });
    return result;
  }
  if (Array.isArray(value)) return value.map((item, index) => expandEnvironment(item, env, problems, [...path, index], expanded));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = expandEnvironment(item, env, problems, [...path, key], expanded);
    return out;
  }
  return value;
}

/** A value that came from `${VAR}`: what the file says and what it expanded to. */
export interface ExpandedValue {
  readonly written: string;
  readonly value: string;
}

/**
 * Problems never echo what a `${VAR}` expanded to (it may be a secret): in a problem about such a key
 * (or inside it), the expanded text is shown as written, e.g. `${GIT_TOKEN}`.
 */
export function hideExpandedValues(problems: readonly ConfigProblem[], expanded: ReadonlyMap<string, ExpandedValue> | undefined): ConfigProblem[] {
  if (!expanded || expanded.size === 0) return [...problems];
  return problems.map((problem) => {
    let { message } = problem;
    let fix = problem.fix;
    for (const [keyPath, { written, value }] of expanded) {
      // Values of 3+ characters are hidden in every problem (an adapter may quote them anywhere);
      // shorter ones only in problems about their own key, where they cannot be confused with other text.
      const related = problem.keyPath === keyPath || problem.keyPath.startsWith(`${keyPath}.`) || problem.keyPath.startsWith(`${keyPath}[`);
      if (value === '' || (value.length < 3 && !related)) continue;
      message = message.split(value).join(written);
      fix = fix?.split(value).join(written);
    }
    return { ...problem, message, ...(fix !== undefined ? { fix } : {}) };
  });
}
