import type { KubeObject } from '@gitops-reverser/contract';
import type { CredentialIgnore } from '../config/config-types.js';
import { type FieldPath, parseFieldPath, pathNames } from '../normalize/field-path.js';
import { CREDENTIAL_HINT, CREDENTIAL_RULES, type CredentialSpan, isSecretName } from './credential-rules.js';

/** Where a credential is: keys and list indexes from the object's root. */
export type ValuePath = readonly (string | number)[];

/** One credential found in an object. */
export interface CredentialFinding {
  /** The id of the rule that found it (`private-key`, `secret-name`, ...). */
  readonly rule: string;
  readonly path: ValuePath;
  /** The credential's place in the string value: `[start, end)`. */
  readonly start: number;
  readonly end: number;
  /** The credential itself, for redaction and the leak check: never logged, never put on the bus. */
  readonly text: string;
}

interface CompiledIgnore {
  readonly rules: ReadonlySet<string>;
  readonly kinds: readonly string[];
  readonly namespaces: ReadonlySet<string>;
  readonly names: ReadonlySet<string>;
  readonly paths: readonly FieldPath[];
}

const PATTERN_RULES = CREDENTIAL_RULES.filter((rule) => rule.id !== 'secret-name');
const NAME_RULE = CREDENTIAL_RULES.find((rule) => rule.id === 'secret-name');
const ruleIdAt = (index: number): string => (PATTERN_RULES[index] ?? NAME_RULE)?.id ?? 'secret-name';

/**
 * Walks every string of an object (values and the text in them) with the rule set, and reports
 * what it finds, minus what `credentials.ignore` declares safe. A credential found once is also
 * reported wherever else the same text appears in the object, so redaction and encryption leave no
 * copy behind.
 */
export class CredentialScanner {
  private readonly ignore: readonly CompiledIgnore[];

  constructor(ignore: readonly CredentialIgnore[] = []) {
    this.ignore = ignore.map((entry) => ({
      rules: new Set(entry.rules),
      kinds: entry.kinds,
      namespaces: new Set(entry.namespaces),
      names: new Set(entry.names),
      paths: entry.paths.map((path) => parseFieldPath(path)),
    }));
  }

  scan(object: KubeObject): CredentialFinding[] {
    const found: CredentialFinding[] = [];
    const path: (string | number)[] = [];
    const visit = (value: unknown, key: string) => {
      if (typeof value === 'string') {
        if (value.length >= 8) for (const finding of this.inString(value, key, path)) found.push(finding);
        return;
      }
      if (value === null || typeof value !== 'object') return;
      if (Array.isArray(value)) {
        for (let index = 0; index < value.length; index++) {
          path.push(index);
          visit(value[index], key);
          path.pop();
        }
        return;
      }
      const record = value as Record<string, unknown>;
      // `{ name: DB_PASSWORD, value: ... }` (env vars and the like): the value is named by `name`.
      const itemName = typeof record['name'] === 'string' ? record['name'] : typeof record['key'] === 'string' ? record['key'] : undefined;
      for (const entry of Object.keys(record)) {
        path.push(entry);
        visit(record[entry], entry === 'value' && itemName !== undefined ? itemName : entry);
        path.pop();
      }
    };
    visit(object, '');
    const kept = found.filter((finding) => !this.ignored(finding, object));
    return kept.length === 0 ? kept : [...kept, ...copiesElsewhere(object, kept)];
  }

  private inString(value: string, key: string, path: readonly (string | number)[]): CredentialFinding[] {
    const spans: { rule: number; span: CredentialSpan }[] = [];
    if (CREDENTIAL_HINT.test(value))
      PATTERN_RULES.forEach((rule, index) => {
        for (const span of rule.find(value, key)) spans.push({ rule: index, span });
      });
    if (NAME_RULE && isSecretName(key)) for (const span of NAME_RULE.find(value, key)) spans.push({ rule: PATTERN_RULES.length, span });
    if (spans.length === 0) return [];
    // Overlapping spans are one credential: the first rule (the most specific) names it. Sorted by
    // start, each span overlaps at most the last merged one: linear after the sort, however many.
    spans.sort((a, b) => a.span.start - b.span.start || a.rule - b.rule);
    const merged: { rule: number; start: number; end: number }[] = [];
    for (const { rule, span } of spans) {
      const last = merged[merged.length - 1];
      if (last && span.start < last.end) {
        last.end = Math.max(last.end, span.end);
        last.rule = Math.min(last.rule, rule);
      } else merged.push({ rule, start: span.start, end: span.end });
    }
    return merged.map((m) => ({ rule: ruleIdAt(m.rule), path: [...path], start: m.start, end: m.end, text: value.slice(m.start, m.end) }));
  }

  private ignored(finding: CredentialFinding, object: KubeObject): boolean {
    const kind = object.kind ?? '';
    const apiVersion = object.apiVersion ?? '';
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
    const namespace = object.metadata?.namespace ?? '';
    const name = object.metadata?.name ?? '';
    return this.ignore.some(
      (entry) =>
        (entry.rules.size === 0 || entry.rules.has(finding.rule)) &&
        (entry.kinds.length === 0 || entry.kinds.some((k) => k === kind || k === `${kind}.${group}`)) &&
        (entry.namespaces.size === 0 || entry.namespaces.has(namespace)) &&
        (entry.names.size === 0 || entry.names.has(name)) &&
        (entry.paths.length === 0 || entry.paths.some((path) => pathNames(path, finding.path, object))),
    );
  }
}

/** Beyond this many distinct texts, occurrences are found by one pass per string and text length, not one search per text. */
const SEARCH_EACH_UP_TO = 32;

/**
 * Finds where any of a set of texts (found credentials) occurs in a string, in time linear in the
 * string for any number of texts (a hostile 1 MiB value may hold tens of thousands): few texts are
 * searched one by one, many are looked up by their length in one pass.
 */
export class TextFinder {
  private readonly lengths: readonly number[];

  constructor(private readonly texts: ReadonlyMap<string, string>) {
    this.lengths = [...new Set([...texts.keys()].map((text) => text.length))];
  }

  /** Calls `found` for each occurrence, in order of text (few texts) or of place (many); an occurrence starts after the previous one of the same text ends. */
  each(value: string, found: (at: number, text: string, label: string) => void): void {
    if (this.texts.size <= SEARCH_EACH_UP_TO) {
      for (const [text, label] of this.texts) for (let at = value.indexOf(text); at >= 0; at = value.indexOf(text, at + text.length)) found(at, text, label);
      return;
    }
    for (const length of this.lengths) {
      const nextFree = new Map<string, number>();
      for (let at = 0; at + length <= value.length; at++) {
        const text = value.slice(at, at + length);
        const label = this.texts.get(text);
        if (label === undefined || at < (nextFree.get(text) ?? 0)) continue;
        nextFree.set(text, at + length);
        found(at, text, label);
      }
    }
  }
}

/**
 * Every other place the found credentials' text appears in a string of the object, in time linear in
 * the object's text however many were found: which characters of a string are already covered is a
 * mask.
 */
function copiesElsewhere(object: KubeObject, findings: readonly CredentialFinding[]): CredentialFinding[] {
  const secrets = new Map<string, string>();
  for (const finding of findings) if (!secrets.has(finding.text)) secrets.set(finding.text, finding.rule);
  const finder = new TextFinder(secrets);
  const foundAt = new Map<string, CredentialFinding[]>();
  for (const finding of findings) {
    const key = pathKey(finding.path);
    const atPath = foundAt.get(key);
    if (atPath) atPath.push(finding);
    else foundAt.set(key, [finding]);
  }
  const copies: CredentialFinding[] = [];
  const path: (string | number)[] = [];
  const inString = (value: string) => {
    let mask: Uint8Array | undefined;
    finder.each(value, (at, text, rule) => {
      if (!mask) {
        mask = new Uint8Array(value.length);
        for (const finding of foundAt.get(pathKey(path)) ?? []) mask.fill(1, finding.start, finding.end);
      }
      for (let i = at; i < at + text.length; i++) if (mask[i] === 1) return;
      mask.fill(1, at, at + text.length);
      copies.push({ rule, path: [...path], start: at, end: at + text.length, text });
    });
  };
  const visit = (value: unknown) => {
    if (typeof value === 'string') {
      inString(value);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value);
    for (const [key, item] of entries) {
      path.push(key);
      visit(item);
      path.pop();
    }
  };
  visit(object);
  return copies;
}

/** A path as one map key (keys may hold any character, so JSON, not a join). */
export const pathKey = (path: ValuePath): string => JSON.stringify(path);
