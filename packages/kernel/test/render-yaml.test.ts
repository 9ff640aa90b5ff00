import { describe, expect, it } from 'vitest';
import { inWrittenOrder } from '@gitops-reverser/contract';
import { renderCommonYaml, renderCommonYamlInWrittenOrder, renderYaml, renderYamlWithLibrary } from '../src/normalize/render-yaml.js';

// The fast path must give the `yaml` library's bytes exactly (a different byte would rewrite every
// file of every repository once). Objects are generated from pools that mix what the fast path takes
// with what it must leave to the library, at every position (keys, values, list items, nesting).
const STRINGS = [
  'x',
  'shop',
  '_cluster',
  'a-',
  'a.b/c',
  'app.kubernetes.io/name',
  'V1',
  'x'.repeat(300),
  'y',
  'Y',
  'yes',
  'Yes',
  'YES',
  'yEs',
  'n',
  'N',
  'no',
  'NO',
  'nO',
  'on',
  'On',
  'ON',
  'oN',
  'off',
  'OFF',
  'true',
  'True',
  'TRUE',
  'tRUE',
  'false',
  'null',
  'Null',
  'NULL',
  'nULL',
  '~',
  '0',
  '3',
  '10',
  '007',
  '08',
  '12345678901234567890',
  '1.5',
  '1e5',
  '0x1F',
  '12:30',
  '1_000',
  '-5',
  '+5',
  '.5',
  '.inf',
  '.NaN',
  '',
  ' ',
  'a b',
  'a: b',
  'a #b',
  '#a',
  '-a',
  '- a',
  'a\nb',
  'line1\nline2\n',
  'tab\there',
  '"quoted"',
  "it's",
  'ünïcode',
  'emoji 🚀',
  '@at',
  '!bang',
  '*star',
  '&amp',
  '%pct',
  '[x]',
  '{x}',
  'a,b',
  '?q',
  '|pipe',
  '>gt',
  '=eq',
  '2026-11-22T05:30:52Z',
  '2026-11-22',
];
const KEYS = [...STRINGS.filter((s) => s.length < 40), 'name', 'namespace', 'labels', 'data', 'spec', 'items'];

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

// Only what the fast path takes: every object made from these must be taken, and match.
const COMMON_STRINGS = ['x', 'shop', '_cluster', 'a-', 'a.b/c', 'app.kubernetes.io/name', 'yes', 'Yes', 'yEs', 'n', 'NULL', 'nULL', 'on', '0', '3', '10', '', 'x'.repeat(300)];
const COMMON_NUMBERS = [0, 1, -2, 42, 2 ** 53 - 1];

function generate(next: () => number, depth: number, strings = STRINGS, keys = KEYS, numbers: readonly number[] = [0, 1, -2, 42, 2 ** 53 - 1, 2 ** 60, 1.5, -0, Number.NaN], lists = true): unknown {
  const roll = next();
  const pick = <T>(pool: readonly T[]): T => pool[Math.floor(next() * pool.length)] as T;
  if (depth > 0 && roll < 0.3) {
    const map: Record<string, unknown> = {};
    const size = Math.floor(next() * 5);
    for (let i = 0; i < size; i++) map[pick(keys)] = generate(next, depth - 1, strings, keys, numbers, true);
    return map;
  }
  // A list directly inside a list is left to the library: the common generator never nests them.
  if (depth > 0 && roll < 0.45 && lists) return Array.from({ length: Math.floor(next() * 4) }, () => generate(next, depth - 1, strings, keys, numbers, strings === STRINGS));
  if (roll < 0.55) return pick(numbers);
  if (roll < 0.6) return pick([true, false, null]);
  return pick(strings);
}

describe('renderYaml', () => {
  it('the fast path gives exactly the library bytes on 20,000 generated objects (and takes a good share)', () => {
    const next = random(7);
    let taken = 0;
    for (let n = 0; n < 20_000; n++) {
      const object: Record<string, unknown> = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${n}` } };
      const size = 1 + Math.floor(next() * 4);
      for (let i = 0; i < size; i++) object[KEYS[Math.floor(next() * KEYS.length)] as string] = generate(next, 4);
      const fast = renderCommonYaml(object);
      if (fast === undefined) continue;
      taken++;
      expect({ n, fast }).toEqual({ n, fast: renderYamlWithLibrary(object) });
    }
    expect(taken).toBeGreaterThan(1_000);
  });

  it('takes every object made only of common shapes, with the library bytes', () => {
    const next = random(11);
    for (let n = 0; n < 5_000; n++) {
      const object: Record<string, unknown> = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${n}` } };
      const size = 1 + Math.floor(next() * 4);
      for (let i = 0; i < size; i++) object[COMMON_STRINGS[Math.floor(next() * COMMON_STRINGS.length)] || 'k'] = generate(next, 4, COMMON_STRINGS, COMMON_STRINGS.filter(Boolean), COMMON_NUMBERS);
      const fast = renderCommonYaml(object);
      expect({ n, fast }).toEqual({ n, fast: renderYamlWithLibrary(object) });
    }
  });

  it('written in order as walked, the fast path gives the bytes of the ordered copy (undefined values, index keys, metadata first)', () => {
    const next = random(13);
    // Keys in any order, some with undefined values, some array indexes ("0", "10"), metadata's name and namespace anywhere.
    const keys = [...COMMON_STRINGS.filter(Boolean), 'name', 'namespace', 'metadata', 'kind', 'apiVersion', 'zz', 'Ab'];
    let taken = 0;
    for (let n = 0; n < 10_000; n++) {
      const object: Record<string, unknown> = {};
      const size = 1 + Math.floor(next() * 6);
      for (let i = 0; i < size; i++) {
        const key = keys[Math.floor(next() * keys.length)] as string;
        object[key] = next() < 0.1 ? undefined : generate(next, 3, COMMON_STRINGS, keys, COMMON_NUMBERS);
      }
      if (next() < 0.7) object['metadata'] = { ...(next() < 0.5 ? { labels: { b: 'x', a: 'y' } } : {}), namespace: 'shop', name: `cm-${n}`, ...(next() < 0.2 ? { '3': 'x' } : {}) };
      if (next() < 0.7) object['apiVersion'] = 'v1';
      const direct = renderCommonYamlInWrittenOrder(object);
      const copied = renderCommonYaml(inWrittenOrder(object as never));
      if (direct === undefined) {
        // Given up only where the copy's order is not the walk's (an index key) or the copy is no common shape.
        expect({ n, copied: copied === undefined || JSON.stringify(object).match(/"(0|[1-9][0-9]*)":/) !== null }).toEqual({ n, copied: true });
        continue;
      }
      taken++;
      expect({ n, direct }).toEqual({ n, direct: copied });
      expect(renderYaml(object as never)).toBe(renderYamlWithLibrary(inWrittenOrder(object as never)));
    }
    expect(taken).toBeGreaterThan(3_000);
  });

  it('takes a typical object and renders it as the library does', () => {
    const object = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop', labels: { 'app.kubernetes.io/name': 'web', tier: 'backend' } },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [], resources: {} }] } },
      },
    };
    expect(renderCommonYaml(object)).toBeDefined();
    expect(renderYaml(object)).toBe(renderYamlWithLibrary(inWrittenOrder(object)));
  });

  it('leaves multi-line and punctuated values to the library', () => {
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { 'settings.yaml': 'a: 1\nb: 2\n' } };
    expect(renderCommonYaml(object)).toBeUndefined();
    expect(renderYaml(object)).toBe(renderYamlWithLibrary(inWrittenOrder(object)));
  });
});
