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

/**
 * The leaves that differ between two objects, in document order: the short diff `history`, `diff`
 * and `restore` print. Arrays are compared by position. An encrypted value (`ENC[...]`) that changed
 * is reported as `(encrypted)`, never with its ciphertext.
 */
export function fieldChanges(before: unknown, after: unknown): FieldChange[] {
  const changes: FieldChange[] = [];
  walk(strip(before), strip(after), '', changes);
  return changes;
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
  return isEncrypted(value) ? '(encrypted)' : value;
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
  const text = value === '(encrypted)' ? '(encrypted)' : (JSON.stringify(value) ?? 'null');
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
