import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { grError } from '@gitops-reverser/contract';
import { AuditErrorCodes } from './audit-error-codes.js';
import type { AuditEvent } from './audit-event.js';
import type { TokenState } from './token-file.js';

export interface ListenerTls {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA of the client certificates the API servers present (mTLS); needed for client-certificate auth. */
  readonly clientCAFile?: string;
}

/** What one listener lets a client use: bounded, so a flood of idle or slow connections cannot exhaust the process. */
export interface ListenerLimits {
  readonly maxBodyBytes: number;
  /** Open connections at most; more are closed as they arrive (the API server retries its batch). */
  readonly maxConnections: number;
  /** A request must arrive whole (headers and body) within this; a connection idle longer is closed. */
  readonly requestTimeoutMs: number;
}

export interface ClusterAuth {
  /**
   * The bearer token the API server sends (`users[].user.token` of its audit webhook kubeconfig),
   * asked on every request (a token file is re-read when it changes). A problem instead of a token
   * refuses every token (fail closed).
   */
  readonly token?: () => TokenState;
  /**
   * Client certificates signed by `tls.clientCAFile` whose common name is one of `commonNames`: the
   * names bind a certificate to this cluster (a CA signs more than one client; clusters may share a
   * listener and a CA).
   */
  readonly clientCertificate?: { readonly commonNames: readonly string[] };
}

/** What the HTTP layer hands a cluster's source: the checked EventList items. Resolves once they are on the bus. */
export type BatchHandler = (events: readonly AuditEvent[]) => Promise<void>;

interface Route {
  readonly auth: ClusterAuth;
  readonly handle: BatchHandler;
  readonly onRequest: (code: number) => void;
}

/**
 * One HTTPS listener per address, shared by the audit sources of every cluster configured on it
 * (each registers `/audit-webhook/<clusterId>` with its own credentials). Refuses before reading
 * anything it should not: unknown path 404, no credentials 401, wrong credentials or unknown cluster
 * 403, a body over the cap 413, not an audit.k8s.io/v1 EventList 400. Never logs bodies or tokens.
 */
export class AuditListener {
  private static readonly shared = new Map<string, AuditListener>();
  private readonly routes = new Map<string, Route>();
  private server: Server | undefined;
  private listening: Promise<AddressInfo> | undefined;
  private users = 0;

  private constructor(
    readonly host: string,
    readonly port: number,
    private readonly tls: ListenerTls,
    private readonly limits: ListenerLimits,
  ) {}

  /** The listener of an address (created on first use). Every cluster on one address must use the same TLS files. */
  static acquire(host: string, port: number, tls: ListenerTls, limits: ListenerLimits): AuditListener {
    const key = `${host}:${port}`;
    let listener = AuditListener.shared.get(key);
    if (!listener || port === 0) {
      listener = new AuditListener(host, port, tls, limits);
      if (port !== 0) AuditListener.shared.set(key, listener);
    } else if (JSON.stringify(listener.tls) !== JSON.stringify(tls)) {
      throw grError(AuditErrorCodes.LISTEN, `two audit sources listen on ${key} with different TLS settings`, { fix: 'give every cluster on one address the same tls: files, or a port of its own' });
    }
    listener.users++;
    return listener;
  }

  register(clusterId: string, route: Route): void {
    this.routes.set(clusterId, route);
  }

  async listen(): Promise<AddressInfo> {
    this.listening ??= this.start();
    return this.listening;
  }

  /** Unregisters a cluster; the last one closes the listener. */
  async release(clusterId: string): Promise<void> {
    this.routes.delete(clusterId);
    if (--this.users > 0) return;
    AuditListener.shared.delete(`${this.host}:${this.port}`);
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async start(): Promise<AddressInfo> {
    let options: import('node:https').ServerOptions;
    try {
      options = {
        cert: readFileSync(this.tls.certFile),
        key: readFileSync(this.tls.keyFile),
        ...(this.tls.clientCAFile ? { ca: readFileSync(this.tls.clientCAFile), requestCert: true, rejectUnauthorized: false } : {}),
      };
    } catch (cause) {
      throw grError(AuditErrorCodes.LISTEN, `cannot read the audit listener's TLS files: ${(cause as Error).message}`, {
        fix: 'check tls.certFile, tls.keyFile and tls.clientCAFile (relative to the config file)',
        cause,
      });
    }
    const server = createServer(options, (req, res) => this.handle(req, res));
    server.maxConnections = this.limits.maxConnections;
    server.requestTimeout = this.limits.requestTimeoutMs;
    server.headersTimeout = Math.min(this.limits.requestTimeoutMs, 60_000);
    // A TLS handshake that never completes, or a kept-alive connection that sends nothing, is closed too.
    server.setTimeout(this.limits.requestTimeoutMs, (socket) => socket.destroy());
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          grError(AuditErrorCodes.LISTEN, `cannot listen on ${this.host}:${this.port} for audit webhooks: ${error.code === 'EADDRINUSE' ? 'the port is already in use' : error.message}`, {
            fix: 'choose a free listen.port',
            cause: error,
          }),
        ),
      );
      server.listen(this.port, this.host, () => resolve());
    });
    return server.address() as AddressInfo;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const reply = (code: number, reason: string, route?: Route) => {
      route?.onRequest(code);
      if (req.complete) {
        res.writeHead(code, { 'content-type': 'text/plain' }).end(`${reason}\n`);
        return;
      }
      // Refused before its body was read: discard the rest (never buffered) and close the connection after the answer.
      res.writeHead(code, { 'content-type': 'text/plain', connection: 'close' }).end(`${reason}\n`);
      req.resume();
    };
    const match = /^\/audit-webhook\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/.exec((req.url ?? '').split('?')[0] ?? '');
    if (req.method !== 'POST' || !match) {
      reply(404, 'not found: POST /audit-webhook/<cluster-id>');
      return;
    }
    const route = this.routes.get(match[1] as string);
    const header = req.headers.authorization;
    const socket = req.socket as TLSSocket;
    const certificate = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
    const presentedCert = certificate !== undefined && Object.keys(certificate).length > 0;
    if (header === undefined && !presentedCert) {
      reply(401, 'authentication required: a bearer token or a client certificate', route);
      return;
    }
    if (!route) {
      reply(403, 'forbidden: no audit source is configured for this cluster id');
      return;
    }
    const commonName = certificate?.subject?.CN;
    if (!this.authorized(route.auth, header, socket, Array.isArray(commonName) ? commonName[0] : commonName)) {
      reply(403, 'forbidden: the credentials are not accepted for this cluster', route);
      return;
    }

    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > this.limits.maxBodyBytes) {
        refused = true;
        reply(413, `payload too large: the limit is ${this.limits.maxBodyBytes} bytes (maxBodyBytes)`, route);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (refused) return;
      let list: { apiVersion?: unknown; kind?: unknown; items?: unknown };
      try {
        list = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof list;
      } catch (error) {
        return reply(400, `bad request: the body is not JSON (${(error as Error).message.slice(0, 80)})`, route);
      }
      if (list === null || typeof list !== 'object' || list.kind !== 'EventList' || list.apiVersion !== 'audit.k8s.io/v1' || !Array.isArray(list.items)) {
        return reply(400, 'bad request: expected an audit.k8s.io/v1 EventList', route);
      }
      // Acknowledge once the batch is handed over (on the bus): the API server retries otherwise.
      route.handle(list.items as AuditEvent[]).then(
        () => reply(200, 'ok', route),
        () => reply(503, 'unavailable: the batch could not be handed over; retry', route),
      );
    });
  }

  private authorized(auth: ClusterAuth, header: string | undefined, socket: TLSSocket, commonName: string | undefined): boolean {
    const state = auth.token?.();
    // Only a usable token is compared: an empty or unreadable one accepts nothing.
    if (state && 'token' in state && state.token !== '' && header?.startsWith('Bearer ')) {
      const given = Buffer.from(header.slice(7));
      const expected = Buffer.from(state.token);
      if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
    }
    if (auth.clientCertificate && socket.authorized) {
      const names = auth.clientCertificate.commonNames;
      return names.length > 0 && commonName !== undefined && names.includes(commonName);
    }
    return false;
  }
}
