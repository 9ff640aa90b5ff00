import { holdsRedaction } from './redacted-values.js';

/** One leaf that differs between two versions of an object: `path` in `a.b[0].c` form. */
export interface FieldChange {
  readonly path: string;
  /** Absent when the field was added. */
  readonly before?: unknown;
  /** Absent when the field was removed. */
  readonly after?: unknown;
}

/** The `sops` block of a SOPS file changes with every encryption; it says nothing about the object. */
const IGNORED_TOP_LEVEL = new Set(['sops']);

/** Which values must not be shown, by path (`data.password`); a container is hidden when something in it is. */
export type HiddenValues = (path: string) => boolean;

/**
 * The values never printed: a core Secret's `data` and `stringData`, and every value one of the given
 * objects holds encrypted (`ENC[...]`), so a restore that decrypted a file shows none of it, or
 * redacted (the credential gate's marker: the other side holds the credential).
 */
export function secretValues(...objects: unknown[]): HiddenValues {
  const secret = objects.some((object) => {
    const o = object as { apiVersion?: unknown; kind?: unknown } | null;
    return o?.kind === 'Secret' && o.apiVersion === 'v1';
  });
  const encrypted = new Set<string>();
  for (const object of objects) collectEncrypted(strip(object), '', encrypted);
  return (path) => {
    if (secret && /^(data|stringData)(\.|$)/.test(path)) return true;
    for (const hidden of encrypted) if (hidden === path || hidden.startsWith(`${path}.`) || hidden.startsWith(`${path}[`)) return true;
    return false;
  };
}

function collectEncrypted(value: unknown, path: string, into: Set<string>): void {
  // A redaction marker is no secret, but the live value across from it is one.
  if (isEncrypted(value) || holdsRedaction(value)) into.add(path);
  else if (Array.isArray(value)) for (const [i, item] of value.entries()) collectEncrypted(item, `${path}[${i}]`, into);
  else if (isContainer(value)) for (const [key, child] of Object.entries(value)) collectEncrypted(child, path === '' ? key : `${path}.${key}`, into);
}

/**
 * The leaves that differ between two objects, in document order: the short diff `history`, `diff`
 * and `restore` print. Arrays are compared by position. An encrypted value (`ENC[...]`) is shown as
 * `(encrypted)`, never with its ciphertext; a value `hidden` names as `(hidden)`.
 */
export function fieldChanges(before: unknown, after: unknown, hidden: HiddenValues = () => false): FieldChange[] {
  const changes: FieldChange[] = [];
  walk(strip(before), strip(after), '', changes);
  return changes.map((change) =>
    hidden(change.path) ? { path: change.path, ...(change.before !== undefined ? { before: '(hidden)' } : {}), ...(change.after !== undefined ? { after: '(hidden)' } : {}) } : change,
  );
}

function strip(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !IGNORED_TOP_LEVEL.has(key)));
}

function walk(before: unknown, after: unknown, path: string, changes: FieldChange[]): void {
  if (isContainer(before) && isContainer(after) && Array.isArray(before) === Array.isArray(after)) {
    const keys = Array.isArray(before) ? [...Array(Math.max(before.length, (after as unknown[]).length)).keys()].map(String) : unionKeys(before, after as object);
    for (const key of keys) {
      const childPath = Array.isArray(before) ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
      const b = (before as Record<string, unknown>)[key];
      const a = (after as Record<string, unknown>)[key];
      const hasB = Object.hasOwn(before, key);
      const hasA = Object.hasOwn(after as object, key);
      if (hasB && hasA) walk(b, a, childPath, changes);
      else if (hasB) changes.push({ path: childPath, before: shown(b) });
      else changes.push({ path: childPath, after: shown(a) });
    }
    return;
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return;
  if (isEncrypted(before) && isEncrypted(after)) return; // re-encrypted: same or not, nothing can be shown
  changes.push({ path: path === '' ? '.' : path, ...(before !== undefined ? { before: shown(before) } : {}), ...(after !== undefined ? { after: shown(after) } : {}) });
}

function unionKeys(a: object, b: object): string[] {
  const keys = Object.keys(a);
  for (const key of Object.keys(b)) if (!keys.includes(key)) keys.push(key);
  return keys;
}

function isContainer(value: unknown): value is object {
  return value !== null && typeof value === 'object';
}

function isEncrypted(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith('ENC[');
}

function shown(value: unknown): unknown {
  if (isEncrypted(value)) return '(encrypted)';
  if (Array.isArray(value)) return value.map(shown);
  if (isContainer(value)) return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, shown(child)]));
  return value;
}

/** Lines for people: `~ data.color: "blue" -> "green"`, `+ data.new: "x"`, `- data.old: "y"`; at most `max`, then a count. */
export function fieldChangeLines(changes: readonly FieldChange[], max = 12): string[] {
  const lines = changes.slice(0, max).map((change) => {
    if (change.before === undefined) return `+ ${change.path}: ${valueText(change.after)}`;
    if (change.after === undefined) return `- ${change.path}: ${valueText(change.before)}`;
    return `~ ${change.path}: ${valueText(change.before)} -> ${valueText(change.after)}`;
  });
  if (changes.length > max) lines.push(`  ... ${changes.length - max} more field(s)`);
  return lines;
}

function valueText(value: unknown): string {
  const text = value === '(encrypted)' || value === '(hidden)' ? value : (JSON.stringify(value) ?? 'null');
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
