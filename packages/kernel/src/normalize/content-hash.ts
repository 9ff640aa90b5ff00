import xxhash from 'xxhash-wasm';

const { h64ToString } = await xxhash();

/** xxhash64 of a string, as 16 hex digits. */
export function contentHash(text: string): string {
  return h64ToString(text);
}
