import { createHmac } from 'node:crypto';

/** Used for unprotected objects when no key is configured: their plaintext is on the bus anyway. */
const PUBLIC_KEY = 'gitops-reverser content hash';

/**
 * The content hash that lets a fact about a write seen before it was stored (admission) find the
 * change the write made: HMAC-SHA-256 of the sanitized object's text, 128 bits in hex. Every replica
 * must compute the same, so the key (`attribution.contentKeyFile`) is shared. A protected object's
 * plaintext (a Secret) is never hashed without that key: an unkeyed hash of a 4-digit PIN is reversed
 * in a second. Without the key, protected objects get no hash and are attributed by audit only.
 */
export class ContentHasher {
  constructor(private readonly key: Buffer | undefined) {}

  /** The hash of `text`, or undefined for a protected object without a configured key. */
  hash(text: string, protectedObject: boolean): string | undefined {
    if (protectedObject && !this.key) return undefined;
    return createHmac('sha256', this.key ?? PUBLIC_KEY)
      .update(text)
      .digest()
      .toString('hex', 0, 16); // 128 bits; a slice of the 64-digit text would keep all of it alive
  }
}

/** The manager of an object's latest write per its `managedFields` (the entry with the newest time), or undefined. */
export function latestFieldManager(object: unknown): string | undefined {
  const fields = (object as { metadata?: { managedFields?: unknown } } | undefined)?.metadata?.managedFields;
  if (!Array.isArray(fields)) return undefined;
  let latest: { manager: string; time: string } | undefined;
  for (const entry of fields as { manager?: unknown; time?: unknown; subresource?: unknown }[]) {
    // Status writes are controllers reporting, not the change a commit records.
    if (typeof entry?.manager !== 'string' || entry.subresource === 'status') continue;
    const time = typeof entry.time === 'string' ? entry.time : '';
    if (!latest || time > latest.time) latest = { manager: entry.manager, time };
  }
  return latest?.manager;
}
