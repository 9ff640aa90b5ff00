import type { KubeObject } from '@gitops-reverser/contract';
import { decryptValue, encryptValue, isEncrypted, type SopsScalar } from './sops-cipher.js';

/**
 * Walks an object the way sops walks a YAML tree: mapping keys extend the path, list items keep their
 * parent's path, nulls are left alone. The path of a value is its keys joined by ":" plus a trailing
 * ":" (the additional data of its encryption). A value is encrypted when any key on its path matches
 * `encryptedRegex`. `visit` sees every scalar in file order (the MAC covers all of them).
 */
function walk(value: unknown, path: readonly string[], encrypt: boolean, regex: RegExp, visit: (value: SopsScalar, path: readonly string[], encrypted: boolean) => unknown): unknown {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map((item) => walk(item, path, encrypt, regex, visit));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      out[key] = walk(item, [...path, key], encrypt || regex.test(key), regex, visit);
    }
    return out;
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return visit(value, path, encrypt);
  throw new Error(`cannot encrypt a value of type ${typeof value} at ${path.join('.')}`);
}

const pathString = (path: readonly string[]) => `${path.join(':')}:`;

/**
 * Encrypts the values of `object` (already in the order it will be written, without a `sops` key)
 * whose path matches `regex`, and returns the encrypted object and the plaintext values in file order
 * for the MAC.
 */
export function encryptTree(object: KubeObject, key: Buffer, regex: RegExp): { encrypted: KubeObject; values: SopsScalar[] } {
  const values: SopsScalar[] = [];
  const encrypted = walk(object, [], false, regex, (value, path, encrypt) => {
    values.push(value);
    return encrypt ? encryptValue(value, key, pathString(path)) : value;
  }) as KubeObject;
  return { encrypted, values };
}

/** The reverse of encryptTree: the plaintext object and its values in file order. Throws on a wrong key. */
export function decryptTree(object: KubeObject, key: Buffer, regex: RegExp): { decrypted: KubeObject; values: SopsScalar[] } {
  const values: SopsScalar[] = [];
  const decrypted = walk(object, [], false, regex, (value, path, encrypt) => {
    const plain = encrypt && isEncrypted(value) ? decryptValue(value, key, pathString(path)) : value;
    values.push(plain);
    return plain;
  }) as KubeObject;
  return { decrypted, values };
}
