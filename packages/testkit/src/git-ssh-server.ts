import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { recordEntry, removeEntry } from './process-registry.js';

/** Where Debian's openssh-server installs the daemon (`apt-get install openssh-server`). */
export const SSHD_PATH = '/usr/sbin/sshd';

export interface SshKeyPair {
  readonly privateKeyPath: string;
  readonly privateKey: string;
  /** The `authorized_keys` / `.pub` line. */
  readonly publicKey: string;
}

/**
 * A real OpenSSH server on a loopback port, for git over SSH in tests: the machine's own `sshd`,
 * started unprivileged-style from a temp folder with its own host key and config (no system files
 * touched). Logins are as the current user, and only with an authorized key, whose
 * `authorized_keys` line pins it to `git-shell`: the key can run git's receive-pack/upload-pack on
 * repositories under `root`, and nothing else (no shell, no forwarding), as a git server's deploy
 * key would.
 */
export class GitSshServer {
  readonly root: string;
  readonly user = userInfo().username;
  /** The server's host key (ed25519), public line without the host part. */
  readonly hostPublicKey: string;
  private readonly stateDir: string;
  private readonly authorized: string[] = [];
  private readonly id = `sshd-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private child: ChildProcess | undefined;
  port = 0;

  /** True when the daemon is installed (Debian: `apt-get install openssh-server`). */
  static available(): boolean {
    return existsSync(SSHD_PATH);
  }

  constructor() {
    if (!GitSshServer.available()) {
      throw new Error(`${SSHD_PATH} not found: install openssh-server (Debian: apt-get install openssh-server); .ci/run does this`);
    }
    this.root = mkdtempSync(join(tmpdir(), 'gr-git-ssh-'));
    this.stateDir = join(this.root, '.sshd');
    mkdirSync(this.stateDir, { mode: 0o700 });
    const hostKey = join(this.stateDir, 'host_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'gr-test-host', '-f', hostKey]);
    this.hostPublicKey = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  }

  /** A new key pair in the server's folder (not yet authorized). ecdsa by default: every libssh2 speaks it. */
  createKey(name: string, options: { type?: 'ecdsa' | 'ed25519' | 'rsa'; passphrase?: string; format?: 'pem' | 'openssh' } = {}): SshKeyPair {
    const path = join(this.stateDir, `client_${name}`);
    rmSync(path, { force: true });
    rmSync(`${path}.pub`, { force: true });
    // PEM by default: the classic encoding every SSH library reads; 'openssh' is ssh-keygen's own newer format.
    const format = options.format === 'openssh' ? [] : ['-m', 'PEM'];
    execFileSync('ssh-keygen', ['-q', '-t', options.type ?? 'ecdsa', ...format, '-N', options.passphrase ?? '', '-C', name, '-f', path]);
    return { privateKeyPath: path, privateKey: readFileSync(path, 'utf8'), publicKey: readFileSync(`${path}.pub`, 'utf8').trim() };
  }

  /** Lets `key` log in; its session can only run git-shell. Takes effect for the next connection. */
  authorize(key: Pick<SshKeyPair, 'publicKey'>): void {
    this.authorized.push(key.publicKey);
    this.writeAuthorizedKeys();
  }

  revokeAll(): void {
    this.authorized.length = 0;
    this.writeAuthorizedKeys();
  }

  /** A bare repository that accepts pushes. Returns its ssh:// URL. */
  createRepo(name: string, options: { initialBranch?: string } = {}): string {
    const dir = this.repoPath(name);
    mkdirSync(dir, { recursive: true });
    execFileSync('git', ['init', '--quiet', '--bare', `--initial-branch=${options.initialBranch ?? 'main'}`, dir]);
    return this.url(name);
  }

  repoPath(name: string): string {
    return join(this.root, `${name}.git`);
  }

  url(name: string): string {
    return `ssh://${this.user}@127.0.0.1:${this.port}${this.repoPath(name)}`;
  }

  /** The known_hosts line for this server (port-qualified, as OpenSSH writes it). */
  knownHostsLine(): string {
    return `[127.0.0.1]:${this.port} ${this.hostPublicKey}`;
  }

  async start(): Promise<void> {
    if (this.child) return;
    this.port ||= await freePort();
    this.writeAuthorizedKeys();
    const config = join(this.stateDir, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(this.stateDir, 'host_ed25519')}`,
        `PidFile ${join(this.stateDir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(this.stateDir, 'authorized_keys')}`,
        // The temp folder is not a home directory: its modes are not the daemon's business.
        'StrictModes no',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        // Run as root (CI), sshd would refuse root logins by default; keys only, and pinned to git-shell.
        'PermitRootLogin prohibit-password',
        'AllowTcpForwarding no',
        'X11Forwarding no',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    // As root, sshd drops privileges into this folder; Debian creates it only when the service starts.
    if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const log = openSync(join(this.stateDir, 'sshd.log'), 'a');
    const child = spawn(SSHD_PATH, ['-D', '-e', '-f', config], { stdio: ['ignore', log, log], detached: true });
    closeSync(log);
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    recordEntry({ id: this.id, ownerPid: process.pid, pids: [{ pid: child.pid as number, executable: 'sshd' }], dataDir: this.root });
    await this.waitListening();
  }

  /** What sshd logged (auth failures, key fingerprints), for assertions and failure messages. */
  log(): string {
    try {
      return readFileSync(join(this.stateDir, 'sshd.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Stops listening; repositories and keys stay for `start()` (same port). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
    this.child = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    removeEntry(this.id);
    rmSync(this.root, { recursive: true, force: true });
  }

  private writeAuthorizedKeys(): void {
    // Each key may only run git-shell with the command the client asked for, as on a git server.
    const restrictions = 'command="git-shell -c \\"$SSH_ORIGINAL_COMMAND\\"",no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty';
    const file = join(this.stateDir, 'authorized_keys');
    writeFileSync(file, this.authorized.map((key) => `${restrictions} ${key}\n`).join(''), { mode: 0o600 });
    chmodSync(file, 0o600);
  }

  private async waitListening(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const open = await new Promise<boolean>((resolve) => {
        const socket = connect(this.port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      if (open) return;
      if (!this.child || Date.now() > deadline) throw new Error(`sshd did not start on port ${this.port}: ${this.log().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
