import { inWrittenOrder, type KubeObject } from '@gitops-reverser/contract';
import { type CreateNodeOptions, type Document, type DocumentOptions, type ParseOptions, parse, parseAllDocuments, type SchemaOptions, stringify, type ToStringOptions } from 'yaml';

/**
 * How this sink reads YAML that people wrote: YAML 1.1 as kubectl reads it (`yes` is a boolean, `<<`
 * merges), except timestamps, which kubectl leaves as strings (a Kubernetes object holds none as a
 * YAML timestamp). Source tokens are kept: in-place edits splice the original text by offsets.
 */
export const READ_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  merge: true,
  keepSourceTokens: true,
  customTags: (tags) => tags.filter((tag) => typeof tag === 'string' || tag.tag !== 'tag:yaml.org,2002:timestamp'),
};

/**
 * How many alias uses reading one document may take (the `yaml` library's count: each use weighs the
 * aliases inside what it stands for). A person's anchors stay far below it; a "billion laughs" file
 * pushed to the repository (aliases of aliases, growing exponentially) is over it at once, and is read
 * as a document that cannot be read instead of exhausting memory and time on every start.
 */
export const MAX_ALIAS_COUNT = 10_000;

/** `toJS` options: aliases resolved up to `MAX_ALIAS_COUNT`. */
export const TO_JS = { maxAliasCount: MAX_ALIAS_COUNT } as const;

/**
 * The kernel's rendering (`renderYaml` in @gitops-reverser/kernel: the contract's key order, then
 * the `yaml` library with these options). A file whose bytes equal this rendering of what it holds
 * is one this sink wrote and nobody edited: it is written whole again, as before. A test compares
 * both renderings on every shape the kernel's fast path takes.
 */
export const CANONICAL_OPTIONS: ToStringOptions & DocumentOptions & CreateNodeOptions = { version: '1.1', lineWidth: 0, indentSeq: true, aliasDuplicateObjects: false };

export function canonicalYaml(object: KubeObject): string {
  return stringify(inWrittenOrder(object), CANONICAL_OPTIONS);
}

/** All documents of a text, as this sink reads them. */
export function readDocuments(text: string) {
  return parseAllDocuments(text, READ_OPTIONS);
}

/**
 * A document's data, or undefined when it cannot be read: a syntax error, an alias to an anchor
 * that is not set before it (the parser accepts that; only reading the data fails), or more alias
 * uses than `MAX_ALIAS_COUNT` (`onAliasLimit` is told). A person's file may hold any of these; it then
 * holds no object this sink can edit.
 */
export function dataOf(document: Document.Parsed, onAliasLimit?: () => void): unknown {
  if (document.errors.length > 0) return undefined;
  try {
    return document.toJS(TO_JS);
  } catch (error) {
    if (onAliasLimit && isAliasLimitError(error)) onAliasLimit();
    return undefined;
  }
}

/** The `yaml` library's error for a document over `maxAliasCount`. */
function isAliasLimitError(error: unknown): boolean {
  return error instanceof ReferenceError && error.message.startsWith('Excessive alias count');
}

/** True when two JSON-like values hold the same data (key order ignored, list order kept). */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => sameData(item, other[i]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left).filter((key) => left[key] !== undefined);
  if (keys.length !== Object.keys(right).filter((key) => right[key] !== undefined).length) return false;
  return keys.every((key) => Object.hasOwn(right, key) && sameData(left[key], right[key]));
}

/** The way a scalar was written, kept for its new value where the value allows it. */
export type ScalarStyle = 'PLAIN' | 'QUOTE_SINGLE' | 'QUOTE_DOUBLE';

/**
 * A scalar's text: in `style` when that style holds the value unchanged for YAML 1.1 and 1.2 readers
 * (kubectl and kustomize), else double-quoted (JSON's escapes are YAML's). `inFlow`: inside `[...]`
 * or `{...}`, where `,` and brackets end a plain scalar.
 */
export function scalarText(value: unknown, style: ScalarStyle = 'PLAIN', inFlow = false): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : stringify(value, CANONICAL_OPTIONS).trim();
  const text = String(value);
  if (style === 'PLAIN' && plainHolds(text, inFlow)) return text;
  if (style === 'QUOTE_SINGLE' && !/[\n\r\t\p{Cc}]/u.test(text)) return `'${text.replace(/'/g, "''")}'`;
  // A plain scalar that would read differently (yes, 123, a: b) is double-quoted, as the kernel quotes.
  return JSON.stringify(text);
}

/** True when `text` written plain reads back as the same string for YAML 1.1 and 1.2 readers. */
function plainHolds(text: string, inFlow: boolean): boolean {
  if (text === '' || text.trim() !== text || /[\n\r\t\p{Cc}]/u.test(text)) return false;
  const source = inFlow ? `[${text}]` : `k: ${text}`;
  for (const version of ['1.1', '1.2'] as const) {
    try {
      const read = parse(source, { version, customTags: READ_OPTIONS.customTags, uniqueKeys: false });
      const value = inFlow ? (Array.isArray(read) && read.length === 1 ? read[0] : undefined) : (read as { k?: unknown } | null)?.k;
      if (value !== text) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * A string of several lines as a literal block scalar (`|`, `|-` or `|+`) whose content lines are
 * indented by `indent` spaces, each line ending in `eol`; undefined when a block cannot hold it
 * (leading spaces on the first line, carriage returns, other control characters).
 */
export function blockScalarText(value: string, indent: number, eol: string): string | undefined {
  if (!value.includes('\n') || /[\r\p{Cc}]/u.test(value.replace(/[\n\t]/g, '')) || /^[ \t]/.test(value) || /^\n/.test(value)) return undefined;
  const chomp = value.endsWith('\n') ? (value.endsWith('\n\n') ? '+' : '') : '-';
  const body = value.endsWith('\n') ? value.slice(0, -1) : value;
  const pad = ' '.repeat(indent);
  const lines = body.split('\n').map((line) => (line === '' ? '' : `${pad}${line}`));
  return `|${chomp}${eol}${lines.join(eol)}${eol}`;
}

/**
 * A value as block YAML starting where the cursor is (the first line is not indented: it follows
 * `key:` + newline + indentation, or `- `), every further line indented by `indent` spaces, ending
 * with `eol`. Empty collections and scalars come out as one line (`{}`, `[]`, a scalar).
 */
export function blockText(value: unknown, indent: number, eol: string): string {
  const text = stringify(value, CANONICAL_OPTIONS);
  const pad = ' '.repeat(indent);
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  return `${lines.map((line, i) => (i === 0 || line === '' ? line : `${pad}${line}`)).join(eol)}${eol}`;
}

/**
 * A value in flow style on one line (`{a: 1, b: [x]}`), for a place a person wrote in flow style:
 * without padding inside the brackets, as people and kubectl's documentation write it and as the
 * entries this editor appends to a flow collection (`, x`) are spaced.
 */
export function flowText(value: unknown): string {
  return stringify(value, { ...CANONICAL_OPTIONS, collectionStyle: 'flow', flowCollectionPadding: false }).trim();
}

/** True for a collection value (map or list) that is not empty. */
export function isNonEmptyCollection(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return value !== null && typeof value === 'object' && Object.keys(value).length > 0;
}
