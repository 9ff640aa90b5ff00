import type { ErrorObject } from 'ajv';
import { ErrorCodes } from '../errors.js';
import { keyPathOf, type ConfigProblem } from './config-problem.js';

export interface SchemaProblemOptions {
  /** Where a user finds the keys of this schema, named in the fix for a missing one without `x-fix`. */
  readonly reference?: string;
  /** Key paths of the values that came from `${VAR}`; every other value was written as it is. */
  readonly expanded?: ReadonlyMap<string, unknown>;
}

/**
 * Turns JSON Schema (ajv) errors into config problems with key paths, "did you mean" for unknown
 * keys and the schema's `x-fix` hint. Used for the config file and for adapter options alike.
 *
 * `x-fix` on a key's schema is the fix of every problem of that key: a wrong type, form, value or
 * range, and a missing required key (whose error ajv reports on the parent object).
 */
export function schemaProblems(errors: readonly ErrorObject[], prefix: readonly (string | number)[], options: SchemaProblemOptions = {}): ConfigProblem[] {
  const hints = hintsByInstancePath(errors);
  return errors.flatMap((error) => schemaProblem(error, prefix, hints, options) ?? []);
}

/**
 * The `x-fix` of each value some error is about. A value's hint can be on a schema other than the
 * one whose keyword failed: `{ anyOf: [...], 'x-fix': ... }` fails in a branch without a hint, and
 * the anyOf error (which carries it) says less than the branch errors.
 */
function hintsByInstancePath(errors: readonly ErrorObject[]): Map<string, string> {
  const hints = new Map<string, string>();
  for (const error of errors) {
    const hint = hintOf(error.parentSchema);
    if (hint !== undefined && !hints.has(error.instancePath)) hints.set(error.instancePath, hint);
  }
  return hints;
}

function hintOf(schema: unknown): string | undefined {
  const hint = (schema as { 'x-fix'?: unknown } | undefined)?.['x-fix'];
  return typeof hint === 'string' && hint !== '' ? hint : undefined;
}

function schemaProblem(error: ErrorObject, prefix: readonly (string | number)[], hints: ReadonlyMap<string, string>, options: SchemaProblemOptions): ConfigProblem | undefined {
  const segments = [
    ...prefix,
    ...error.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s)),
  ];
  const here = keyPathOf(segments);
  const fix = hintOf(error.parentSchema) ?? hints.get(error.instancePath);
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
      return {
        code: ErrorCodes.CONFIG_UNKNOWN_KEY,
        keyPath: keyPathOf([...segments, key]),
        message: `unknown key "${key}"`,
        fix: suggestion(key, known, here || 'the top level'),
      };
    }
    case 'required': {
      // The error is the parent object's; the hint is the missing key's own.
      const key = (error.params as { missingProperty: string }).missingProperty;
      const keyHint = hintOf((error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties?.[key]);
      const detail = keyHint ?? (options.reference ? `see ${options.reference}` : undefined);
      return { code: ErrorCodes.CONFIG_INVALID, keyPath: keyPathOf([...segments, key]), message: 'is required', fix: `add ${key}: to ${here || 'the top level'}${detail ? ` (${detail})` : ''}` };
    }
    case 'type': {
      const expected = [(error.params as { type: string | string[] }).type].flat().join(' or ');
      // A value from ${VAR} is a string that could not be read as the type (its text stays hidden).
      if (options.expanded?.has(here)) return { code: ErrorCodes.CONFIG_INVALID, keyPath: here, message: `must be ${expected}`, ...(fix ? { fix } : {}) };
      const retype = literalTypeFix(expected, error.data, segments.at(-1));
      const fixes = [retype, fix].filter((text) => text !== undefined);
      return { code: ErrorCodes.CONFIG_INVALID, keyPath: here, message: `must be ${expected}, not ${kindOf(error.data)}`, ...(fixes.length > 0 ? { fix: fixes.join('; ') } : {}) };
    }
    case 'anyOf':
      return undefined; // the branch errors (type, required, ...) say more
    case 'enum':
      return {
        code: ErrorCodes.CONFIG_INVALID,
        keyPath: here,
        message: `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`,
        fix: fix ?? 'use one of the values listed',
      };
    case 'not': {
      // `not` says only "must NOT be valid": a schema that uses it names the combination in `x-not`.
      const said = (error.parentSchema as { 'x-not'?: unknown } | undefined)?.['x-not'];
      return { code: ErrorCodes.CONFIG_INVALID, keyPath: here, message: typeof said === 'string' ? said : 'is a combination of keys that is not allowed', ...(fix ? { fix } : {}) };
    }
    case 'pattern':
      return { code: ErrorCodes.CONFIG_INVALID, keyPath: here, message: `${JSON.stringify(error.data)} has the wrong form`, fix: fix ?? `must match ${(error.params as { pattern: string }).pattern}` };
    default:
      return { code: ErrorCodes.CONFIG_INVALID, keyPath: here, message: error.message ?? 'is invalid', ...(fix ? { fix } : {}) };
  }
}

function kindOf(value: unknown): string {
  if (value === null) return 'null (nothing written after the key)';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
}

/** How to write a literal of the wrong type as the type asked for, when the intent is plain. */
function literalTypeFix(expected: string, value: unknown, key: string | number | undefined): string | undefined {
  const as = typeof key === 'string' ? `${key}: ` : '';
  if (expected.includes('string') && (typeof value === 'number' || typeof value === 'boolean')) return `quote it: ${as}"${value}"`;
  if (expected.includes('string') && value === null) return typeof key === 'string' ? `write a value after "${key}:"` : 'write a value';
  if (typeof value !== 'string') return undefined;
  const numeric = /integer|number/.test(expected) && value.trim() !== '' && Number.isFinite(Number(value));
  if (numeric || (expected.includes('boolean') && (value === 'true' || value === 'false'))) return `write it without quotes: ${as}${value}`;
  return undefined;
}

/** "did you mean" for a misspelt name, else the list of valid names. */
export function suggestion(given: string, candidates: readonly string[], where: string): string {
  if (candidates.length === 0) return `define it under ${where}`;
  const lower = given.toLowerCase();
  const prefixed = candidates.find((c) => c.toLowerCase().startsWith(lower) || lower.startsWith(c.toLowerCase()));
  const best = prefixed ?? ([...candidates].sort((a, b) => editDistance(given, a) - editDistance(given, b))[0] as string);
  if (prefixed || editDistance(given, best) <= Math.max(2, Math.floor(best.length / 3))) return `did you mean "${best}"? (${where} has: ${candidates.join(', ')})`;
  return `use one of: ${candidates.join(', ')} (in ${where})`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] as number;
}
