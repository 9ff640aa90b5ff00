import type { ValidateFunction } from 'ajv';
import { keyPathOf } from './config-problem.js';
import type { ExpandedValue } from './env-expansion.js';

/**
 * Converts the values that came from `${VAR}` to the types the schema asks for, and nothing else.
 *
 * An environment value is always a string, so `port: "${PORT}"` must become a number. A value
 * written literally keeps its type, so `file: 42` for a string or `port: "8080"` for a number fails
 * the schema instead of being converted silently. ajv coerces all values or none: `coercing` (ajv
 * with `coerceTypes`) runs on a copy, and only the expanded values are taken from that copy. The
 * caller then validates the result with a validator that does not coerce.
 *
 * `data` sits at `prefix` in the config (e.g. `['sink', 'with']`), where `expanded` is keyed.
 */
export function coerceExpandedValues<T>(data: T, coercing: () => ValidateFunction, prefix: readonly (string | number)[], expanded: ReadonlyMap<string, ExpandedValue> | undefined): T {
  if (!expanded || !hasExpandedValueUnder(expanded, keyPathOf(prefix))) return data;
  const coerced = structuredClone(data);
  coercing()(coerced);
  return takeExpanded(data, coerced, [...prefix], expanded) as T;
}

function hasExpandedValueUnder(expanded: ReadonlyMap<string, ExpandedValue>, keyPath: string): boolean {
  if (keyPath === '') return expanded.size > 0;
  for (const key of expanded.keys()) if (key === keyPath || key.startsWith(`${keyPath}.`) || key.startsWith(`${keyPath}[`)) return true;
  return false;
}

/** `written` with each expanded string replaced by its coerced counterpart. */
function takeExpanded(written: unknown, coerced: unknown, path: (string | number)[], expanded: ReadonlyMap<string, ExpandedValue>): unknown {
  if (typeof written === 'string') return expanded.has(keyPathOf(path)) && coerced !== undefined ? coerced : written;
  if (Array.isArray(written)) {
    return written.map((item, index) => takeExpanded(item, Array.isArray(coerced) ? coerced[index] : undefined, [...path, index], expanded));
  }
  if (written !== null && typeof written === 'object') {
    const coercedObject = coerced !== null && typeof coerced === 'object' ? (coerced as Record<string, unknown>) : {};
    return Object.fromEntries(Object.entries(written).map(([key, item]) => [key, takeExpanded(item, coercedObject[key], [...path, key], expanded)]));
  }
  return written;
}
