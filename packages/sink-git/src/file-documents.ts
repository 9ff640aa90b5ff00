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
      return [{ ...parseApiVersion(apiVersion), kind, name, namespace }];
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
  return head ? { ...head, unreadable: true } : undefined;
}

/** The head of a parsed document's data. */
export function headOf(data: unknown): ObjectHead | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const { apiVersion, kind, metadata } = data as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  const name = metadata?.name;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof name !== 'string' || apiVersion === '' || kind === '' || name === '') return undefined;
  const namespace = typeof metadata?.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : undefined;
  return { ...parseApiVersion(apiVersion), kind, name, namespace };
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
