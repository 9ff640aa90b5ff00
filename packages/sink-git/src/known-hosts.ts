import { createHash, createHmac } from 'node:crypto';

/** One key line of an OpenSSH known_hosts file. */
export interface KnownHostEntry {
  readonly marker: 'revoked' | 'cert-authority' | undefined;
  /** Patterns as written (`github.com`, `[host]:2222`, `*.example.com`, `!bad.example.com`) or one hashed `|1|salt|hash`. */
  readonly hosts: readonly string[];
  readonly keyType: string;
  /** The public key blob (SSH wire format), base64-decoded. */
  readonly key: Buffer;
  readonly line: number;
}

export type HostKeyVerdict =
  | { readonly status: 'trusted' }
  /** No line names this host: the key was never approved. */
  | { readonly status: 'unknown' }
  /** Lines name this host but none holds the key seen: the key changed (or the connection is intercepted). */
  | { readonly status: 'changed'; readonly knownTypes: readonly string[] }
  | { readonly status: 'revoked' };

/** Parses known_hosts text; lines that are not key lines (comments, blanks) are skipped, malformed ones reported. */
export function parseKnownHosts(text: string, source: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = (fields.shift() as string).slice(1) as KnownHostEntry['marker'];
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key || !/^[A-Za-z0-9+/]+={0,2}$/.test(key)) {
      throw new Error(`${source} line ${index + 1} is not a known_hosts line ("host key-type base64-key"): ${line.slice(0, 80)}`);
    }
    entries.push({ marker, hosts: hosts.split(','), keyType, key: Buffer.from(key, 'base64'), line: index + 1 });
  }
  return entries;
}

/** How OpenSSH names a host in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The fingerprint OpenSSH prints for a key: `SHA256:` + unpadded base64 of the blob's sha256. */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type written inside a public key blob (its first SSH string), e.g. `ssh-ed25519`. */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString('latin1');
}

function globMatches(pattern: string, name: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return regex.test(name);
}

function hashedMatches(pattern: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name)), as `ssh-keygen -H` and HashKnownHosts write it.
  const [, kind, salt, hash] = pattern.split('|');
  if (kind !== '1' || !salt || !hash) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}

/** True when the entry's host list names `name` (negations win, as in OpenSSH). */
function namesHost(entry: KnownHostEntry, name: string): boolean {
  let matched = false;
  for (const pattern of entry.hosts) {
    if (pattern.startsWith('|')) {
      if (hashedMatches(pattern, name)) matched = true;
    } else if (pattern.startsWith('!')) {
      if (globMatches(pattern.slice(1), name)) return false;
    } else if (globMatches(pattern, name)) matched = true;
  }
  return matched;
}

/** Judges the key a server presented against known_hosts entries, as OpenSSH's StrictHostKeyChecking=yes does. */
export function verifyHostKey(entries: readonly KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const forHost = entries.filter((entry) => namesHost(entry, name));
  if (forHost.some((entry) => entry.marker === 'revoked' && entry.key.equals(key))) return { status: 'revoked' };
  // Host certificates (@cert-authority) are not spoken here: only plain keys can be trusted.
  const plain = forHost.filter((entry) => entry.marker === undefined);
  if (plain.some((entry) => entry.key.equals(key))) return { status: 'trusted' };
  if (plain.length === 0) return { status: 'unknown' };
  return { status: 'changed', knownTypes: [...new Set(plain.map((entry) => entry.keyType))] };
}

/** The host key algorithms known_hosts holds for a host, to offer the server first (as OpenSSH does). */
export function knownKeyTypes(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  return [...new Set(entries.filter((entry) => entry.marker === undefined && namesHost(entry, name)).map((entry) => entry.keyType))];
}
