import { createHmac, randomBytes } from 'node:crypto';
import { Decrypter, Encrypter, armor } from 'age-encryption';
import { parse } from 'yaml';
import { inWrittenOrder, type Clock, type KubeObject, type Logger, type NormalizeContext, type Normalizer, type ResourceIdentity, type StoredContent } from '@gitops-reverser/contract';
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
  private readonly regex: RegExp;
  private readonly recipients: string[];

  constructor(private readonly options: SopsEncoderOptions) {
    this.regex = new RegExp(options.encryptedRegex);
    this.recipients = [...new Set(options.recipients)].sort();
  }

  protects(identity: Pick<ResourceIdentity, 'group' | 'resource'>): boolean {
    return this.options.resources.includes(resourceKey(identity));
  }

  async normalize(object: KubeObject, context: NormalizeContext): Promise<KubeObject> {
    if (!this.protects(context.event.identity)) return object;
    const { sops: _ignored, ...rest } = object;
    const plain = inWrittenOrder(rest);
    if (this.options.storedContent && context.target) {
      const stored = await this.options.storedContent.read(context.target.name, context.event.identity).catch(() => undefined);
      const kept = stored === undefined ? undefined : await this.unchangedStored(stored, plain);
      if (kept) return kept;
    }
    return this.encrypt(plain);
  }

  /** A new SOPS file for `plain` (already in written order). */
  async encrypt(plain: KubeObject): Promise<KubeObject> {
    const dataKey = randomBytes(32);
    const { encrypted, values } = encryptTree(plain, dataKey, this.regex);
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
        encrypted_regex: this.options.encryptedRegex,
        version: SOPS_FORMAT_VERSION,
        ...(this.options.fingerprintKey ? { [FINGERPRINT_KEY]: this.fingerprint(plain) } : {}),
      },
    };
  }

  /**
   * The stored object when it is a SOPS file of ours for the same recipients and regex, in written
   * order, and it holds `plain`: proven by decrypting it (identities given, MAC checked) or by the keyed
   * fingerprint. Anything else (a human edit, a key rotation, a change) returns undefined: re-encrypt.
   */
  private async unchangedStored(text: string, plain: KubeObject): Promise<KubeObject | undefined> {
    let stored: KubeObject;
    try {
      stored = parse(text, { version: '1.1' }) as KubeObject;
    } catch {
      return undefined;
    }
    const sops = stored?.['sops'] as { age?: { recipient?: string; enc?: string }[]; mac?: string; lastmodified?: string; encrypted_regex?: string } | undefined;
    if (!sops || typeof sops.mac !== 'string' || typeof sops.lastmodified !== 'string' || !Array.isArray(sops.age)) return undefined;
    const storedRecipients = sops.age.map((key) => key.recipient ?? '').sort();
    if (JSON.stringify(storedRecipients) !== JSON.stringify(this.recipients) || sops.encrypted_regex !== this.options.encryptedRegex) return undefined;
    const { sops: _metadata, ...body } = stored;
    // Written in our order (not reordered by a hand edit), or re-rendering it would break its MAC.
    if (JSON.stringify(body) !== JSON.stringify(inWrittenOrder(body))) return undefined;
    if (this.options.fingerprintKey && (sops as Record<string, unknown>)[FINGERPRINT_KEY] === this.fingerprint(plain)) return stored;
    if (this.options.identities.length === 0) return undefined;
    const dataKey = await this.dataKeyOf(sops.age);
    if (!dataKey) return undefined;
    try {
      const { decrypted, values } = decryptTree(body, dataKey, this.regex);
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

  private fingerprint(plain: KubeObject): string {
    return createHmac('sha256', this.options.fingerprintKey as Buffer)
      .update(JSON.stringify(plain))
      .update('\n')
      .update(this.recipients.join(','))
      .update('\n')
      .update(this.options.encryptedRegex)
      .digest('hex');
  }
}
