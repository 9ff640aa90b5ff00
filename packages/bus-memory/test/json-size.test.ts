import { describe, expect, it } from 'vitest';
import { jsonByteLength } from '../src/json-size.js';

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) as string);

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

// Every kind of code unit JSON escapes or encodes differently: quotes, backslash, the short and the
// \u00XX control escapes, 1- to 3-byte characters, surrogate pairs, lone surrogates of both halves.
const UNITS = ['a', ' ', '~', '"', '\\', '/', '\b', '\t', '\n', '\f', '\r', '\u0000', '\u001f', '\u007f', 'é', '\u07ff', '\u0800', '€', '\uffff', '😀', '\ud800', '\udc00', '\udbff\udfff'];
const STRANGE = [undefined, () => 1, Symbol('s'), Number.NaN, Number.POSITIVE_INFINITY, -0, 1e21, 1.5e-7, 2 ** 53, -12.25];

function generate(next: () => number, depth: number): unknown {
  const roll = next();
  const pick = <T>(pool: readonly T[]): T => pool[Math.floor(next() * pool.length)] as T;
  if (depth > 0 && roll < 0.25) {
    const map: Record<string, unknown> = next() < 0.1 ? Object.create(null) : {};
    for (let i = Math.floor(next() * 5); i > 0; i--) map[text(next)] = generate(next, depth - 1);
    return map;
  }
  if (depth > 0 && roll < 0.4) return Array.from({ length: Math.floor(next() * 4) }, () => generate(next, depth - 1));
  if (roll < 0.5) return pick(STRANGE);
  if (roll < 0.6) return pick([true, false, null, 0, 7, -3, 1234567]);
  return text(next);
}

function text(next: () => number): string {
  let out = '';
  for (let i = Math.floor(next() * 12); i > 0; i--) out += UNITS[Math.floor(next() * UNITS.length)];
  return next() < 0.3 ? `key-${out}` : out;
}

describe('jsonByteLength', () => {
  it('is the byte length of JSON.stringify on 20,000 generated values (escapes, surrogates, members JSON leaves out, holes)', () => {
    const next = random(5);
    for (let n = 0; n < 20_000; n++) {
      const value = { kind: 'change', n, body: generate(next, 4) };
      expect({ n, size: jsonByteLength(value) }).toEqual({ n, size: jsonBytes(value) });
    }
    // A list with holes and a sparse tail.
    const sparse: unknown[] = [1];
    sparse[4] = 'x';
    expect(jsonByteLength({ sparse })).toBe(jsonBytes({ sparse }));
  });

  it('is measured by JSON.stringify for what is not plain data: toJSON, class instances, typed arrays', () => {
    class Thing {
      readonly a = 'é';
    }
    for (const value of [{ at: new Date(0) }, { own: { toJSON: () => 'x"y' } }, { thing: new Thing() }, { bytes: new Uint8Array([1, 2]) }, { map: new Map([[1, 2]]) }, [new Date(5)], 'top', 12]) {
      expect(jsonByteLength(value)).toBe(jsonBytes(value));
    }
  });

  it('throws what JSON.stringify throws: a cycle, a BigInt, nothing to write', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle['self'] = { again: cycle };
    expect(() => jsonByteLength(cycle)).toThrow(TypeError);
    expect(() => jsonByteLength({ big: 1n })).toThrow(TypeError);
    expect(() => jsonByteLength(undefined)).toThrow(TypeError);
  });

  it('measures deep plain data as JSON.stringify does', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 500; i++) deep = i % 2 ? { d: deep } : [deep];
    expect(jsonByteLength(deep)).toBe(jsonBytes(deep));
  });
});
