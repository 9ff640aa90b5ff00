import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { grError } from '@gitops-reverser/contract';
import type { RouteAuth } from './webhook-auth.js';
import { WebhookErrorCodes } from './webhook-error-codes.js';

export interface WebhookTls {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA of the client certificates callers present (mTLS); needed for client-certificate auth. */
  readonly clientCAFile?: string;
}

/** What one listener lets a client use: bounded, so a flood of idle, slow or huge requests cannot exhaust the process. */
export interface WebhookLimits {
  readonly maxBodyBytes: number;
  /** Open connections at most; more are closed as they arrive (callers retry). */
  readonly maxConnections: number;
  /** A request must arrive whole (headers and body) within this; a connection idle longer is closed. */
  readonly requestTimeoutMs: number;
}

/** A handler's answer: the status and a JSON (object) or text body. */
export interface WebhookAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** One path of a listener: `/<prefix>/<cluster>`, its credentials and what handles its requests. */
export interface WebhookRoute {
  readonly prefix: string;
  readonly cluster: string;
  readonly auth: RouteAuth;
  /** Gets the parsed JSON body of an authenticated request; must not throw (a throw answers 500). */
  readonly handle: (body: unknown) => Promise<WebhookAnswer>;
  /** Told the status of every request to this route (for metrics). */
  readonly onRequest?: (status: number) => void;
}

const PATH = /^\/([a-z][a-z0-9-]*)\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/;

/**
 * One HTTPS listener per address, shared by every webhook source configured on it (audit and
 * admission sources of any number of clusters, each registering `/<prefix>/<cluster>` with its own
 * credentials). It refuses before reading anything it should not: an unknown path 404, no
 * credentials 401, wrong credentials or an unknown cluster 403, a body over the limit 413, not JSON
 * 400. Bodies and tokens are never logged.
 */
export class WebhookListener {
  private static readonly shared = new Map<string, WebhookListener>();
  private readonly routes = new Map<string, WebhookRoute>();
  private server: Server | undefined;
  private listening: Promise<AddressInfo> | undefined;
  private users = 0;

  private constructor(
    readonly host: string,
    readonly port: number,
    private readonly tls: WebhookTls,
    private readonly limits: WebhookLimits,
  ) {}

  /**
   * The listener of an address, created on first use (port 0: always a new one). Every source on one
   * address must use the same TLS files; the first one's limits apply.
   */
  static acquire(host: string, port: number, tls: WebhookTls, limits: WebhookLimits): WebhookListener {
    const key = `${host}:${port}`;
    let listener = WebhookListener.shared.get(key);
    if (!listener || port === 0) {
      listener = new WebhookListener(host, port, tls, limits);
      if (port !== 0) WebhookListener.shared.set(key, listener);
    } else if (JSON.stringify(listener.tls) !== JSON.stringify(tls)) {
      throw grError(WebhookErrorCodes.LISTEN, `two webhook sources listen on ${key} with different TLS settings`, {
        fix: 'give every source on one address the same tls: files, or a port of its own',
      });
    }
    listener.users++;
    return listener;
  }

  register(route: WebhookRoute): void {
    this.routes.set(`/${route.prefix}/${route.cluster}`, route);
  }

  async listen(): Promise<AddressInfo> {
    this.listening ??= this.start();
    return this.listening;
  }

  /** Unregisters a route; the last user closes the listener. */
  async release(route: Pick<WebhookRoute, 'prefix' | 'cluster'>): Promise<void> {
    this.routes.delete(`/${route.prefix}/${route.cluster}`);
    if (--this.users > 0) return;
    WebhookListener.shared.delete(`${this.host}:${this.port}`);
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async start(): Promise<AddressInfo> {
    let options: ServerOptions;
    try {
      options = {
        cert: readFileSync(this.tls.certFile),
        key: readFileSync(this.tls.keyFile),
        ...(this.tls.clientCAFile ? { ca: readFileSync(this.tls.clientCAFile), requestCert: true, rejectUnauthorized: false } : {}),
      };
    } catch (cause) {
      throw grError(WebhookErrorCodes.LISTEN, `cannot read the webhook listener's TLS files: ${(cause as Error).message}`, {
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
          grError(WebhookErrorCodes.LISTEN, `cannot listen on ${this.host}:${this.port} for webhooks: ${error.code === 'EADDRINUSE' ? 'the port is already in use' : error.message}`, {
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
    const reply = (status: number, body: unknown, route?: WebhookRoute) => {
      route?.onRequest?.(status);
      const json = typeof body !== 'string';
      const headers: Record<string, string> = { 'content-type': json ? 'application/json' : 'text/plain' };
      // Refused before its body was read: the rest is discarded, never buffered, and drained so the
      // connection stays usable (closing it under a client still sending resets the connection);
      // requestTimeoutSeconds bounds how long that may take. A body declared over the limit closes it.
      const declared = Number(req.headers['content-length']);
      if (!req.complete && Number.isFinite(declared) && declared > this.limits.maxBodyBytes) headers['connection'] = 'close';
      res.writeHead(status, headers).end(json ? JSON.stringify(body) : `${body}\n`);
      if (!req.complete) req.resume();
    };
    const path = (req.url ?? '').split('?')[0] ?? '';
    const match = PATH.exec(path);
    const prefixKnown = match !== null && [...this.routes.values()].some((route) => route.prefix === match[1]);
    if (req.method !== 'POST' || !match || !prefixKnown) {
      reply(404, `not found: POST /<${[...new Set([...this.routes.values()].map((r) => r.prefix))].join('|')}>/<cluster-id>`);
      return;
    }
    const route = this.routes.get(path);
    const header = req.headers.authorization;
    const socket = req.socket as TLSSocket;
    const certificate = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
    const presentedCert = certificate !== undefined && Object.keys(certificate).length > 0;
    // A route without credentials (a source that documents running without caller authentication) takes any caller.
    const open = route !== undefined && route.auth.token === undefined && route.auth.clientCertificate === undefined;
    if (!open && header === undefined && !presentedCert) {
      reply(401, 'authentication required: a bearer token or a client certificate', route);
      return;
    }
    if (!route) {
      reply(403, 'forbidden: no source is configured for this cluster id');
      return;
    }
    const commonName = certificate?.subject?.CN;
    if (!open && !authorized(route.auth, header, socket, Array.isArray(commonName) ? commonName[0] : commonName)) {
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
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        reply(400, `bad request: the body is not JSON (${(error as Error).message.slice(0, 80)})`, route);
        return;
      }
      route.handle(body).then(
        (answer) => reply(answer.status, answer.body, route),
        () => reply(500, 'internal error: the request could not be handled; retry', route),
      );
    });
  }
}

/** A usable bearer token of the route, or a client certificate signed by the CA with one of the route's names. */
function authorized(auth: RouteAuth, header: string | undefined, socket: TLSSocket, commonName: string | undefined): boolean {
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
