/**
 * The few ASN.1 DER encodings an X.509 certificate needs (X.690). Node can sign and parse
 * certificates but not build one, and a dependency for this would be the only one of its kind.
 */

function length(size: number): Buffer {
  if (size < 0x80) return Buffer.from([size]);
  const bytes: number[] = [];
  for (let rest = size; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One element: tag, length, contents. */
export function tlv(tag: number, contents: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(contents.length), contents]);
}

export const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
export const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
export const octetString = (bytes: Buffer) => tlv(0x04, bytes);
export const utf8String = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
export const boolean = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
/** `[n] EXPLICIT`: a constructed context-specific wrapper. */
export const explicit = (n: number, inner: Buffer) => tlv(0xa0 | n, inner);
/** `[n] IMPLICIT` of a primitive type: the context-specific tag replaces the type's own. */
export const implicit = (n: number, bytes: Buffer) => tlv(0x80 | n, bytes);

/** A non-negative INTEGER from its big-endian bytes (a leading zero keeps it positive). */
export function integer(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && ((bytes[start + 1] as number) & 0x80) === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, ((trimmed[0] as number) & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** A BIT STRING of whole bytes whose trailing zero bits are unused (how DER writes named bit lists like keyUsage). */
export function namedBits(bytes: Buffer): Buffer {
  const last = bytes[bytes.length - 1] ?? 0;
  let unused = 0;
  while (unused < 7 && last !== 0 && (last & (1 << unused)) === 0) unused++;
  return tlv(0x03, Buffer.concat([Buffer.from([last === 0 ? 0 : unused]), bytes]));
}

/** A BIT STRING holding bytes (a signature). */
export const bitString = (bytes: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));

export function objectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out = [40 * (arcs[0] as number) + (arcs[1] as number)];
  for (const arc of arcs.slice(2)) {
    const base128: number[] = [];
    for (let rest = arc; ; rest = Math.floor(rest / 128)) {
      base128.unshift((rest % 128) | (base128.length > 0 ? 0x80 : 0));
      if (rest < 128) break;
    }
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime until 2049, GeneralizedTime from 2050 on (RFC 5280, 4.1.2.5), always in seconds and UTC. */
export function time(date: Date): Buffer {
  const iso = date.toISOString();
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii')) : tlv(0x18, Buffer.from(digits, 'ascii'));
}
