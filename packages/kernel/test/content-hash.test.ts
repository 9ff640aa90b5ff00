import xxhash from 'xxhash-wasm';
import { describe, expect, it } from 'vitest';
import { contentHash, contentHashImplementation } from '../src/normalize/content-hash.js';
import { xxhash64 } from '../src/normalize/xxhash64.js';

const { h64ToString } = await xxhash();

/** A deterministic generator, so a failure names a reproducible string. */
function strings(count: number, seed: number): string[] {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  // Multi-byte UTF-8 of every width, an astral pair and a lone surrogate (encoded as U+FFFD by both).
  const unusual = ['é', '€', 'ß', '日本', '😀', '\ud800', '\udfff', '\u0000', '\n', '\t'];
  const result: string[] = [];
  for (let i = 0; i < count; i++) {
    // Every length up to 100 (each tail of the stripe and lane loops), then longer ones.
    const length = i <= 100 ? i : Math.floor(next() * 5000);
    let text = '';
    for (let c = 0; c < length; c++) text += next() < 0.9 ? String.fromCharCode(32 + Math.floor(next() * 95)) : unusual[Math.floor(next() * unusual.length)];
    result.push(text);
  }
  return result;
}

describe('contentHash: xxhash64 of the UTF-8 bytes', () => {
  it('the JavaScript xxhash64 equals xxhash-wasm on 2,000 strings of every length to 100 and up to 5,000 characters', () => {
    const mismatches = strings(2000, 2026).filter((text) => xxhash64(text) !== h64ToString(text));
    expect(mismatches.map((text) => JSON.stringify(text.slice(0, 40)))).toEqual([]);
  });

  it('matches the specification’s published values', () => {
    // xxHash's reference test vectors for seed 0.
    expect(xxhash64('')).toBe('ef46db3751d8e999');
    expect(xxhash64('a')).toBe('d24ec4f1a98c6e5b');
    expect(xxhash64('abc')).toBe('44bc2cf5ad770999');
  });

  it('uses the JavaScript version for a small volume, loads xxhash-wasm for a burst, and the hashes stay the same', async () => {
    const text = `apiVersion: v1\nkind: ConfigMap\ndata:\n  key: ${'v'.repeat(1000)}\n`;
    expect(contentHashImplementation()).toBe('javascript');
    const small = contentHash(text);
    expect(contentHashImplementation()).toBe('javascript');
    // ~1,100 objects of ~1 KB in one window: a seed's volume.
    for (let i = 0; i < 1100; i++) contentHash(text + i);
    await expect.poll(() => contentHashImplementation(), { timeout: 10_000 }).toBe('wasm');
    expect(contentHash(text)).toBe(small);
    expect(contentHash(text)).toBe(h64ToString(text));
  });
});
