import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ContentHasher } from '../src/ingest/content-hasher.js';

describe('ContentHasher', () => {
  const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n';

  it('is the first 128 bits of HMAC-SHA-256 of the text, in hex, with the configured key', () => {
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    const expected = createHmac('sha256', key).update(text).digest('hex').slice(0, 32);
    expect(new ContentHasher(key).hash(text, false)).toBe(expected);
    expect(new ContentHasher(key).hash(text, true)).toBe(expected);
  });

  it('uses the public key for unprotected objects without a configured key, and gives protected ones no hash', () => {
    const expected = createHmac('sha256', 'gitops-reverser content hash').update(text).digest('hex').slice(0, 32);
    expect(new ContentHasher(undefined).hash(text, false)).toBe(expected);
    expect(new ContentHasher(undefined).hash(text, true)).toBeUndefined();
  });

  it('gives equal texts equal hashes and different texts different ones', () => {
    const hasher = new ContentHasher(undefined);
    expect(hasher.hash(text, false)).toBe(hasher.hash(`${text}`, false));
    expect(hasher.hash(text, false)).not.toBe(hasher.hash(`${text}data: {}\n`, false));
    expect(hasher.hash(text, false)).toMatch(/^[0-9a-f]{32}$/);
  });
});
