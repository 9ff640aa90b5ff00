import { readFileSync, statSync } from 'node:fs';
import { identityToRecipient } from 'age-encryption';
import { defineAdapter, grError, type Logger, packageVersionOf, StoredContentService, type Normalizer } from '@gitops-reverser/contract';
import { invalidRecipients } from './age-recipients.js';
import { SopsEncoder } from './sops-encoder.js';
import { SopsErrorCodes } from './sops-error-codes.js';

export const sopsOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    recipients: { type: 'array', items: { type: 'string', pattern: '^age1[0-9a-z]+$', 'x-fix': 'an age recipient (public key), e.g. from age-keygen -y' }, default: [] },
    recipientsFile: { type: 'string', minLength: 1, 'x-fix': 'a file with one age recipient per line (# comments allowed), e.g. a mounted Secret' },
    identitiesFile: { type: 'string', minLength: 1, 'x-fix': 'an age identity file (AGE-SECRET-KEY-... lines), e.g. the sops-age Secret Flux uses' },
    fingerprintKey: { type: 'string', minLength: 16, 'x-fix': 'a random secret of 16+ characters shared by all replicas, e.g. "${SOPS_FINGERPRINT_KEY}"' },
    encryptedRegex: { type: 'string', minLength: 1, default: '^(data|stringData)$' },
    resources: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: ['secrets'],
      'x-fix': 'types to encrypt, as "resource" (core group) or "resource.group", e.g. [secrets, credentials.example.com]',
    },
  },
} as const;

/** The encoder's `with:` options, defaults filled in (see the README's table). */
export interface SopsOptions {
  recipients: string[];
  recipientsFile?: string;
  identitiesFile?: string;
  fingerprintKey?: string;
  encryptedRegex: string;
  resources: string[];
}

/** A key file's keys with their 1-based line numbers (blank lines and `#` comments skipped). */
/**
 * An identities file holds private keys: others must not be able to read it, nor anyone but its owner
 * write it. Not refused (a mount may be shared on purpose), but said at every start.
 */
function warnIfExposed(file: string, logger: Logger): void {
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o004) === 0 && (mode & 0o022) === 0) return;
  logger.warn(
    { file, mode: `0${mode.toString(8)}` },
    `the age identities file ${file} has mode 0${mode.toString(8)}: ${(mode & 0o004) !== 0 ? 'any local user can read its private keys' : 'others can replace its keys'} (fix: chmod 600 ${file}; in Kubernetes mount the Secret with defaultMode: 0400, as the chart does)`,
  );
}

function readKeys(file: string, option: string, prefix: RegExp): { key: string; line: number }[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw grError(SopsErrorCodes.KEYS, `cannot read ${option} ${file}: ${(cause as Error).message}`, {
      fix: `check the path (relative to the config file) and that it is readable`,
      details: { optionPath: option },
    });
  }
  const keys = text
    .split('\n')
    .map((line, index) => ({ key: line.trim(), line: index + 1 }))
    .filter(({ key }) => key !== '' && !key.startsWith('#'));
  const bad = keys.find(({ key }) => !prefix.test(key));
  // Never echo a line of an identities file: it may be a private key.
  if (bad !== undefined)
    throw grError(SopsErrorCodes.KEYS, `${option} ${file} has a line that is not a valid age key (line ${bad.line})`, {
      fix: 'one key per line; # starts a comment',
      details: { optionPath: option },
    });
  return keys;
}

/**
 * Recipients age cannot parse are refused at load, so `validate` names them, instead of every
 * Secret failing to encrypt at run time. Values are not repeated: positions say which ones.
 */
function checkRecipients(recipients: readonly string[], fromFile: readonly { key: string; line: number }[], recipientsFile: string | undefined): void {
  const message = 'not a valid age recipient (age cannot parse it)';
  const fix = 'copy the recipient again, e.g. from age-keygen -y <identity file>: one changed, missing or extra character breaks its checksum';
  const inline = invalidRecipients(recipients);
  if (inline.length > 0) {
    throw grError(SopsErrorCodes.KEYS, `${message}: ${inline.map((index) => `recipients[${index}]`).join(', ')}`, { fix, details: { optionPath: `recipients[${inline[0]}]` } });
  }
  const lines = invalidRecipients(fromFile.map(({ key }) => key)).map((index) => `line ${fromFile[index]?.line}`);
  if (lines.length > 0) {
    throw grError(SopsErrorCodes.KEYS, `recipientsFile ${recipientsFile}: ${message}: ${lines.join(', ')}`, { fix, details: { optionPath: 'recipientsFile' } });
  }
}

/**
 * The descriptor: needs the sink's stored content (optional: without it every seed re-encrypts).
 * The types it protects are declared once, by `protects`: the kernel tells sources from it (so a
 * source may select Secrets under `*`) and lets Secrets through its plain-text guard.
 */
export default defineAdapter<'normalizer', SopsOptions>({
  meta: { name: '@gitops-reverser/sanitizer-sops', version: packageVersionOf(import.meta.url), slot: 'normalizer', kernel: '^0.3.0' },
  optionsSchema: sopsOptionsSchema,
  needs: [{ token: StoredContentService, optional: true }],
  create: ({ options, config, logger, clock, optionalService }) => {
    const recipientsFile = options.recipientsFile ? config.resolvePath(options.recipientsFile) : undefined;
    const fromFileLines = recipientsFile ? readKeys(recipientsFile, 'recipientsFile', /^age1[0-9a-z]+$/) : [];
    checkRecipients(options.recipients, fromFileLines, recipientsFile);
    const fromFile = fromFileLines.map(({ key }) => key);
    const identitiesFile = options.identitiesFile ? config.resolvePath(options.identitiesFile) : undefined;
    const identities = identitiesFile ? readKeys(identitiesFile, 'identitiesFile', /^AGE-SECRET-KEY-[0-9A-Z]+$/).map(({ key }) => key) : [];
    if (identitiesFile) warnIfExposed(identitiesFile, logger);
    if (options.recipients.length + fromFile.length + identities.length === 0) {
      throw grError(SopsErrorCodes.KEYS, 'no age recipient is configured: Secrets could not be encrypted to anyone', {
        fix: 'set recipients: [age1...], recipientsFile or identitiesFile',
        details: { optionPath: 'recipients' },
      });
    }
    const storedContent = optionalService(StoredContentService);
    if (!storedContent || (identities.length === 0 && !options.fingerprintKey)) {
      logger.warn({}, 'sanitizer-sops cannot recognize unchanged Secrets across restarts (no stored content, or neither identitiesFile nor fingerprintKey): each seed re-encrypts them');
    }
    let encoder: SopsEncoder | undefined;
    const normalizer: Normalizer & { start(): Promise<void> } = {
      name: 'sanitizer-sops',
      phase: 'encode',
      encryptsPaths: true,
      // Recipients of identities are derived (asynchronously) before the first event.
      async start() {
        const derived = await Promise.all(identities.map((identity) => identityToRecipient(identity)));
        encoder = new SopsEncoder({
          recipients: [...options.recipients, ...fromFile, ...derived],
          identities,
          ...(options.fingerprintKey ? { fingerprintKey: Buffer.from(options.fingerprintKey, 'utf8') } : {}),
          encryptedRegex: options.encryptedRegex,
          resources: options.resources,
          ...(storedContent ? { storedContent } : {}),
          clock,
          logger,
        });
      },
      protects: (type) => options.resources.includes(type.group === '' ? type.resource : `${type.resource}.${type.group}`),
      normalize: (object, context) => {
        if (!encoder) throw grError(SopsErrorCodes.ENCRYPT, 'sanitizer-sops was not started');
        return encoder.normalize(object, context);
      },
    };
    return normalizer;
  },
});
