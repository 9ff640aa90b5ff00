import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { editDocument } from '../src/in-place-edit.js';
import { withResource } from '../src/kustomizations.js';
import { readDocuments, sameData, TO_JS } from '../src/yaml-syntax.js';
import { allowedRange, changedSpan, type Path, random, AWKWARD_STRINGS as WORDS } from './edit-locality.js';

// The in-place editor on hand-written files (comments above and beside keys, anchors, flow maps,
// block scalars, multi-document files, CRLF): random changes of the object, one at a time, each
// checked the way a reviewer would: the file reads as the new object, the other documents are the
// same, and every byte outside the changed value is where it was.

const corpusDir = join(import.meta.dirname, 'fixtures', 'hand-written');
const corpus = readdirSync(corpusDir)
  .filter((name) => name.endsWith('.yaml'))
  .sort()
  .map((name) => ({ name, text: readFileSync(join(corpusDir, name), 'utf8') }));

const IDENTITY: Path[] = [['apiVersion'], ['kind'], ['metadata', 'name'], ['metadata', 'namespace']];

function paths(value: unknown, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      out.push(...paths(item, [...at, i]));
    });
  } else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) out.push(...paths(item, [...at, key]));
  return out;
}

function get(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], value);
}

function scalar(next: () => number): unknown {
  const roll = next();
  if (roll < 0.6) return WORDS[Math.floor(next() * WORDS.length)] as string;
  if (roll < 0.75) return Math.floor(next() * 10_000);
  if (roll < 0.85) return next() < 0.5;
  if (roll < 0.9) return null;
  return { k: WORDS[Math.floor(next() * WORDS.length)] as string, n: [1, 'b'] };
}

/** One random change of a document's data; returns the changed path (the container for adds). */
function mutate(data: Record<string, unknown>, next: () => number): Path {
  // The object's identity and the maps holding it stay (a live object always has them).
  const candidates = paths(data).filter((path) => path.length > 0 && !IDENTITY.some((fixed) => fixed.length >= path.length && path.every((k, i) => k === fixed[i])));
  if (candidates.length === 0) {
    data[`added-${Math.floor(next() * 1000)}`] = scalar(next);
    return [];
  }
  const path = candidates[Math.floor(next() * candidates.length)] as Path;
  const parentPath = path.slice(0, -1);
  const parent = get(data, parentPath) as Record<string | number, unknown> | unknown[];
  const key = path[path.length - 1] as string | number;
  const value = get(data, path);
  const roll = next();
  if (Array.isArray(value) && roll < 0.5) {
    const at = Math.floor(next() * (value.length + 1));
    if (next() < 0.5 && value.length > 1) value.splice(Math.min(at, value.length - 1), 1);
    else value.splice(at, 0, scalar(next));
    return path;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && roll < 0.5) {
    const keys = Object.keys(value);
    if (next() < 0.4 && keys.length > 1) delete (value as Record<string, unknown>)[keys[Math.floor(next() * keys.length)] as string];
    else (value as Record<string, unknown>)[`added-${Math.floor(next() * 1000)}`] = scalar(next);
    return path;
  }
  if (roll < 0.85 || Array.isArray(parent)) {
    (parent as Record<string | number, unknown>)[key] = scalar(next);
    return path;
  }
  if (Object.keys(parent).length > 1 && !(parentPath.length === 1 && parentPath[0] === 'metadata')) delete (parent as Record<string, unknown>)[key as string];
  else (parent as Record<string, unknown>)[key as string] = scalar(next);
  return parentPath;
}

describe('in-place edits of hand-written files', () => {
  it('keeps the file as it was when the object is unchanged', () => {
    for (const { text } of corpus) {
      readDocuments(text).forEach((document, index) => {
        if (document.contents) expect(editDocument(text, index, document.toJS(TO_JS))).toBe(text);
      });
    }
  });

  it('a flow collection written anew is spaced the way people write flow style: `[a, b]`, `{k: v}`', () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flow, labels: {}}   # flow\nresources: []   # filled in later\nargs: [one]\n';
    const edited = editDocument(text, 0, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'flow', labels: { app: 'web', tier: 'yes' } },
      resources: ['a.yaml', 'b/'],
      args: ['one', ['x', 'z']],
    });
    expect(edited).toBe('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flow, labels: {app: web, tier: "yes"}}   # flow\nresources: [a.yaml, b/]   # filled in later\nargs: [one, [x, z]]\n');
    expect(withResource('resources: []   # the sink lists its files\n', 'ns/configmaps/a.yaml')).toBe('resources: [ns/configmaps/a.yaml]   # the sink lists its files\n');
  });

  it('a key that held an anchor removed: its aliases are written out as the values they stand for, where they are', () => {
    const anchors = corpus.find((file) => file.name === 'anchors.yaml')?.text as string;
    const settings = readDocuments(anchors)[0]?.toJS(TO_JS) as { data: Record<string, unknown> };
    const { region: _, ...data } = settings.data;
    expect(editDocument(anchors, 0, { ...settings, data })).toBe(anchors.replace('  region: &region eu-west-1\n', '').replace('backup-region: *region', 'backup-region: eu-west-1'));

    const text = `apiVersion: v1
kind: ConfigMap
metadata:
  name: shared
  labels: &labels
    app: web   # the app
    tier: back
data:
  first: &first one
  list:
    - *first
    - keep
spec:
  selector: *labels   # same as the labels
`;
    const desired = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared' }, data: { list: ['one', 'keep'] }, spec: { selector: { app: 'web', tier: 'back' } } };
    expect(editDocument(text, 0, desired)).toBe(`apiVersion: v1
kind: ConfigMap
metadata:
  name: shared
data:
  list:
    - one
    - keep
spec:
  selector: {app: web, tier: back}   # same as the labels
`);
  });

  it('1,000 random changes: each file reads as the new object, the other documents stay, bytes outside the changed value are unchanged', () => {
    const next = random(20_260_101);
    const texts = new Map(corpus.map(({ name, text }) => [name, text]));
    let localityChecked = 0;
    let wholeValue = 0;
    for (let change = 0; change < 1000; change++) {
      const { name } = corpus[change % corpus.length] as { name: string };
      const before = texts.get(name) as string;
      const documents = readDocuments(before);
      const objects = documents.map((d) => d.toJS(TO_JS));
      const candidates = objects.map((o, i) => (o && typeof o === 'object' ? i : -1)).filter((i) => i >= 0);
      const index = candidates[Math.floor(next() * candidates.length)] as number;
      const desired = structuredClone(objects[index]) as Record<string, unknown>;
      const path = mutate(desired, next);
      const allowed = allowedRange(before, index, path);
      const after = editDocument(before, index, desired);
      const reread = readDocuments(after);
      expect(reread.map((d) => d.errors.length)).toEqual(documents.map(() => 0));
      expect(sameData(reread[index]?.toJS(TO_JS), desired), `${name} #${change}: reads as the new object`).toBe(true);
      reread.forEach((d, i) => {
        if (i !== index) expect(d.toJS(TO_JS)).toEqual(objects[i]);
      });
      if (before.includes('\r\n')) expect(after.replace(/\r\n/g, '').includes('\n')).toBe(false);
      const span = changedSpan(before, after);
      if (span && !allowed.aliased) {
        expect(span.start, `${name} #${change} at ${path.join('.')}: change starts inside the value`).toBeGreaterThanOrEqual(allowed.start);
        expect(span.end, `${name} #${change} at ${path.join('.')}: change ends inside the value`).toBeLessThanOrEqual(allowed.end);
        localityChecked++;
      } else if (span) wholeValue++;
      texts.set(name, after);
    }
    // Anchored values may change where their aliases are; everything else was checked for locality.
    expect(localityChecked).toBeGreaterThan(700);
    expect(wholeValue).toBeLessThan(300);
    // Comments above keys and at the top of a file outlive every change of the values below them.
    for (const { name, text } of corpus) {
      const final = texts.get(name) as string;
      for (const comment of ['# The web front end.', '# Everything the checkout service needs', '# edited on Windows']) {
        if (text.includes(comment)) expect(final, `${name} keeps "${comment}"`).toContain(comment);
      }
    }
  });
});

describe('comments above a removed or replaced key are a person`s: they stay, above the next key or at the end of their map, never in another document', () => {
  const head = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n';
  const object = (rest: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, ...rest });
  const file = `${head}data:\n  # about a\n  a: "1"\n  # about b\n  b: "2"\n  # about c\n  c: "3"\n  # about d\n  d: "4"\n---\n# the next document\nkind: Other\n`;

  it('a key with one after it in its map: its own lines go, the comment above it stays above the key that follows', () => {
    expect(editDocument(file, 0, object({ data: { a: '1', c: '3', d: '4' } }))).toBe(file.replace('  b: "2"\n', ''));
  });

  it('a run of keys: each loses its own lines; the comments above each stay, in order, above the key after the run (as when removed one at a time)', () => {
    const atOnce = editDocument(file, 0, object({ data: { a: '1', d: '4' } }));
    expect(atOnce).toBe(file.replace('  b: "2"\n', '').replace('  c: "3"\n', ''));
    expect(editDocument(editDocument(file, 0, object({ data: { a: '1', c: '3', d: '4' } })), 0, object({ data: { a: '1', d: '4' } }))).toBe(atOnce);
  });

  it('the last key of a map: its comment stays at the end of the map, in its document: before `---`, never after it', () => {
    const edited = editDocument(file, 0, object({ data: { a: '1', b: '2', c: '3' } }));
    expect(edited).toBe(file.replace('  d: "4"\n', ''));
    const [first, second] = edited.split(/^---\n/m);
    expect(first).toContain('  # about d\n');
    expect(second).toBe('# the next document\nkind: Other\n');
  });

  it('the last key of a nested map: its comment stays at the nested map`s column (it does not become a comment of the outer key that follows)', () => {
    const text = `${head}  # who runs it\n  labels:\n    # the team\n    team: web\ndata:\n  a: "1"\n`;
    // The comment inside the removed value goes with it; the one above the key stays where it was.
    expect(editDocument(text, 0, object({ data: { a: '1' } }))).toBe(`${head}  # who runs it\ndata:\n  a: "1"\n`);
  });

  it('a replaced value keeps the comment above its key (the key is still there)', () => {
    expect(editDocument(file, 0, object({ data: { a: '1', b: { nested: true }, c: '3', d: '4' } }))).toBe(file.replace('  b: "2"\n', '  b:\n    nested: true\n'));
  });

  it('list items: as keys', () => {
    const list = 'apiVersion: v1\nkind: List\nitems:\n  # first\n  - a\n  # second\n  - b\n  # third\n  - c\n---\nkind: Other\n';
    const items = (values: string[]) => ({ apiVersion: 'v1', kind: 'List', items: values });
    expect(editDocument(list, 0, items(['a', 'c']))).toBe(list.replace('  - b\n', ''));
    expect(editDocument(list, 0, items(['a']))).toBe(list.replace('  - b\n', '').replace('  - c\n', ''));
  });

  it('on every map of the hand-written files: removing a key with a scalar value keeps every comment line of the file, each in its own document', () => {
    const commentsByDocument = (text: string) => text.split(/^---.*$/m).map((chunk) => chunk.split(/\r?\n/).filter((line) => /^\s*#/.test(line)));
    let checked = 0;
    for (const { name, text } of corpus) {
      readDocuments(text).forEach((document, index) => {
        const data = document.toJS(TO_JS) as unknown;
        for (const path of paths(data)) {
          const map = get(data, path);
          if (path.length === 0 || map === null || typeof map !== 'object' || Array.isArray(map)) continue;
          for (const key of Object.keys(map)) {
            const value = (map as Record<string, unknown>)[key];
            if (Object.keys(map).length < 2 || (value !== null && typeof value === 'object') || IDENTITY.some((fixed) => fixed.join('.') === [...path, key].join('.'))) continue;
            const desired = structuredClone(data) as Record<string, unknown>;
            delete (get(desired, path) as Record<string, unknown>)[key];
            const edited = editDocument(text, index, desired);
            expect(sameData(readDocuments(edited)[index]?.toJS(TO_JS), desired), `${name} ${[...path, key].join('.')}`).toBe(true);
            expect(commentsByDocument(edited), `${name} ${[...path, key].join('.')}`).toEqual(commentsByDocument(text));
            checked++;
          }
        }
      });
    }
    expect(checked).toBeGreaterThan(20);
  });
});
