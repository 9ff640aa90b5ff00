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
    const spans: { rule: string; span: CredentialSpan }[] = [];
    if (CREDENTIAL_HINT.test(value)) for (const rule of PATTERN_RULES) for (const span of rule.find(value, key)) spans.push({ rule: rule.id, span });
    if (NAME_RULE && isSecretName(key)) for (const span of NAME_RULE.find(value, key)) spans.push({ rule: NAME_RULE.id, span });
    if (spans.length === 0) return [];
    // Overlapping spans are one credential: the first rule (the most specific) names it.
    const merged: { rule: string; start: number; end: number }[] = [];
    for (const { rule, span } of spans) {
      const overlapping = merged.find((m) => span.start < m.end && m.start < span.end);
      if (overlapping) {
        overlapping.start = Math.min(overlapping.start, span.start);
        overlapping.end = Math.max(overlapping.end, span.end);
      } else merged.push({ rule, start: span.start, end: span.end });
    }
    return merged.map((m) => ({ rule: m.rule, path: [...path], start: m.start, end: m.end, text: value.slice(m.start, m.end) }));
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

/** Every other place the found credentials' text appears in a string of the object. */
function copiesElsewhere(object: KubeObject, findings: readonly CredentialFinding[]): CredentialFinding[] {
  const secrets = new Map<string, string>();
  for (const finding of findings) if (!secrets.has(finding.text)) secrets.set(finding.text, finding.rule);
  const covered = (path: ValuePath, start: number, end: number) => findings.some((f) => samePath(f.path, path) && start < f.end && f.start < end);
  const copies: CredentialFinding[] = [];
  const path: (string | number)[] = [];
  const visit = (value: unknown) => {
    if (typeof value === 'string') {
      for (const [text, rule] of secrets) {
        for (let at = value.indexOf(text); at >= 0; at = value.indexOf(text, at + text.length)) {
          if (!covered(path, at, at + text.length) && !copies.some((c) => samePath(c.path, path) && at < c.end && c.start < at + text.length)) {
            copies.push({ rule, path: [...path], start: at, end: at + text.length, text });
          }
        }
      }
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

export function samePath(a: ValuePath, b: ValuePath): boolean {
  return a.length === b.length && a.every((step, i) => step === b[i]);
}
