import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { MessageKey } from './message-keys.js';
import { HEADER_PARTITION } from './stream-layout.js';

/** Header with the id of the key that signed the message. */
export const HEADER_MAC_KEY = 'Gr-Mac-Key';
/** Header with the message's HMAC-SHA256 (base64url). */
export const HEADER_MAC = 'Gr-Mac';
/** Header with the time of signing (ms since the epoch), covered by the MAC: a replay keeps it. */
export const HEADER_SIGNED_AT = 'Gr-Signed-At';
/** JetStream's deduplication header: covered by the MAC, so a replay cannot escape deduplication with a new id. */
export const HEADER_MESSAGE_ID = 'Nats-Msg-Id';

/** Why a delivery is not authentic; `label` is a metric label, `text` the reason stored and logged. */
export interface Inauthentic {
  readonly label: 'unsigned' | 'unknown_key' | 'bad_mac' | 'replayed';
  readonly text: string;
}

/** What the MAC covers: everything that decides where and how a message is applied. */
interface Covered {
  readonly keyId: string;
  readonly subject: string;
  readonly partitionKey: string;
  readonly messageId: string;
  readonly signedAt: string;
  readonly data: Uint8Array;
}

const DOMAIN = 'gitops-reverser nats message v1';

/**
 * Signs each published message with the first message key and checks each delivery against all of
 * them (ADR 0014). The MAC covers the subject, the partition key, the message id, the signing time
 * and the body, so a message cannot be altered, moved to another partition or installation, or
 * given a new id. A copy published again later is refused by its signing time: stored more than half
 * the replay window away from it, it is a replay (within the window, JetStream drops it as a duplicate).
 */
export class MessageAuthenticator {
  private readonly byId: ReadonlyMap<string, Buffer>;

  constructor(
    private readonly keys: readonly MessageKey[],
    private readonly allowUnsigned: boolean,
    /** JetStream's duplicate window: a signed message must be stored within half of it of its signing time. */
    private readonly replayWindowMs: number,
  ) {
    this.byId = new Map(keys.map((key) => [key.id, key.secret]));
  }

  /** Adds the MAC headers for `data` on `subject` (the partition and message id headers must be set already). */
  sign(headers: MsgHdrs, subject: string, data: Uint8Array, now = Date.now()): void {
    const key = this.keys[0];
    if (!key) return; // unsigned messages allowed, no key configured
    const signedAt = String(now);
    headers.set(HEADER_MAC_KEY, key.id);
    headers.set(HEADER_SIGNED_AT, signedAt);
    headers.set(HEADER_MAC, mac(key.secret, { keyId: key.id, subject, partitionKey: headers.get(HEADER_PARTITION), messageId: headers.get(HEADER_MESSAGE_ID), signedAt, data }));
  }

  /** Undefined when the delivery is authentic (or unsigned messages are allowed and it has no MAC); else why not. */
  verify(headers: MsgHdrs | undefined, subject: string, data: Uint8Array, storedAtMs: number): Inauthentic | undefined {
    const given = headers?.get(HEADER_MAC) ?? '';
    if (given === '') {
      if (this.allowUnsigned) return undefined;
      return { label: 'unsigned', text: `no ${HEADER_MAC} header: published by a client without the message key` };
    }
    const keyId = headers?.get(HEADER_MAC_KEY) ?? '';
    const secret = this.byId.get(keyId);
    if (!secret) return { label: 'unknown_key', text: `signed with key id ${JSON.stringify(keyId.slice(0, 64))}, which is not among messageKeys` };
    const signedAt = headers?.get(HEADER_SIGNED_AT) ?? '';
    const expected = Buffer.from(mac(secret, { keyId, subject, partitionKey: headers?.get(HEADER_PARTITION) ?? '', messageId: headers?.get(HEADER_MESSAGE_ID) ?? '', signedAt, data }));
    const actual = Buffer.from(given);
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
      return { label: 'bad_mac', text: `the MAC (key ${keyId}) does not match: the message was forged or altered` };
    }
    const skewMs = storedAtMs - Number(signedAt);
    if (!/^\d+$/.test(signedAt) || !Number.isFinite(skewMs) || Math.abs(skewMs) > this.replayWindowMs / 2) {
      return {
        label: 'replayed',
        text: `signed at ${signedAt} but stored ${Math.round(skewMs / 1000)} s later: a replayed copy, or clocks of a replica and NATS more than ${this.replayWindowMs / 2000} s apart`,
      };
    }
    return undefined;
  }
}

/** HMAC-SHA256 over the covered fields, each length-prefixed (no field can run into the next), then the body. */
function mac(secret: Buffer, covered: Covered): string {
  const hmac = createHmac('sha256', secret);
  for (const field of [DOMAIN, covered.keyId, covered.subject, covered.partitionKey, covered.messageId, covered.signedAt]) {
    const bytes = Buffer.from(field, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hmac.update(length).update(bytes);
  }
  return hmac.update(covered.data).digest('base64url');
}
