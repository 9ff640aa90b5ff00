import { parseApiVersion } from '@gitops-reverser/contract';
import type { Document } from 'yaml';
import { dataOf, readDocuments } from './yaml-syntax.js';

/** What a YAML document says about the object it holds: enough to know which object it is. */
export interface ObjectHead {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly name: string;
  /** Undefined when the document has no `metadata.namespace` (cluster-scoped, or set by a kustomization). */
  readonly namespace: string | undefined;
  /**
   * Set when the document cannot be read (a syntax error, an alias to no anchor) and its head was
   * taken from what the parser still found: the object is claimed there, but the document is not
   * edited, removed or pruned until a person fixes it (ADR 0039).
   */
  readonly unreadable?: true;
}

// The kernel's rendering starts every object this way: most files are read without a YAML parser.
const CANONICAL_HEAD = /^apiVersion: ([A-Za-z0-9./-]+)\nkind: ([A-Za-z0-9]+)\nmetadata:\n {2}name: ([a-z0-9][a-z0-9.-]*)\n(?: {2}namespace: ([a-z0-9][a-z0-9-]*)\n)?/;

/** An anchor as YAML writes one (`&name` after a space, `[`, `{` or `,`); a string that merely looks like one costs a parse. */
const ANCHOR = /[\s[{,]&[^\s,[\]{}]/;

/**
 * The object of each document of a file, in order (undefined for a document that is not an object:
 * empty, a list, no apiVersion, kind or name). A file the kernel rendered (one document, canonical
 * head) is read by its first lines; every other file is parsed. `onAliasLimit` is told of each
 * document that uses aliases more than `MAX_ALIAS_COUNT` allows (read as one that cannot be read).
 */
export function objectHeads(text: string, onAliasLimit?: (index: number) => void): (ObjectHead | undefined)[] {
  const fast = CANONICAL_HEAD.exec(text);
  // An anchor (never in the kernel's rendering) means aliases: the file is parsed, so one using them
  // beyond the limit is known as such (an alias bomb with a plain head).
  if (fast && !text.includes('\n---') && !text.includes('\r') && !/^(?:%|---)/.test(text) && !ANCHOR.test(text)) {
    const [, apiVersion, kind, name, namespace] = fast as unknown as [string, string, string, string, string | undefined];
    // `name: true` or `name: 123` are quoted by the kernel, so a match is a string; YAML 1.1 words are not names.
    if (!isYamlWord(name) && (namespace === undefined || !isYamlWord(namespace))) {
      return [headFrom(apiVersion, kind, name, namespace)];
    }
  }
  return readDocuments(text).map((document, index) => {
    const data = dataOf(document, onAliasLimit && (() => onAliasLimit(index)));
    return data === undefined ? unreadableHeadOf(document) : headOf(data);
  });
}

/**
 * The object a document that cannot be read still names: its `apiVersion`, `kind` and
 * `metadata.name/namespace` as the parser found them (plain scalars, no alias resolved). Without
 * this, a person's typo would hide the object, and its next change would write a second file.
 */
function unreadableHeadOf(document: Document.Parsed): ObjectHead | undefined {
  const text = (path: string[]) => {
    try {
      const value = document.getIn(path, false);
      return typeof value === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  };
  const head = headOf({ apiVersion: text(['apiVersion']), kind: text(['kind']), metadata: { name: text(['metadata', 'name']), namespace: text(['metadata', 'namespace']) } });
  return head ? { group: head.group, version: head.version, kind: head.kind, name: head.name, namespace: head.namespace, unreadable: true } : undefined;
}

/** The head of a parsed document's data. */
export function headOf(data: unknown): ObjectHead | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const { apiVersion, kind, metadata } = data as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  const name = metadata?.name;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof name !== 'string' || apiVersion === '' || kind === '' || name === '') return undefined;
  const namespace = typeof metadata?.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : undefined;
  return headFrom(apiVersion, kind, name, namespace);
}

/**
 * A head as one object literal (every head shares one V8 shape, its fields inline: a spread gave
 * each its own shape and property store, ~250 bytes more per indexed object, ADR 0041), with group,
 * version, kind and namespace shared among heads instead of one copy per document.
 */
function headFrom(apiVersion: string, kind: string, name: string, namespace: string | undefined): ObjectHead {
  const { group, version } = parseApiVersion(apiVersion);
  return { group: shared(group), version: shared(version), kind: shared(kind), name: detached(name), namespace: namespace === undefined ? undefined : shared(namespace) };
}

/**
 * A copy of a string that does not keep the text it was cut from: V8 makes a substring of 13 or more
 * characters a view of its parent, so a name read from a file would keep the whole file's text alive
 * for as long as the index keeps the head.
 */
function detached(value: string): string {
  return value.length < 13 ? value : Buffer.from(value, 'utf8').toString('utf8');
}

/** Few distinct values (API groups, versions, kinds, namespaces): one string each. Bounded, in case a repository names many. */
const SHARED_STRINGS = new Map<string, string>();
const MAX_SHARED_STRINGS = 4096;

function shared(value: string): string {
  const known = SHARED_STRINGS.get(value);
  if (known !== undefined) return known;
  if (SHARED_STRINGS.size >= MAX_SHARED_STRINGS) SHARED_STRINGS.clear();
  const copy = detached(value);
  SHARED_STRINGS.set(copy, copy);
  return copy;
}

/** One document of a file that holds an object. */
export interface ObjectDocument {
  /** Its position among the file's documents. */
  readonly index: number;
  readonly head: ObjectHead;
  /** Its text: the whole file for a file of one document that starts with it, else the document without its `---` line and the comments above it. */
  readonly text: string;
  /** Its data, as this sink reads YAML (parsed when first asked for). */
  data(): unknown;
}

/**
 * The documents of a file that hold objects, in order (a document that is not an object, or cannot be
 * read, is left out). A file of one document the kernel rendered is not parsed until its data is asked for.
 */
export function objectDocuments(text: string): ObjectDocument[] {
  let heads: (ObjectHead | undefined)[];
  try {
    heads = objectHeads(text);
  } catch {
    return [];
  }
  // A file that starts with its object (the kernel's rendering) is its document; one with comments or
  // a `---` before it is cut like a file of several, so a comment above it is no part of the object.
  if (heads.length === 1 && text.startsWith('apiVersion:')) {
    const head = heads[0];
    if (!head) return [];
    let data: { value: unknown } | undefined;
    const parse = () => {
      const document = readDocuments(text)[0];
      return { value: document ? dataOf(document) : undefined };
    };
    return [{ index: 0, head, text, data: () => (data ??= parse()).value }];
  }
  const documents = readDocuments(text);
  const found: ObjectDocument[] = [];
  documents.forEach((document, index) => {
    const head = heads[index];
    if (!head) return;
    const value = dataOf(document);
    const own = text.slice(document.range[0], document.range[2]).replace(DOCUMENT_START, '');
    found.push({ index, head, text: own, data: () => value });
  });
  return found;
}

/** A `---` line (with nothing but a comment after it) that starts a document. */
const DOCUMENT_START = /^---[ \t]*(?:#[^\n]*)?\r?\n/;

/** True when two documents' texts are the same but for the line ends and blank lines around them. */
export function sameDocumentText(a: string, b: string): boolean {
  return a === b || a.replace(/\r\n/g, '\n').trim() === b.replace(/\r\n/g, '\n').trim();
}

function isYamlWord(value: string): boolean {
  return /^(?:y|n|yes|no|on|off|true|false|null)$/i.test(value);
}

/**
 * The file without document `index`; undefined when nothing but comments and blank lines would be
 * left (the file goes: its comments were about what it held).
 */
export function withoutDocument(text: string, index: number): string | undefined {
  const documents = readDocuments(text);
  const document = documents[index];
  if (!document) return text;
  if (documents.every((other, i) => i === index || other.contents === null)) return undefined;
  const next = documents[index + 1];
  const start = document.range[0];
  // The first document keeps the file's lead comments; its successor's `---` starts the file then.
  const end = index === 0 && next ? next.range[0] : document.range[2];
  return text.slice(0, start) + text.slice(end);
}

/** The file with a document appended (after `---`), in the file's line ends. */
export function withDocument(text: string, yaml: string): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const body = eol === '\n' ? yaml : yaml.replace(/\n/g, eol);
  if (text.trim() === '') return body;
  return `${text}${text.endsWith('\n') ? '' : eol}---${eol}${body}`;
}
