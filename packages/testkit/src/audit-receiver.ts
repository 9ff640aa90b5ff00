import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';

/** The subset of an audit.k8s.io/v1 Event the tests look at. */
export interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  impersonatedUser?: { username: string; uid?: string; groups?: string[] };
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string; apiVersion?: string };
  responseStatus?: { code?: number };
  requestObject?: Record<string, unknown>;
  responseObject?: Record<string, unknown>;
}

/**
 * An HTTPS endpoint the API server's audit webhook posts EventLists to. Records every event so a
 * test can wait for the one it caused.
 */
export class AuditReceiver {
  readonly events: AuditEvent[] = [];
  readonly bodies: unknown[] = [];
  private server: Server | undefined;

  async listen(port: number, tls: { cert: string; key: string }, path = '/audit'): Promise<void> {
    const server = createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url?.split('?')[0] !== path) {
          res.writeHead(404).end();
          return;
        }
        try {
          const list = JSON.parse(body) as { kind?: string; items?: AuditEvent[] };
          this.bodies.push(list);
          this.events.push(...(list.items ?? []));
          res.writeHead(200).end();
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  }

  async waitFor(predicate: (event: AuditEvent) => boolean, timeoutMs = 20_000): Promise<AuditEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching audit event within ${timeoutMs} ms (received ${this.events.length})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
