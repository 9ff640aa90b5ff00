import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP forwarder a test can cut: `partition()` drops every connection and refuses new ones until
 * `heal()`. Used to put a real network fault between a client and the API server, and, with
 * `retarget()`, as the one address in front of several replicas (what a Service is to pods).
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private partitioned = false;
  port = 0;

  constructor(
    private targetHost: string,
    private targetPort: number,
  ) {}

  /** From now on connections go to `host:port`; open ones are dropped (their clients reconnect through it). */
  retarget(host: string, port: number): void {
    this.targetHost = host;
    this.targetPort = port;
    for (const socket of this.sockets) socket.destroy();
  }

  async start(): Promise<number> {
    const server = createServer((client) => {
      if (this.partitioned) {
        client.destroy();
        return;
      }
      const upstream = connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  /** Open connections through the proxy (both directions count once). */
  get connections(): number {
    return this.sockets.size / 2;
  }

  partition(): void {
    this.partitioned = true;
    for (const socket of this.sockets) socket.destroy();
  }

  heal(): void {
    this.partitioned = false;
  }

  async stop(): Promise<void> {
    this.partition();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
