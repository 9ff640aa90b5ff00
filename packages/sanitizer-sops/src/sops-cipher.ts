import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A leaf value sops encrypts: what YAML gives for a scalar. */
export type SopsScalar = string | number | boolean;

const ENC = /^ENC\[AES256_GCM,data:(.*),iv:(.+),tag:(.+),type:(.+)\]$/;
/** sops uses 32-byte nonces with AES-GCM. */
const IV_BYTES = 32;

/**
 * A value's bytes and type tag as sops encodes them: strings as UTF-8, integers in decimal, floats
 * without exponent or padding, booleans as "True"/"False" (the format's Python heritage).
 */
export function sopsBytes(value: SopsScalar): { bytes: Buffer; type: 'str' | 'int' | 'float' | 'bool' } {
  if (typeof value === 'string') return { bytes: Buffer.from(value, 'utf8'), type: 'str' };
  if (typeof value === 'boolean') return { bytes: Buffer.from(value ? 'True' : 'False'), type: 'bool' };
  if (Number.isInteger(value)) return { bytes: Buffer.from(String(value)), type: 'int' };
  return { bytes: Buffer.from(formatFloat(value)), type: 'float' };
}

/** Go's strconv.FormatFloat(v, 'f', -1, 64): shortest digits, never an exponent. */
function formatFloat(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  const [mantissa, exponentText] = text.toLowerCase().split('e') as [string, string];
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const point = (mantissa.replace('-', '').indexOf('.') < 0 ? mantissa.replace('-', '').length : mantissa.replace('-', '').indexOf('.')) + exponent;
  const body = point <= 0 ? `0.${'0'.repeat(-point)}${digits}` : point >= digits.length ? `${digits}${'0'.repeat(point - digits.length)}` : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return `${negative ? '-' : ''}${body}`;
}

/**
 * `ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]` for one value, with `additionalData` (the value's
 * key path, "a:b:") authenticated. Empty strings stay empty, as sops leaves them.
 */
export function encryptValue(value: SopsScalar, key: Buffer, additionalData: string): string {
  if (value === '') return '';
  const { bytes, type } = sopsBytes(value);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(additionalData, 'utf8'));
  const data = Buffer.concat([cipher.update(bytes), cipher.final()]);
  return `ENC[AES256_GCM,data:${data.toString('base64')},iv:${iv.toString('base64')},tag:${cipher.getAuthTag().toString('base64')},type:${type}]`;
}

export function isEncrypted(value: unknown): value is string {
  return typeof value === 'string' && ENC.test(value);
}

/** The plaintext of an `ENC[...]` value (throws when the key or the additional data is wrong). */
export function decryptValue(text: string, key: Buffer, additionalData: string): SopsScalar {
  if (text === '') return '';
  const match = ENC.exec(text);
  if (!match) throw new Error('not a sops-encrypted value');
  const [, data, iv, tag, type] = match as unknown as [string, string, string, string, string];
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
  decipher.setAAD(Buffer.from(additionalData, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  const plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  switch (type) {
    case 'str':
      return plain;
    case 'int':
    case 'float':
      return Number(plain);
    case 'bool':
      return plain === 'True';
    default:
      throw new Error(`unsupported sops value type "${type}"`);
  }
}

/** The sops MAC: SHA-512 over every scalar's bytes in file order, as upper-case hex. */
export function macOf(values: readonly SopsScalar[]): string {
  const hash = createHash('sha512');
  for (const value of values) hash.update(sopsBytes(value).bytes);
  return hash.digest('hex').toUpperCase();
}
