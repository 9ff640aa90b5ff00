import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { toolBinaries } from './binaries.js';
import { freePort } from './free-port.js';
import type { NatsOperator } from './nats-operator.js';
import { recordEntry, removeEntry } from './process-registry.js';

export interface NatsServerOptions {
  /** Cluster peers: the `cluster` ports of the other nodes (for a JetStream cluster). */
  readonly routes?: readonly number[];
  readonly clusterName?: string;
  readonly clusterPort?: number;
  readonly serverName?: string;
  /** Data folder (JetStream store); default a new temp folder, removed by `dispose()`. */
  readonly dataDir?: string;
  readonly port?: number;
  /**
   * Serve TLS only, with this certificate and key (e.g. from `issueCertificate` with the SANs
   * 127.0.0.1/localhost). With `verify`, a client must present a certificate signed by `caFile`.
   */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string; readonly verify?: boolean };
  /** Only these nkey users (public keys, `U...`) may connect: see `createNatsNkeyUser`. */
  readonly nkeyUsers?: readonly string[];
  /** Operator mode: only users of this operator's account (`.creds` files) may connect. */
  readonly operator?: NatsOperator;
  /** The server's `max_payload` in bytes (nats-server's default: 1 MB). */
  readonly maxPayload?: number;
  /** A config file of one's own (e.g. an example's); address, ports and store still come from this class. */
  readonly configFile?: string;
}

/**
 * A real nats-server with JetStream (built from its Go module) on loopback, for tests and benchmarks:
 * `stop()` ends it gracefully, `kill()` with SIGKILL (a crash), `start()` again keeps its store.
 */
export class NatsServer {
  readonly dataDir: string;
  private child: ChildProcess | undefined;
  private readonly id = `nats-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  port = 0;
  monitorPort = 0;

  constructor(private readonly options: NatsServerOptions = {}) {
    this.dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'gr-nats-'));
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** A 3-node JetStream cluster on loopback. */
  static async cluster(size = 3): Promise<NatsServer[]> {
    const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
    const nodes = clusterPorts.map((clusterPort, i) => new NatsServer({ clusterName: 'gr-test', clusterPort, serverName: `n${i + 1}`, routes: clusterPorts.filter((p) => p !== clusterPort) }));
    await Promise.all(nodes.map((node) => node.start()));
    // A cluster is usable once JetStream has its meta leader: the full health check says so.
    await Promise.all(nodes.map((node) => node.waitReady('/healthz')));
    return nodes;
  }

  async start(): Promise<void> {
    if (this.child) return;
    // A port picked here was free a moment ago; under a busy test run another process can take it
    // first (an outgoing connection's ephemeral port), and nats-server exits on it: picked again.
    const clientPortFixed = Boolean(this.options.port ?? this.port);
    for (let attempt = 1; ; attempt++) {
      this.port ||= this.options.port ?? (await freePort());
      this.monitorPort ||= await freePort();
      const exit = this.spawnServer();
      const outcome = await Promise.race([
        this.waitReady().then(
          () => 'ready' as const,
          (error: unknown) => error,
        ),
        exit.then(() => 'exited' as const),
      ]);
      if (outcome === 'ready') return;
      if (this.child) throw outcome; // running, but never ready
      const log = this.logTail();
      if (attempt < 3 && /address already in use/i.test(log)) {
        this.monitorPort = 0;
        if (!clientPortFixed) this.port = 0;
        continue;
      }
      throw new Error(`nats-server on port ${this.port} exited while starting (attempt ${attempt}); its log ends:\n${log}`);
    }
  }

  /** Starts the process on the current ports; resolves when it exits. */
  private spawnServer(): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true });
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-m', String(this.monitorPort), '-js', '-sd', join(this.dataDir, 'jetstream')];
    const config = this.configFile();
    if (config) args.push('-c', config);
    if (this.options.clusterPort) {
      args.push('--cluster_name', this.options.clusterName ?? 'gr-test', '--cluster', `nats://127.0.0.1:${this.options.clusterPort}`, '-n', this.options.serverName ?? this.id);
      if (this.options.routes?.length) args.push('--routes', this.options.routes.map((p) => `nats://127.0.0.1:${p}`).join(','));
    }
    const log = openSync(this.logFile, 'a');
    const child = spawn(toolBinaries().natsServer, args, { stdio: ['ignore', log, log], detached: true });
    closeSync(log);
    this.child = child;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
    recordEntry({ id: this.id, ownerPid: process.pid, pids: [{ pid: child.pid as number, executable: 'nats-server' }], dataDir: this.dataDir });
    return exited;
  }

  private get logFile(): string {
    return join(this.dataDir, 'nats-server.log');
  }

  /** The log's last lines, for an error (the data folder, and the log with it, goes at dispose). */
  private logTail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** The config file for what flags cannot say (TLS, users, operator, limits); undefined when nothing needs one. */
  private configFile(): string | undefined {
    const { tls, nkeyUsers, operator, maxPayload, configFile } = this.options;
    // nats-server resolves an include against the including file's folder.
    const lines: string[] = configFile ? [`include "${relative(this.dataDir, configFile)}"`] : [];
    if (tls) lines.push(`tls { cert_file: "${tls.certFile}", key_file: "${tls.keyFile}", ca_file: "${tls.caFile}", verify: ${tls.verify === true}, timeout: 5 }`);
    if (nkeyUsers?.length) lines.push(`authorization { users: [ ${nkeyUsers.map((key) => `{ nkey: ${key} }`).join(', ')} ] }`);
    if (operator) lines.push(operator.serverConfig());
    if (maxPayload !== undefined) lines.push(`max_payload: ${maxPayload}`);
    if (lines.length === 0) return undefined;
    const file = join(this.dataDir, 'nats-server.conf');
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  }

  /** Graceful stop (SIGTERM); the store stays for `start()`. */
  async stop(): Promise<void> {
    await this.end('SIGTERM');
  }

  /** A crash: SIGKILL, nothing flushed on purpose. */
  async kill(): Promise<void> {
    await this.end('SIGKILL');
  }

  async dispose(): Promise<void> {
    await this.stop();
    removeEntry(this.id);
    if (!this.options.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
    this.child = undefined;
  }

  /** Waits for the monitoring endpoint to report JetStream healthy. */
  async waitReady(path = '/healthz?js-enabled-only=true'): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const response = await fetch(`http://127.0.0.1:${this.monitorPort}${path}`);
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      if (!this.child) throw new Error(`nats-server on port ${this.port} is not running; its log ends:\n${this.logTail()}`);
      if (Date.now() > deadline + (path === '/healthz' ? 30_000 : 0)) throw new Error(`nats-server on port ${this.port} did not become ready; its log ends:\n${this.logTail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
