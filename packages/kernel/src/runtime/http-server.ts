import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { grError } from '@gitops-reverser/contract';
import { ErrorCodes } from '../errors.js';
import type { HealthReport } from './health-report.js';
import type { Logger } from '@gitops-reverser/contract';
import type { KernelMetrics } from './metrics.js';

export interface OperationsServerOptions {
  readonly host: string;
  readonly port: number;
  readonly metrics: KernelMetrics;
  readonly logger: Logger;
  readonly health: () => HealthReport;
  /** Called before /metrics is rendered, to refresh gauges read from adapters. */
  readonly beforeScrape?: () => void;
}

/** /healthz (the process is alive), /readyz (every adapter started and healthy), /metrics (Prometheus). */
export class OperationsServer {
  private server: Server | undefined;

  constructor(private readonly options: OperationsServerOptions) {}

  async listen(): Promise<AddressInfo> {
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/healthz') {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'alive' }));
        return;
      }
      if (path === '/readyz') {
        const report = this.options.health();
        response.writeHead(report.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(report, null, 2));
        return;
      }
      if (path === '/metrics') {
        this.options.beforeScrape?.();
        this.options.metrics.registry.metrics().then(
          (text) => response.writeHead(200, { 'content-type': this.options.metrics.registry.contentType }).end(text),
          (error: Error) => response.writeHead(500).end(error.message),
        );
        return;
      }
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz, /readyz or /metrics\n');
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const fail = (error: NodeJS.ErrnoException) => {
        const why = error.code === 'EADDRINUSE' ? 'the port is already in use' : error.code === 'EACCES' ? 'permission denied' : error.message;
        reject(
          grError(ErrorCodes.SERVER_LISTEN, `cannot serve /healthz /readyz /metrics on ${this.options.host}:${this.options.port}: ${why}`, {
            fix: 'set server.port to a free port (0 picks one), or server.enabled: false',
            cause: error,
          }),
        );
      };
      server.once('error', fail);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', fail);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    this.options.logger.info({ address: `${address.address}:${address.port}` }, `serving /healthz /readyz /metrics on port ${address.port}`);
    return address;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
