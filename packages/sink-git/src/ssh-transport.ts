import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
// ssh2 is CommonJS without named ESM exports: Node only offers its default export.
import ssh2, { type Client, type ClientChannel, type ConnectConfig, type ServerHostKeyAlgorithm } from 'ssh2';
import { GitRemoteError } from './git-remote.js';
import { GitErrorCodes } from './git-error-codes.js';
import { fingerprintOf, keyTypeOf, knownKeyTypes, parseKnownHosts, verifyHostKey, type KnownHostEntry } from './known-hosts.js';
import type { SshAuthConfig } from './ssh-auth-config.js';
import type { SshEndpoint } from './ssh-url.js';

/** Single-quotes a path for the remote shell (git-shell and OpenSSH servers parse it this way). */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const SERVICES = new Set(['git-upload-pack', 'git-receive-pack']);

/**
 * Git over SSH for the nodegit engine. libgit2 0.28 (nodegit 0.27) cannot show a host key to its
 * caller, so it cannot check known_hosts; this class owns the SSH connection instead: ssh2 connects,
 * the host key is checked against known_hosts (unknown, changed or revoked: refused before any
 * credentials or data are sent), the key logs in, and each git operation runs as an exec channel
 * (`git-upload-pack 'path'` / `git-receive-pack 'path'`). libgit2 speaks the git protocol over it
 * through its own git:// transport, pointed at a loopback listener that exists only while one
 * operation runs and carries exactly that operation to the channel. See ADR 0011.
 */
export class SshGitTransport {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  /** stderr of the last remote command (git's own messages), for error texts. */
  private lastStderr = '';
  /** The key and known_hosts the open connection was made with. */
  private connectedWith = '';

  constructor(
    private readonly endpoint: SshEndpoint,
    private readonly auth: SshAuthConfig,
    private readonly timeoutMs: number,
    /** The repository as logs name it (no credentials). */
    private readonly location: string,
  ) {}

  /**
   * Runs `operation` with a git:// URL whose connections reach the server's git over the verified
   * SSH connection. Errors of the connection (host key, login, network) are thrown as GitRemoteError.
   */
  async withGitUrl<T>(what: string, operation: (gitUrl: string) => Promise<T>): Promise<T> {
    const client = await this.connect(what);
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      this.bridge(client, socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as { port: number };
    this.lastStderr = '';
    try {
      return await operation(`git://127.0.0.1:${port}/repository`);
    } catch (error) {
      // A failed connection may be the cause (a revoked key, a dropped link): start the next one afresh.
      this.close();
      throw error;
    } finally {
      // libgit2 may keep its socket until its remote object is garbage-collected: end it now.
      for (const socket of sockets) socket.destroy();
      await closeServer(server);
    }
  }

  /** What the server's git wrote to stderr during the last operation (e.g. why it refused). */
  get remoteMessage(): string {
    return this.lastStderr.trim();
  }

  close(): void {
    this.client?.end();
    this.client = undefined;
    this.connecting = undefined;
  }

  private bridge(client: Client, socket: Socket): void {
    // The first pkt-line of git://: "<len>git-upload-pack /path\0host=...\0". Only the service is
    // taken from it: the path is always the configured one.
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 4) return;
      const length = parseInt(buffered.subarray(0, 4).toString('latin1'), 16);
      if (!Number.isFinite(length) || length < 4 || length > 65520) return socket.destroy();
      if (buffered.length < length) return;
      socket.off('data', onData);
      socket.pause();
      const request = buffered.subarray(4, length).toString('utf8');
      const rest = buffered.subarray(length);
      const service = request.split(/[ \0]/)[0] ?? '';
      if (!SERVICES.has(service)) return socket.destroy();
      client.exec(`${service} ${shellQuote(this.endpoint.path)}`, (error: Error | undefined, channel: ClientChannel) => {
        if (error) {
          this.lastStderr += `${error.message}\n`;
          return socket.destroy();
        }
        channel.stderr.on('data', (data: Buffer) => {
          this.lastStderr += data.toString('utf8');
        });
        channel.on('data', (data: Buffer) => socket.write(data));
        channel.on('close', () => socket.end());
        socket.on('data', (data: Buffer) => channel.write(data));
        socket.on('end', () => channel.end());
        socket.on('close', () => channel.close());
        socket.on('error', () => channel.close());
        if (rest.length > 0) channel.write(rest);
        socket.resume();
      });
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  }

  private connect(what: string): Promise<Client> {
    // A rotated key or an edited known_hosts (a Secret mount) takes effect at the next operation.
    const inputs = this.inputsFingerprint();
    if (this.client && inputs !== this.connectedWith) this.close();
    this.connectedWith = inputs;
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.open(what).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(what: string): Promise<Client> {
    const { host, port, user } = this.endpoint;
    // Read at every connection: a rotated key or known_hosts (Secret mount) takes effect without a restart.
    const knownHosts = this.readKnownHosts();
    const privateKey = this.readPrivateKey();
    let refusal: GitRemoteError | undefined;
    const offered = knownKeyTypes(knownHosts, host, port);
    const client = new ssh2.Client();
    const config: ConnectConfig = {
      host,
      port,
      username: user,
      privateKey: privateKey.text,
      ...(privateKey.passphrase !== undefined ? { passphrase: privateKey.passphrase } : {}),
      readyTimeout: this.timeoutMs,
      keepaliveInterval: 15_000,
      tryKeyboard: false,
      hostVerifier: (key: Buffer) => {
        const verdict = verifyHostKey(knownHosts, host, port, key);
        if (verdict.status === 'trusted') return true;
        const seen = `${keyTypeOf(key)} ${fingerprintOf(key)}`;
        const detail =
          verdict.status === 'unknown'
            ? `is not in known_hosts (it presented ${seen})`
            : verdict.status === 'revoked'
              ? `presented a revoked key (${seen})`
              : `presented ${seen}, which is not the ${verdict.knownTypes.join('/')} key known_hosts holds for it: the host key changed or the connection is intercepted`;
        refusal = new GitRemoteError('auth', `${what} ${this.location}: host ${host}:${port} ${detail}; nothing was sent`, {
          code: GitErrorCodes.HOST_KEY,
          fix: `only if the server's owner confirms ${fingerprintOf(key)} is its key: add the line from \`ssh-keyscan -p ${port} ${host}\` to ssh.knownHostsFile (the key is retried at the next attempt, no restart needed)`,
        });
        return false;
      },
    };
    // Ask for the key types known_hosts holds first, as OpenSSH does, so a server with several keys shows a known one.
    if (offered.length > 0) config.algorithms = { serverHostKey: { prepend: offered } as unknown as ServerHostKeyAlgorithm[] };
    return await new Promise<Client>((resolve, reject) => {
      const fail = (error: Error & { level?: string }) => {
        client.removeAllListeners('ready');
        if (refusal) return reject(refusal);
        if (error.level === 'client-authentication') {
          return reject(
            new GitRemoteError('auth', `${what} ${this.location}: the SSH server refused the key (${privateKey.fingerprint}) for user "${user}"`, {
              cause: error,
              fix: 'check ssh.privateKeyFile (or privateKey) of the provider and that this key is authorized on the server with write access (a deploy key); a rotated key file is read again at the next attempt',
            }),
          );
        }
        reject(new GitRemoteError('unreachable', `${what} ${this.location}: ${error.message}`, { cause: error }));
      };
      client.once('error', fail);
      client.once('ready', () => {
        client.off('error', fail);
        // A later failure of the connection only drops it; the next operation reconnects.
        client.on('error', () => undefined);
        client.once('close', () => {
          if (this.client === client) this.client = undefined;
        });
        this.client = client;
        resolve(client);
      });
      client.connect(config);
    });
  }

  /** What the connection depends on, cheaply compared before each operation (small files, read fresh). */
  private inputsFingerprint(): string {
    const read = (file: string | undefined) => {
      if (!file) return '';
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return '<unreadable>';
      }
    };
    const { privateKey, privateKeyFile, passphraseFile, knownHosts, knownHostsFile } = this.auth;
    return createHash('sha256')
      .update(`${privateKey ?? read(privateKeyFile)}\0${read(passphraseFile)}\0${knownHosts ?? read(knownHostsFile)}`)
      .digest('hex');
  }

  private readKnownHosts(): KnownHostEntry[] {
    const { knownHosts, knownHostsFile } = this.auth;
    if (knownHosts !== undefined) return parseKnownHosts(knownHosts, 'ssh.knownHosts');
    try {
      return parseKnownHosts(readFileSync(knownHostsFile as string, 'utf8'), knownHostsFile as string);
    } catch (cause) {
      throw new GitRemoteError('auth', `cannot read ssh.knownHostsFile ${knownHostsFile}: ${(cause as Error).message}`, {
        cause,
        code: GitErrorCodes.HOST_KEY,
        fix: 'mount the known_hosts file at ssh.knownHostsFile (ssh-keyscan -p PORT HOST prints the lines; check the fingerprint out of band)',
      });
    }
  }

  private readPrivateKey(): { text: string; passphrase?: string; fingerprint: string } {
    const { privateKey, privateKeyFile, passphrase, passphraseFile } = this.auth;
    let text: string;
    let phrase: string | undefined;
    try {
      text = privateKey ?? readFileSync(privateKeyFile as string, 'utf8');
      phrase = passphrase ?? (passphraseFile ? readFileSync(passphraseFile, 'utf8').replace(/\r?\n$/, '') : undefined);
    } catch (cause) {
      throw new GitRemoteError('auth', `cannot read the SSH key for ${this.location}: ${(cause as Error).message}`, {
        cause,
        fix: 'check that ssh.privateKeyFile (and ssh.passphraseFile) exist and are readable by this process',
      });
    }
    const parsed = ssh2.utils.parseKey(text, phrase);
    const where = privateKeyFile ?? 'ssh.privateKey';
    if (parsed instanceof Error) {
      const hint = /passphrase|encrypted/i.test(parsed.message) ? ' (set ssh.passphrase or ssh.passphraseFile, or check it)' : ' (PEM or OpenSSH private key expected)';
      throw new GitRemoteError('auth', `the SSH key in ${where} cannot be used: ${parsed.message}${hint}`, {
        cause: parsed,
        fix: 'give ssh.privateKeyFile a readable private key and, when it is encrypted, its passphrase (ssh.passphrase or ssh.passphraseFile)',
      });
    }
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    return { text, ...(phrase !== undefined ? { passphrase: phrase } : {}), fingerprint: key ? fingerprintOf(key.getPublicSSH()) : 'unknown key' };
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
