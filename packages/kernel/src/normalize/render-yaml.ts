import { inWrittenOrder, type KubeObject } from '@gitops-reverser/contract';
import { stringify } from 'yaml';

/**
 * Deterministic YAML for an object, in the contract's written order (`inWrittenOrder`: apiVersion,
 * kind, metadata first, every other key sorted, list order kept). The same object always gives the
 * same bytes, so equal content is detectable by comparing files or hashes.
 *
 * Written as YAML 1.1-safe: strings a YAML 1.1 reader (Go's yaml.v2, which kubectl uses) would take
 * for booleans or numbers ("yes", "on", "12:30") are quoted.
 */
export function renderYaml(object: KubeObject): string {
  // The common shapes are written in order as they are walked; only the library gets an ordered copy
  // (the copy was ~40 MB of garbage in a seed of 10,000 objects, ADR 0045).
  return renderCommonYamlInWrittenOrder(object) ?? renderYamlWithLibrary(inWrittenOrder(object));
}

/**
 * Objects rendered in this process, by identity: ingest renders each object it hashes, and the
 * partition worker hands the same text to the sink without rendering again when the object is the
 * one ingest saw (the memory bus passes it through; a durable bus decodes a new one, rendered anew).
 */
const rendered = new WeakMap<KubeObject, string>();

/** `renderYaml`, once per object in this process (objects are never mutated after the normalizers). */
export function renderYamlOnce(object: KubeObject): string {
  let text = rendered.get(object);
  if (text === undefined) {
    text = renderYaml(object);
    rendered.set(object, text);
  }
  return text;
}

/** The reference rendering (the `yaml` library); every object the fast path does not take goes here. */
export function renderYamlWithLibrary(value: unknown): string {
  return stringify(value, { version: '1.1', lineWidth: 0, indentSeq: true, aliasDuplicateObjects: false });
}

// YAML 1.1 booleans and nulls, exactly as the spec lists them: these strings must be quoted.
const YAML11_WORDS = new Set([
  'y',
  'Y',
  'yes',
  'Yes',
  'YES',
  'n',
  'N',
  'no',
  'No',
  'NO',
  'true',
  'True',
  'TRUE',
  'false',
  'False',
  'FALSE',
  'on',
  'On',
  'ON',
  'off',
  'Off',
  'OFF',
  'null',
  'Null',
  'NULL',
]);
const PLAIN = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

function scalarText(value: unknown): string | undefined {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isSafeInteger(value) && !Object.is(value, -0) ? String(value) : undefined;
  if (typeof value !== 'string') return undefined;
  if (PLAIN.test(value)) return YAML11_WORDS.has(value) ? `"${value}"` : value;
  if (DECIMAL.test(value) || value === '') return `"${value}"`;
  return undefined;
}

/** A map with no keys (`ordered`: none with a value, as the ordered copy drops undefined ones). */
function isEmptyMap(map: Record<string, unknown>, ordered: boolean): boolean {
  if (!ordered) return Object.keys(map).length === 0;
  for (const key in map) if (Object.hasOwn(map, key) && map[key] !== undefined) return false;
  return true;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * The same bytes the `yaml` library writes, for the shapes most Kubernetes objects have: maps, lists
 * of scalars or maps, and scalars that are plain identifiers, decimal strings, integers, booleans or
 * null. Anything else (multi-line or punctuated strings, floats, lists of lists) returns undefined and
 * is rendered by the library. The library costs ~65 µs per object, the largest part of a seed (ADR
 * 0012); test/render-yaml.test.ts compares both on generated objects of every shape taken here.
 */
export function renderCommonYaml(root: unknown): string | undefined {
  if (!isMap(root) || Object.keys(root).length === 0) return undefined;
  const out: string[] = [];
  return writeMap(root, 0, undefined, out, false, NO_KEYS) ? out.join('') : undefined;
}

/**
 * `renderCommonYaml(inWrittenOrder(root))` without the ordered copy: each map's keys are taken in
 * written order as it is written. Undefined (the library's turn) for what the fast path does not
 * take, and for a map with a key that is an array index ("0", "12"): a JavaScript object lists those
 * first whatever order they were set in, which the ordered copy's key order depends on.
 */
export function renderCommonYamlInWrittenOrder(root: unknown): string | undefined {
  if (!isMap(root)) return undefined;
  const out: string[] = [];
  return writeMap(root, 0, undefined, out, true, LEADING_KEYS) && out.length > 0 ? out.join('') : undefined;
}

const NO_KEYS: readonly string[] = [];
// As `inWrittenOrder` (contract key-order.ts) puts them.
const LEADING_KEYS: readonly string[] = ['apiVersion', 'kind', 'metadata'];
const LEADING_METADATA_KEYS: readonly string[] = ['name', 'namespace'];
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

/**
 * A map's keys in written order (leading keys, then the rest by code unit, undefined values dropped),
 * in the one array Object.keys made; undefined when one is an array index.
 */
function writtenKeys(map: Record<string, unknown>, leading: readonly string[]): string[] | undefined {
  const keys = Object.keys(map);
  let kept = 0;
  for (const key of keys) {
    if (map[key] === undefined) continue;
    if (ARRAY_INDEX.test(key) && Number(key) < 4294967295) return undefined;
    keys[kept++] = key;
  }
  keys.length = kept;
  sortKeys(keys);
  // The leading keys present move to the front in their order; the rest stay sorted behind them.
  let front = 0;
  for (const lead of leading) {
    const at = keys.indexOf(lead);
    if (at < 0) continue;
    for (let i = at; i > front; i--) keys[i] = keys[i - 1] as string;
    keys[front++] = lead;
  }
  return keys;
}

/**
 * Sorts keys in code-unit order in place. A map's few keys by insertion: Array.prototype.sort copies
 * into a work array first, which was most of what rendering a ConfigMap allocated (ADR 0045).
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 24) {
    keys.sort(compareKeys);
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
}

/** Code-unit order, as `inWrittenOrder` sorts. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Writes one map; `ordered`: in written order (with `leading` first), otherwise as its keys are listed.
 * False when something in it is not a common shape.
 */
function writeMap(map: Record<string, unknown>, indent: number, firstPrefix: string | undefined, out: string[], ordered: boolean, leading: readonly string[]): boolean {
  let first = true;
  const keys = ordered ? writtenKeys(map, leading) : Object.keys(map);
  if (keys === undefined) return false;
  for (const key of keys) {
    const value = map[key];
    const keyText = scalarText(key);
    if (keyText === undefined || value === undefined) return false;
    const prefix = first && firstPrefix !== undefined ? firstPrefix : padOf(indent);
    first = false;
    // Pieces, not a template per line: join writes them once (a line's own string was garbage).
    if (Array.isArray(value)) {
      if (value.length === 0) out.push(prefix, keyText, ': []\n');
      else {
        out.push(prefix, keyText, ':\n');
        if (!writeList(value, indent + 2, out, ordered)) return false;
      }
    } else if (isMap(value)) {
      if (isEmptyMap(value, ordered)) out.push(prefix, keyText, ': {}\n');
      else {
        out.push(prefix, keyText, ':\n');
        if (!writeMap(value, indent + 2, undefined, out, ordered, ordered && leading === LEADING_KEYS && key === 'metadata' ? LEADING_METADATA_KEYS : NO_KEYS)) return false;
      }
    } else {
      const text = scalarText(value);
      if (text === undefined) return false;
      out.push(prefix, keyText, ': ', text, '\n');
    }
  }
  return true;
}

/** Indentation by width, made once per width. */
const PADS: string[] = [];
function padOf(indent: number): string {
  let pad = PADS[indent];
  if (pad === undefined) {
    pad = ' '.repeat(indent);
    if (indent < 64) PADS[indent] = pad;
  }
  return pad;
}

function writeList(list: readonly unknown[], indent: number, out: string[], ordered: boolean): boolean {
  const pad = padOf(indent);
  for (const item of list) {
    if (isMap(item)) {
      if (isEmptyMap(item, ordered)) out.push(pad, '- {}\n');
      else if (!writeMap(item, indent + 2, `${pad}- `, out, ordered, NO_KEYS)) return false;
    } else {
      const text = Array.isArray(item) ? undefined : scalarText(item);
      if (text === undefined) return false;
      out.push(pad, '- ', text, '\n');
    }
  }
  return true;
}
