import { createHmac, randomBytes } from 'node:crypto';
import { Decrypter, Encrypter, armor } from 'age-encryption';
import { parse } from 'yaml';
import { grError, inWrittenOrder, type Clock, type KubeObject, type Logger, type NormalizeContext, type Normalizer, type ResourceIdentity, type StoredContent } from '@gitops-reverser/contract';
import { SopsErrorCodes } from './sops-error-codes.js';
import { decryptValue, encryptValue, macOf } from './sops-cipher.js';
import { decryptTree, encryptTree } from './sops-tree.js';

/** The sops version whose file format this writes (its `version` field). */
export const SOPS_FORMAT_VERSION = '3.13.3';
/** Key in the `sops` block holding our keyed fingerprint of the plaintext (sops ignores unknown keys). */
export const FINGERPRINT_KEY = 'gitops_reverser_fingerprint';

export interface SopsEncoderOptions {
  /** age recipients (public keys) the data key of every file is encrypted to. */
  readonly recipients: readonly string[];
  /** age identities (private keys): with them a stored file is decrypted and compared, so unchanged Secrets are kept as they are. */
  readonly identities: readonly string[];
  /** Secret for keyed fingerprints of the plaintext: keeps unchanged Secrets as they are without private keys. */
  readonly fingerprintKey?: Buffer;
  /** Keys whose values (and everything below them) are encrypted. */
  readonly encryptedRegex: string;
  /** Types encrypted: `resource` (core group) or `resource.group`. */
  readonly resources: readonly string[];
  /** What the sink holds now (the git sink provides it); without it every seed re-encrypts. */
  readonly storedContent?: StoredContent;
  readonly clock: Clock;
  readonly logger: Logger;
}

const resourceKey = (type: { group: string; resource: string }) => (type.group === '' ? type.resource : `${type.resource}.${type.group}`);

/**
 * The encode-phase normalizer: objects of the configured types become SOPS files (values matching
 * `encryptedRegex` as `ENC[AES256_GCM,...]`, a `sops` block with the data key encrypted to each age
 * recipient, `lastmodified` and the MAC). When the stored file already holds the same plaintext for
 * the same recipients, the stored object is returned unchanged, so a restart or another replica makes
 * no commit (ADR 0009).
 */
export class SopsEncoder implements Normalizer {
  readonly name = 'sanitizer-sops';
  readonly phase = 'encode' as const;
  /** Values the kernel's credential gate names (`NormalizeContext.encryptPaths`) are encrypted in any object. */
  readonly encryptsPaths = true;
  private readonly recipients: string[];

  constructor(private readonly options: SopsEncoderOptions) {
    this.recipients = [...new Set(options.recipients)].sort();
  }

  protects(identity: Pick<ResourceIdentity, 'group' | 'resource'>): boolean {
    return this.options.resources.includes(resourceKey(identity));
  }

  async normalize(object: KubeObject, context: NormalizeContext): Promise<KubeObject> {
    const protectedType = this.protects(context.event.identity);
    const asked = context.encryptPaths ?? [];
    if (!protectedType && asked.length === 0) return object;
    const encryptedRegex = regexFor(protectedType ? this.options.encryptedRegex : undefined, asked);
    const { sops: _ignored, ...rest } = object;
    const plain = inWrittenOrder(rest);
    if (this.options.storedContent && context.target) {
      const stored = await this.options.storedContent.read(context.target.name, context.event.identity).catch(() => undefined);
      const kept = stored === undefined ? undefined : await this.unchangedStored(stored, plain, encryptedRegex);
      if (kept) return kept;
    }
    return this.encrypt(plain, encryptedRegex);
  }

  /** A new SOPS file for `plain` (already in written order), encrypting what `encryptedRegex` (default: the configured one) selects. */
  async encrypt(plain: KubeObject, encryptedRegex = this.options.encryptedRegex): Promise<KubeObject> {
    const dataKey = randomBytes(32);
    const { encrypted, values } = encryptTree(plain, dataKey, new RegExp(encryptedRegex));
    const lastmodified = new Date(this.options.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const age = [];
    for (const recipient of this.recipients) {
      const encrypter = new Encrypter();
      encrypter.addRecipient(recipient);
      age.push({ recipient, enc: armor.encode(await encrypter.encrypt(dataKey)) });
    }
    return {
      ...encrypted,
      sops: {
        age,
        lastmodified,
        mac: encryptValue(macOf(values), dataKey, lastmodified),
        encrypted_regex: encryptedRegex,
        version: SOPS_FORMAT_VERSION,
        ...(this.options.fingerprintKey ? { [FINGERPRINT_KEY]: this.fingerprint(plain, encryptedRegex) } : {}),
      },
    };
  }

  /**
   * The stored object when it is a SOPS file of ours for the same recipients and regex, in written
   * order, and it holds `plain`: proven by decrypting it (identities given, MAC checked) or by the keyed
   * fingerprint. Anything else (a human edit, a key rotation, a change) returns undefined: re-encrypt.
   */
  private async unchangedStored(text: string, plain: KubeObject, encryptedRegex: string): Promise<KubeObject | undefined> {
    let stored: KubeObject;
    try {
      stored = parse(text, { version: '1.1' }) as KubeObject;
    } catch {
      return undefined;
    }
    const sops = stored?.['sops'] as { age?: { recipient?: string; enc?: string }[]; mac?: string; lastmodified?: string; encrypted_regex?: string } | undefined;
    if (!sops || typeof sops.mac !== 'string' || typeof sops.lastmodified !== 'string' || !Array.isArray(sops.age)) return undefined;
    const storedRecipients = sops.age.map((key) => key.recipient ?? '').sort();
    if (JSON.stringify(storedRecipients) !== JSON.stringify(this.recipients) || sops.encrypted_regex !== encryptedRegex) return undefined;
    const { sops: _metadata, ...body } = stored;
    // Written in our order (not reordered by a hand edit), or re-rendering it would break its MAC.
    if (JSON.stringify(body) !== JSON.stringify(inWrittenOrder(body))) return undefined;
    if (this.options.fingerprintKey && (sops as Record<string, unknown>)[FINGERPRINT_KEY] === this.fingerprint(plain, encryptedRegex)) return stored;
    if (this.options.identities.length === 0) return undefined;
    const dataKey = await this.dataKeyOf(sops.age);
    if (!dataKey) return undefined;
    try {
      const { decrypted, values } = decryptTree(body, dataKey, new RegExp(encryptedRegex));
      if (decryptValue(sops.mac, dataKey, sops.lastmodified) !== macOf(values)) return undefined;
      return JSON.stringify(decrypted) === JSON.stringify(plain) ? stored : undefined;
    } catch {
      return undefined;
    }
  }

  private async dataKeyOf(keys: readonly { enc?: string }[]): Promise<Buffer | undefined> {
    const decrypter = new Decrypter();
    for (const identity of this.options.identities) decrypter.addIdentity(identity);
    for (const key of keys) {
      if (typeof key.enc !== 'string') continue;
      try {
        return Buffer.from(await decrypter.decrypt(armor.decode(key.enc)));
      } catch {
        // encrypted to another recipient: try the next entry
      }
    }
    return undefined;
  }

  private fingerprint(plain: KubeObject, encryptedRegex: string): string {
    return createHmac('sha256', this.options.fingerprintKey as Buffer)
      .update(JSON.stringify(plain))
      .update('\n')
      .update(this.recipients.join(','))
      .update('\n')
      .update(encryptedRegex)
      .digest('hex');
  }
}

/** Keys that name or shape the object: encrypting every value under them would hide what the file is. */
const STRUCTURAL_KEYS: ReadonlySet<string> = new Set(['apiVersion', 'kind', 'metadata', 'name', 'namespace']);

/**
 * The `encrypted_regex` of one file: the configured one for a protected type, widened by the keys of
 * the values the kernel asked to encrypt. sops selects values by the keys on their path, not by
 * whole paths, so every value under such a key is encrypted (for an env var's `value`: every env
 * value of the object). That keeps the file one the sops CLI decrypts and edits; the keys are sorted
 * so equal requests give equal files (no churn).
 */
export function regexFor(configured: string | undefined, paths: readonly (readonly (string | number)[])[]): string {
  const keys = new Set<string>();
  for (const path of paths) {
    // A list item is encrypted through the key of its list (sops gives items their parent's path).
    const key = [...path].reverse().find((step): step is string => typeof step === 'string');
    if (key === undefined) continue;
    if (STRUCTURAL_KEYS.has(key)) {
      throw grError(SopsErrorCodes.ENCRYPT, `cannot encrypt the value at ${path.join('.')}: sops would encrypt every "${key}" of the object, its identity included`, {
        fix: 'move the credential out of that field, or choose credentials: redact or refuse for this rule',
      });
    }
    keys.add(key);
  }
  if (keys.size === 0) return configured ?? '^$';
  const alternatives = `^(${[...keys]
    .sort()
    .map((key) => key.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('|')})$`;
  return configured ? `${configured}|${alternatives}` : alternatives;
}
