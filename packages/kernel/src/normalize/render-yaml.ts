import { stringify } from 'yaml';
import type { KubeObject } from '@gitops-reverser/contract';

const LEADING_KEYS = ['apiVersion', 'kind', 'metadata'];
const LEADING_METADATA_KEYS = ['name', 'namespace'];

/**
 * Deterministic YAML for an object: `apiVersion`, `kind`, `metadata` first (in metadata: `name`,
 * `namespace` first), every other mapping key sorted, list order kept. The same object always
 * gives the same bytes, so equal content is detectable by comparing files or hashes.
 *
 * Written as YAML 1.1-safe: strings a YAML 1.1 reader (Go's yaml.v2, which kubectl uses) would take
 * for booleans or numbers ("yes", "on", "12:30") are quoted.
 */
export function renderYaml(object: KubeObject): string {
  return stringify(ordered(object, LEADING_KEYS), { version: '1.1', lineWidth: 0, indentSeq: true, aliasDuplicateObjects: false });
}

function ordered(value: unknown, leading: readonly string[] = []): unknown {
  if (Array.isArray(value)) return value.map((item) => ordered(item));
  if (value === null || typeof value !== 'object') return value;
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
