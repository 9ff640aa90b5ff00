import { readFileSync } from 'node:fs';
import { grError } from '@gitops-reverser/contract';
import { NatsBusErrorCodes } from './nats-bus-error-codes.js';
import type { NatsMessageKey } from './nats-bus-options.js';

/** A message key as the authenticator uses it: its id and its bytes. */
export interface MessageKey {
  readonly id: string;
  readonly secret: Buffer;
}

/** HMAC-SHA256 keys shorter than its output give less than its strength. */
export const MIN_KEY_BYTES = 32;

/**
 * The configured message keys, read (files at load, so `validate` reports a missing one) and
 * checked: 32+ bytes each, ids unique. Surrounding whitespace (a file's trailing newline) is not
 * part of a key. Values are never echoed in errors; positions say which entry is wrong.
 */
export function loadMessageKeys(entries: readonly NatsMessageKey[], allowUnsigned: boolean): MessageKey[] {
  if (entries.length === 0 && !allowUnsigned) {
    throw grError(NatsBusErrorCodes.MESSAGE_KEY, 'no message key is configured: anyone who can publish to NATS could write to your repositories', {
      fix: 'set messageKeys: [{ id: k1, file: /path/to/key }] (the same key in every replica; make one with `openssl rand -base64 48`), or allowUnsignedMessages: true to accept that risk',
      details: { optionPath: 'messageKeys' },
    });
  }
  const seen = new Set<string>();
  return entries.map((entry, index) => {
    const optionPath = `messageKeys[${index}]`;
    if (seen.has(entry.id)) throw grError(NatsBusErrorCodes.MESSAGE_KEY, `message key id "${entry.id}" is used twice`, { fix: 'give each key its own id', details: { optionPath } });
    seen.add(entry.id);
    const secret = Buffer.from(secretOf(entry, optionPath).trim(), 'utf8');
    if (secret.length < MIN_KEY_BYTES) {
      throw grError(NatsBusErrorCodes.MESSAGE_KEY, `message key "${entry.id}" has ${secret.length} bytes; at least ${MIN_KEY_BYTES} are needed`, {
        fix: 'make one with `openssl rand -base64 48`',
        details: { optionPath },
      });
    }
    return { id: entry.id, secret };
  });
}

function secretOf(entry: NatsMessageKey, optionPath: string): string {
  if ((entry.file === undefined) === (entry.value === undefined)) {
    throw grError(NatsBusErrorCodes.MESSAGE_KEY, `message key "${entry.id}" needs exactly one of file and value`, { fix: 'set file: (a mounted Secret) or value: "${VAR}"', details: { optionPath } });
  }
  if (entry.value !== undefined) return entry.value;
  try {
    return readFileSync(entry.file as string, 'utf8');
  } catch (cause) {
    throw grError(NatsBusErrorCodes.MESSAGE_KEY, `cannot read message key "${entry.id}" from ${entry.file}: ${(cause as Error).message}`, {
      fix: 'check the path (relative to the config file) and that it is readable',
      details: { optionPath: `${optionPath}.file` },
    });
  }
}
