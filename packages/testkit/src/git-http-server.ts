import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GitHttpServerOptions {
  /** Basic-auth credentials required for every request; undefined = anonymous access. */
  readonly credentials?: { username: string; password: string };
  /**
   * A query parameter every request must carry (how GitLab takes `?private_token=...`), checked
   * besides `credentials`; undefined = none.
   */
  readonly queryToken?: { name: string; value: string };
  /**
   * Address to listen on and to put in URLs; default 127.0.0.1. A pod on a ClusterNode reaches the
   * host at its node address (`ClusterNode.hostAddress()`), never at loopback.
   */
  readonly host?: string;
}

/**
 * A real git smart-HTTP server: git's own `git http-backend` (CGI) behind a small Node HTTP server
 * with basic auth. Repositories are bare repos under one root. `stop()` and `start()` (same port)
 * let tests take the remote down and bring it back.
 */
export class GitHttpServer {
  readonly root: string;
  private server: Server | undefined;
  private port = 0;
  private readonly host: string;
  credentials: { username: string; password: string } | undefined;
  queryToken: { name: string; value: string } | undefined;
  /** Requests answered, e.g. to check a push happened. */
  readonly log: { method: string; path: string; status: number }[] = [];

  constructor(options: GitHttpServerOptions = {}) {
    this.root = mkdtempSync(join(tmpdir(), 'gr-git-http-'));
    this.credentials = options.credentials;
    this.queryToken = options.queryToken;
    this.host = options.host ?? '127.0.0.1';
  }

  /** Creates a bare repository that accepts pushes over HTTP. Returns its clone URL (with credentials when set). */
  createRepo(name: string, options: { initialBranch?: string } = {}): string {
    const dir = join(this.root, `${name}.git`);
    mkdirSync(dir, { recursive: true });
    git(['init', '--quiet', '--bare', `--initial-branch=${options.initialBranch ?? 'main'}`, dir]);
    git(['-C', dir, 'config', 'http.receivepack', 'true']);
    return this.url(name);
  }

  /** Path of a repository on disk, for inspecting it with the git CLI. */
  repoPath(name: string): string {
    return join(this.root, `${name}.git`);
  }

  url(name: string, withCredentials = false): string {
    const auth = withCredentials && this.credentials ? `${encodeURIComponent(this.credentials.username)}:${encodeURIComponent(this.credentials.password)}@` : '';
    return `http://${auth}${this.host}:${this.port}/${name}.git`;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
  }

  /** Stops listening (connections refused) but keeps the repositories. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.root, { recursive: true, force: true });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const finish = (status: number) => this.log.push({ method: req.method ?? '', path: url.pathname + url.search, status });
    if (this.credentials) {
      const header = req.headers.authorization ?? '';
      const given = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString() : '';
      if (given !== `${this.credentials.username}:${this.credentials.password}`) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end('authentication required\n');
        finish(401);
        return;
      }
    }
    if (this.queryToken && url.searchParams.get(this.queryToken.name) !== this.queryToken.value) {
      res.writeHead(401).end(`the ${this.queryToken.name} query parameter is missing or wrong\n`);
      finish(401);
      return;
    }
    const backend = spawn('git', ['http-backend'], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: this.root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        CONTENT_LENGTH: req.headers['content-length'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: (req.headers['git-protocol'] as string | undefined) ?? '',
        REMOTE_USER: this.credentials?.username ?? 'anonymous',
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    req.pipe(backend.stdin);
    let headersDone = false;
    let buffered = Buffer.alloc(0);
    backend.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of buffered.subarray(0, end).toString().split('\r\n')) {
        const colon = line.indexOf(':');
        const key = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (key.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else headers[key] = value;
      }
      res.writeHead(status, headers);
      finish(status);
      res.write(buffered.subarray(end + 4));
    });
    backend.on('close', () => {
      if (!headersDone) {
        res.writeHead(500).end();
        finish(500);
      } else res.end();
    });
    backend.on('error', () => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  }
}

function git(args: string[]): string {
  return execFileSync('git', args, { encoding: 'utf8' });
}
