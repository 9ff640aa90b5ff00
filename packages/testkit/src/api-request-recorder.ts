import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlPlaneInfo } from './control-plane.js';
import { issueCertificate } from './pki.js';

/** One request as the API server received it. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as sent (`/api/v1/namespaces/a/configmaps?labelSelector=app%3Dweb&watch=1`). */
  readonly url: string;
  readonly path: string;
  readonly query: URLSearchParams;
}

/**
 * An HTTPS front of a test API server that forwards every request unchanged (watches stream through)
 * and records what was asked: a test proves what a client sends the API server, e.g. that a watch
 * carries a `labelSelector`, so the server filters. It serves a certificate the control plane's CA
 * signed, so a kubeconfig pointing at it differs from the real one in the address only.
 */
export class ApiRequestRecorder {
  readonly requests: RecordedRequest[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly dir = mkdtempSync(join(tmpdir(), 'gr-recorder-'));

  constructor(private readonly plane: Pick<ControlPlaneInfo, 'server' | 'caCert' | 'caKey'>) {}

  /** Starts listening on a free loopback port; resolves to its URL (`https://127.0.0.1:<port>`). */
  async start(): Promise<string> {
    const { cert, key } = issueCertificate({ dir: this.dir, caCert: this.plane.caCert, caKey: this.plane.caKey }, 'recorder', { commonName: 'api-request-recorder', sans: ['IP:127.0.0.1'] });
    const upstream = new URL(this.plane.server);
    const ca = readFileSync(this.plane.caCert);
    const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (incoming, outgoing) => {
      const url = incoming.url ?? '/';
      const parsed = new URL(url, 'https://recorder');
      this.requests.push({ method: incoming.method ?? 'GET', url, path: parsed.pathname, query: parsed.searchParams });
      const forwarded = request({ host: upstream.hostname, port: upstream.port, method: incoming.method, path: url, headers: { ...incoming.headers, host: upstream.host }, ca }, (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      });
      forwarded.on('error', () => outgoing.destroy());
      outgoing.on('close', () => forwarded.destroy());
      incoming.pipe(forwarded);
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the recorder has no port');
    return `https://127.0.0.1:${address.port}`;
  }

  /** Requests to `path` (exactly), optionally only watches or only lists. */
  to(path: string, kind?: 'watch' | 'list'): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path && r.method === 'GET' && (kind === undefined || (kind === 'watch') === (r.query.get('watch') === '1' || r.query.get('watch') === 'true')));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
