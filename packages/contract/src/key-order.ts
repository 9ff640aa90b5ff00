import type { KubeObject } from './identity.js';

const LEADING_KEYS = ['apiVersion', 'kind', 'metadata'];
const LEADING_METADATA_KEYS = ['name', 'namespace'];

/**
 * The object with its mapping keys in the one order files are written in: `apiVersion`, `kind`,
 * `metadata` first (in metadata: `name`, `namespace` first), every other key sorted by code unit,
 * list order kept, undefined values dropped. The kernel renders this order as YAML; an encoder whose
 * output depends on key order (a SOPS MAC) computes over it. Pure data in, new data out.
 */
export function inWrittenOrder(object: KubeObject): KubeObject {
  return ordered(object, LEADING_KEYS) as KubeObject;
}

function ordered(value: unknown, leading: readonly string[] = []): unknown {
  if (Array.isArray(value)) return value.map((item) => ordered(item));
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((key) => record[key] !== undefined);
  const first = leading.filter((key) => keys.includes(key));
  const rest = keys.filter((key) => !leading.includes(key)).sort(compareKeys);
  const out: Record<string, unknown> = {};
  for (const key of [...first, ...rest]) {
    out[key] = ordered(record[key], key === 'metadata' && leading === LEADING_KEYS ? LEADING_METADATA_KEYS : []);
  }
  return out;
}

/** Code-unit order, not locale order: identical on every machine. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
