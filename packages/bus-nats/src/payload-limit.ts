import { ContractErrorCodes, grError } from '@gitops-reverser/contract';
import type { MsgHdrs } from '@nats-io/transport-node';

/** How long the bus reports `degraded` after it refused a message that can never fit. */
export const DEGRADED_AFTER_REFUSAL_MS = 5 * 60_000;

/** Bytes of a message as NATS counts them against `max_payload`: the encoded headers plus the body. */
export function messageBytes(headers: MsgHdrs | undefined, data: Uint8Array): number {
  if (!headers) return data.length;
  // The wire form: "NATS/1.0", then "\r\nName: value" per value, then "\r\n\r\n".
  let bytes = 'NATS/1.0'.length + 4;
  for (const [name, values] of headers) for (const value of values) bytes += 4 + Buffer.byteLength(name) + Buffer.byteLength(value);
  return bytes + data.length;
}

/**
 * The server's `max_payload` as the bus meets it: a message over it can never be stored, so
 * `publish` rejects it at once (`GR_ERR_BUS_MESSAGE_TOO_LARGE`, never retried; the kernel refuses
 * the change) instead of retrying it forever and stalling its source. The last refusal is kept for
 * `/readyz`: the bus is degraded for `DEGRADED_AFTER_REFUSAL_MS` after it.
 */
export class PayloadLimit {
  private refusals = 0;
  private last: { at: number; text: string } | undefined;

  /** Throws when `sizeBytes` exceeds `limitBytes` (the connected server's max_payload). */
  check(partitionKey: string, sizeBytes: number, limitBytes: number | undefined): void {
    if (limitBytes === undefined || sizeBytes <= limitBytes) return;
    this.refuse(partitionKey, sizeBytes, limitBytes);
  }

  /** Throws the refusal (and remembers it): also for the client's own max_payload error, should it ever disagree with `check`. */
  refuse(partitionKey: string, sizeBytes: number, limitBytes: number | undefined): never {
    this.refusals++;
    const text = `a message for ${partitionKey} is ${sizeBytes} bytes; the NATS server carries at most ${limitBytes ?? 'less'} (max_payload)`;
    this.last = { at: Date.now(), text };
    throw grError(ContractErrorCodes.BUS_MESSAGE_TOO_LARGE, text, {
      fix: 'raise max_payload in the nats-server config (e.g. max_payload: 8MB; clients learn it when they connect), or leave the object out with a rule',
      details: { sizeBytes, limitBytes, partition: partitionKey },
    });
  }

  /** Why the bus is degraded, while a refusal is recent; undefined otherwise. */
  degradedReason(now = Date.now()): string | undefined {
    if (!this.last || now - this.last.at > DEGRADED_AFTER_REFUSAL_MS) return undefined;
    return `refused ${this.refusals} message(s) larger than the NATS server's max_payload (the changes are not written); the last ${Math.round((now - this.last.at) / 1000)} s ago: ${this.last.text}`;
  }
}
