// The credential gate's rule set: what counts as a credential in a value written unencrypted. Small
// on purpose (docs/credentials.md explains each rule and its known blind spots): every rule is a
// pattern with a recognisable shape, or a secret-like name whose value looks random. A rule finds
// spans in one string; the scanner walks the object and names the path.

/** The part of a string value that is the credential: `[start, end)`. */
export interface CredentialSpan {
  readonly start: number;
  readonly end: number;
}

export interface CredentialRule {
  /** Stable id: in logs, metrics, `credentials.ignore[].rules`. */
  readonly id: string;
  readonly description: string;
  /**
   * The spans of `value` this rule finds. `key` is the name the value is stored under: its map key,
   * or the `name` of a `{ name, value }` list item (an env var).
   */
  find(value: string, key: string): CredentialSpan[];
}

/** Every span of every match of `pattern` (global), or of its first capture group when it has one. */
function spansOf(pattern: RegExp, value: string, accept: (text: string) => boolean = () => true): CredentialSpan[] {
  const spans: CredentialSpan[] = [];
  pattern.lastIndex = 0;
  for (let match = pattern.exec(value); match !== null; match = pattern.exec(value)) {
    const group = match[1];
    const start = group === undefined ? match.index : match.index + match[0].indexOf(group);
    const text = group ?? match[0];
    if (text.length > 0 && accept(text)) spans.push({ start, end: start + text.length });
    if (match[0].length === 0) pattern.lastIndex++;
  }
  return spans;
}

const patternRule = (id: string, description: string, pattern: RegExp, accept?: (text: string) => boolean): CredentialRule => ({
  id,
  description,
  find: (value) => spansOf(pattern, value, accept),
});

/** Bits of information per character (Shannon): random tokens score high, words and names low. */
export function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/** A reference, placeholder, path, URL or name rather than a secret itself. */
function isReference(value: string): boolean {
  return (
    /^\$\{[^}]*\}$|^\$\([^)]*\)$|^\{\{.*\}\}$|^<[^>]*>$|^%[^%]+%$/.test(value) ||
    /^(\/|\.\/|\.\.\/|~\/)/.test(value) ||
    /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ||
    /^\*+$|^x+$/i.test(value) ||
    value.startsWith('REDACTED:') ||
    value.startsWith('ENC[')
  );
}

/**
 * True for a value that looks like a secret rather than a word, name or reference: at least 8
 * characters without spaces, at least two kinds of characters (lower, upper, digit, other), not
 * repetitive (Shannon entropy of 2.5 bits per character), and not a lowercase name made of words
 * (`db-credentials`, `app.v2.secret`: references, unless as random as a token: 3.5 bits).
 */
export function looksRandom(value: string): boolean {
  if (value.length < 8 || value.length > 8192 || /\s/.test(value) || isReference(value)) return false;
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((kind) => kind.test(value)).length;
  if (kinds < 2) return false;
  const entropy = shannonEntropy(value);
  const digits = value.replace(/[^0-9]/g, '').length;
  const wordy = /^[a-z0-9]+([-.][a-z0-9]+)+$/.test(value) && digits / value.length < 0.2;
  return entropy >= (wordy ? 3.5 : 2.5);
}

const SECRET_NAME_ENDINGS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'accesskey',
  'secretkey',
  'privatekey',
  'clientsecret',
  'credential',
  'credentials',
  'authkey',
  'sharedkey',
  'masterkey',
  'signingkey',
  'encryptionkey',
] as const;

const secretNames = new Map<string, boolean>();

/** True for a key named like a secret (`DB_PASSWORD`, `apiKey`, `client-secret`, `github.token`), not like a reference to one (`secretName`, `tokenPath`). */
export function isSecretName(key: string): boolean {
  let known = secretNames.get(key);
  if (known === undefined) {
    const normalized = key.toLowerCase().replace(/[^a-z0-9]/g, '');
    known = SECRET_NAME_ENDINGS.some((ending) => normalized.endsWith(ending));
    if (secretNames.size > 10_000) secretNames.clear();
    secretNames.set(key, known);
  }
  return known;
}

/**
 * The rule set, in the order findings are reported. Every pattern runs in time linear in the value
 * (a ConfigMap value may be 1 MiB, written by anyone who may write ConfigMaps): a match starts only
 * where a run of its characters starts (a lookbehind) or after a literal, and what follows an
 * unbounded run is bounded, so no start position rescans the rest of the value.
 */
export const CREDENTIAL_RULES: readonly CredentialRule[] = [
  patternRule(
    'private-key',
    'a PEM private key block (RSA, EC, DSA, OPENSSH, PKCS#8, encrypted or not, PGP); certificates and public keys are not private keys',
    /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[\s\S]*$)/g,
  ),
  patternRule('aws-access-key-id', 'an AWS access key id (AKIA..., ASIA..., ABIA..., ACCA... and 16 base32 characters)', /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Z0-9])/g),
  patternRule(
    'aws-secret-access-key',
    'an AWS secret access key assigned in text (aws_secret_access_key = ..., "SecretAccessKey": ...)',
    /(?:aws_?secret_?access_?key|aws_?secret_?key|secret_?access_?key)["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/gi,
  ),
  patternRule('gcp-service-account-key', 'the private_key of a Google Cloud service account key file (JSON)', /"private_key"\s*:\s*"(-----BEGIN[^"]{0,16384})"/g),
  patternRule('azure-storage-key', 'an Azure storage account key in a connection string (AccountKey=...)', /AccountKey=([A-Za-z0-9+/]{86}==)/g),
  patternRule('github-token', 'a GitHub token (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)', /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])/g),
  patternRule('gitlab-token', 'a GitLab token (glpat-, gldt-, glrt-, glptt-, glft-, glsoat-)', /(?<![A-Za-z0-9_-])gl(?:pat|dt|rt|ptt|ft|soat)-[A-Za-z0-9_-]{20,}/g),
  patternRule(
    'slack-token',
    'a Slack token (xoxb-, xoxp-, xoxa-, ...) or incoming webhook URL',
    /(?<![A-Za-z0-9])xox[abposre]-[A-Za-z0-9-]{10,}|https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]{16,}/g,
  ),
  patternRule(
    'jwt',
    'a signed JSON Web Token (eyJ....eyJ....signature): ServiceAccount and OIDC tokens among them',
    /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,}/g,
  ),
  patternRule('bearer-token', 'a token after "Bearer " (an Authorization header written into configuration)', /\bBearer\s+([A-Za-z0-9\-._~+/]{20,}=*)/gi, looksRandom),
  patternRule(
    'url-password',
    'a password in a URL (scheme://user:password@host)',
    /(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,31}:\/\/[^\s:@/]{1,256}:([^\s@/]{4,1024})@/gi,
    (text) => !isReference(text) && !/^\$|^\{\{/.test(text),
  ),
  {
    id: 'secret-assignment',
    description: 'a random-looking value assigned to a secret-like name inside text (.env, properties, INI, YAML or JSON kept in one value)',
    find: (value) => {
      if (value.length < 12) return [];
      const spans: CredentialSpan[] = [];
      for (const match of value.matchAll(/(?:^|[\s;,{"'])([A-Za-z0-9_.-]{0,64}(?:pass|secret|token|key|credential)[A-Za-z0-9_.-]{0,64})["']?[ \t]*[:=][ \t]*["']?([^\s"',;}]{1,8192})/gi)) {
        const [whole, name = '', text = ''] = match;
        if (!isSecretName(name) || !looksRandom(text)) continue;
        // The pattern ends with the value, so it ends where the match does.
        const start = match.index + whole.length - text.length;
        spans.push({ start, end: start + text.length });
      }
      return spans;
    },
  },
  {
    id: 'secret-name',
    description: 'a random-looking value stored under a secret-like name (password, token, secret, apiKey, ...: a map key, or the name of an env var)',
    find: (value, key) => (isSecretName(key) && looksRandom(value) ? [{ start: 0, end: value.length }] : []),
  },
];

/**
 * A cheap first look: a value that matches none of these cannot match a pattern rule (the
 * `secret-name` rule looks at the key instead). Most values (names, images, numbers) stop here.
 */
export const CREDENTIAL_HINT =
  /-----BEGIN|A[KS]IA|ABIA|ACCA|gh[pousr]_|github_pat_|gl(?:pat|dt|rt|ptt|ft|soat)-|xox[abposre]-|hooks\.slack|eyJ|bearer|accountkey=|private_key|:\/\/[^\s@/]{1,1300}@|pass|secret|token|api[_-]?key|access[_-]?key/i;
