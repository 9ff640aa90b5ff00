/**
 * A path into an object, as `sanitizer.removeFields` and `credentials.ignore[].paths` write it:
 *
 * - `spec.replicas`: keys joined by dots;
 * - `metadata.annotations["example.com/note"]` or `metadata.labels.example\.com/team`: a key with dots,
 *   quoted (`"..."` or `'...'`, `\"` inside) or with its dots escaped (`\.`);
 * - `spec.template.spec.containers[name=istio-proxy]`: the list items whose field `name` equals the
 *   value (quote a value with `]` or spaces: `[name="a b"]`);
 * - `spec.ports[0]`: a list item by index; `spec.template.spec.containers[*].resources`: every item.
 *
 * Keys are matched exactly (case matters). A step that does not fit the value found (a key on a list,
 * an index on a map) matches nothing.
 */
export type FieldPathStep =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'every' }
  | { readonly kind: 'where'; readonly field: string; readonly value: string };

export type FieldPath = readonly FieldPathStep[];

/** A path that cannot be read: where and why. */
export class FieldPathError extends Error {
  constructor(
    readonly path: string,
    readonly position: number,
    reason: string,
  ) {
    super(`"${path}" is not a field path: ${reason} at character ${position + 1}`);
    this.name = 'FieldPathError';
  }
}

/** Reads a path; throws FieldPathError naming the position of the problem. */
export function parseFieldPath(path: string): FieldPath {
  const steps: FieldPathStep[] = [];
  let i = 0;
  const fail = (reason: string): never => {
    throw new FieldPathError(path, Math.min(i, Math.max(0, path.length - 1)), reason);
  };
  const quoted = (): string => {
    const quote = path[i];
    i++;
    let text = '';
    while (i < path.length && path[i] !== quote) {
      if (path[i] === '\\' && i + 1 < path.length) i++;
      text += path[i];
      i++;
    }
    if (i >= path.length) fail(`an unterminated ${quote} quote`);
    i++;
    return text;
  };
  const bareKey = (): string => {
    let text = '';
    while (i < path.length && path[i] !== '.' && path[i] !== '[') {
      if (path[i] === ']') fail('a "]" without "["');
      if (path[i] === '\\') {
        if (i + 1 >= path.length) fail('a "\\" at the end');
        i++;
      }
      text += path[i];
      i++;
    }
    return text;
  };
  if (path.trim() === '') fail('it is empty');
  let expectKey = true;
  while (i < path.length) {
    const char = path[i];
    if (char === '[') {
      i++;
      steps.push(bracket());
      expectKey = false;
      continue;
    }
    if (char === '.') {
      if (expectKey) fail('an empty key');
      i++;
      expectKey = true;
      if (i >= path.length) fail('a "." at the end');
      continue;
    }
    if (!expectKey) fail('a key must follow "." or be quoted in brackets');
    const key = bareKey();
    if (key === '') fail('an empty key');
    steps.push({ kind: 'key', key });
    expectKey = false;
  }
  if (expectKey) fail('a "." at the end');
  return steps;

  function bracket(): FieldPathStep {
    let step: FieldPathStep;
    if (path[i] === '"' || path[i] === "'") {
      step = { kind: 'key', key: quoted() };
    } else if (path[i] === '*') {
      i++;
      step = { kind: 'every' };
    } else {
      let inner = '';
      while (i < path.length && path[i] !== ']' && path[i] !== '=') inner += path[i++];
      if (path[i] === '=') {
        i++;
        const field = inner.trim();
        if (field === '') fail('a field name before "="');
        let value: string;
        if (path[i] === '"' || path[i] === "'") value = quoted();
        else {
          value = '';
          while (i < path.length && path[i] !== ']') value += path[i++];
        }
        step = { kind: 'where', field, value };
      } else if (/^\d+$/.test(inner)) {
        step = { kind: 'index', index: Number(inner) };
      } else {
        fail(`"[${inner}]" is none of [N], [*], [field=value], ["key"]`);
        throw new Error('unreachable');
      }
    }
    if (path[i] !== ']') fail('a missing "]"');
    i++;
    return step;
  }
}

/** The path written back in its canonical form (keys that need it quoted). */
export function fieldPathText(path: FieldPath): string {
  let text = '';
  for (const step of path) {
    if (step.kind === 'key') text += /^[^.[\]\\"']+$/.test(step.key) ? `${text === '' ? '' : '.'}${step.key}` : `[${JSON.stringify(step.key)}]`;
    else if (step.kind === 'index') text += `[${step.index}]`;
    else if (step.kind === 'every') text += '[*]';
    else text += `[${step.field}=${/^[^\]"']*$/.test(step.value) ? step.value : JSON.stringify(step.value)}]`;
  }
  return text;
}

/**
 * Removes what `path` names from `object`, in place: map keys are deleted, matched list items are
 * taken out of their list. Returns how many values were removed.
 */
export function removeAtPath(object: unknown, path: FieldPath): number {
  if (path.length === 0) return 0;
  let parents: unknown[] = [object];
  for (const step of path.slice(0, -1)) parents = parents.flatMap((parent) => childrenAt(parent, step));
  const last = path[path.length - 1] as FieldPathStep;
  let removed = 0;
  for (const parent of parents) {
    if (last.kind === 'key') {
      if (isRecord(parent) && Object.hasOwn(parent, last.key)) {
        delete parent[last.key];
        removed++;
      }
    } else if (Array.isArray(parent)) {
      const before = parent.length;
      const keep = parent.filter((item, index) => !itemMatches(item, index, last));
      parent.splice(0, parent.length, ...keep);
      removed += before - parent.length;
    }
  }
  return removed;
}

/** True when `location` (keys and list indexes from the root, with the items on the way) is named by `path`. */
export function pathNames(path: FieldPath, location: readonly (string | number)[], root: unknown): boolean {
  if (path.length > location.length) return false;
  let value: unknown = root;
  for (let depth = 0; depth < path.length; depth++) {
    const step = path[depth] as FieldPathStep;
    const at = location[depth] as string | number;
    if (step.kind === 'key') {
      if (at !== step.key) return false;
    } else if (typeof at !== 'number' || !Array.isArray(value) || !itemMatches(value[at], at, step)) return false;
    value = (value as Record<string | number, unknown> | undefined)?.[at];
  }
  // A path names its value and everything below it.
  return true;
}

function childrenAt(parent: unknown, step: FieldPathStep): unknown[] {
  if (step.kind === 'key') return isRecord(parent) && Object.hasOwn(parent, step.key) ? [parent[step.key]] : [];
  if (!Array.isArray(parent)) return [];
  return parent.filter((item, index) => itemMatches(item, index, step));
}

function itemMatches(item: unknown, index: number, step: FieldPathStep): boolean {
  switch (step.kind) {
    case 'every':
      return true;
    case 'index':
      return index === step.index;
    case 'where': {
      if (!isRecord(item) || !Object.hasOwn(item, step.field)) return false;
      const value = item[step.field];
      return (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') && String(value) === step.value;
    }
    default:
      return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
