import { existsSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { grError } from '@gitops-reverser/contract';
import { InformerErrorCodes } from './informer-error-codes.js';
import { readKubeAccess, type KubeAccess } from './kube-access.js';

/** A Kubernetes API answer that was not a success, with its HTTP status and Status reason. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KubeApiError';
  }
}

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: Record<string, unknown>;
}

export interface KubeClientOptions {
  /** Path of a kubeconfig; undefined: in-cluster when running in a pod, else the default kubeconfig. */
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly requestTimeoutMs?: number;
}

/**
 * The few calls the informer needs (GET JSON, streamed watch), on node:https with the kubeconfig's
 * credentials (tokens, client certificates; exec plugins through @kubernetes/client-node).
 * Own streaming code so a watch can be paused (backpressure) and aborted (connection released).
 */
export class KubeClient {
  readonly server: string;

  private constructor(
    private readonly access: KubeAccess,
    private readonly requestTimeoutMs: number,
  ) {
    this.server = access.server;
  }

  static async load(options: KubeClientOptions = {}): Promise<KubeClient> {
    const where = options.kubeconfig ?? (process.env['KUBERNETES_SERVICE_HOST'] ? 'in-cluster service account' : 'the default kubeconfig ($KUBECONFIG or ~/.kube/config)');
    let access: KubeAccess | undefined;
    try {
      if (options.kubeconfig && !existsSync(options.kubeconfig)) throw new Error('file not found');
      access = readKubeAccess(options) ?? (await loadWithClientNode(options));
    } catch (cause) {
      if ((cause as { code?: string }).code === InformerErrorCodes.KUBECONFIG) throw cause;
      throw grError(InformerErrorCodes.KUBECONFIG, `cannot load the kubeconfig from ${where}: ${(cause as Error).message}`, {
        fix: 'set sources[].with.kubeconfig of @gitops-reverser/source-informer to a readable kubeconfig file (relative to the config file) and, when it has no current-context, with.context to one of its contexts; or run inside a pod',
        cause,
      });
    }
    return new KubeClient(access, options.requestTimeoutMs ?? 60_000);
  }

  /** GET `path` as JSON; `accept` names the representation asked for (discovery asks for its aggregated form). */
  async getJson<T>(path: string, signal?: AbortSignal, accept = 'application/json'): Promise<T> {
    const response = await this.open(path, signal, this.requestTimeoutMs, accept);
    const body = await readBody(response);
    if ((response.statusCode ?? 0) >= 300) throw apiError(response.statusCode ?? 0, body, path);
    return JSON.parse(body) as T;
  }

  /**
   * Streams a watch. Each event is handed to `onEvent` and awaited before the next is read, so a
   * slow consumer slows the stream (TCP backpressure) instead of buffering. Resolves when the server
   * ends the watch; rejects with KubeApiError on an error status or an ERROR event.
   */
  async watch(path: string, onEvent: (event: WatchEvent) => Promise<void>, signal: AbortSignal): Promise<void> {
    const response = await this.open(path, signal, 0);
    if ((response.statusCode ?? 0) >= 300) throw apiError(response.statusCode ?? 0, await readBody(response), path);
    response.setEncoding('utf8');
    let pending = '';
    for await (const chunk of response as AsyncIterable<string>) {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line === '') continue;
        const event = JSON.parse(line) as WatchEvent;
        if (event.type === 'ERROR') {
          const status = event.object as { code?: number; reason?: string; message?: string };
          throw new KubeApiError(status.code ?? 500, status.reason ?? 'Error', `watch ${path}: ${status.message ?? 'error event'}`);
        }
        await onEvent(event);
      }
    }
  }

  private async open(path: string, signal: AbortSignal | undefined, timeoutMs: number, accept = 'application/json'): Promise<IncomingMessage> {
    const url = new URL(this.server + path);
    const options: RequestOptions = { method: 'GET', headers: { accept } };
    await this.access.applyToHTTPSOptions(options);
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(url, { ...options, ...(signal ? { signal } : {}) }, resolve);
      if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(new KubeApiError(0, 'Timeout', `GET ${path} timed out after ${timeoutMs} ms`)));
      req.on('error', (error) => {
        if ((error as { name?: string }).name === 'AbortError') reject(error);
        else if (error instanceof KubeApiError) reject(error);
        else reject(new KubeApiError(0, 'Unreachable', `cannot reach ${this.server}: ${error.message}`, { cause: error }));
      });
      req.end();
    });
  }
}

/**
 * The full kubeconfig semantics (exec and auth-provider plugins, proxies, merged $KUBECONFIG files)
 * from @kubernetes/client-node, imported only when a kubeconfig needs them.
 */
async function loadWithClientNode(options: KubeClientOptions): Promise<KubeAccess> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kubeConfig = new KubeConfig();
  if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
  else if (process.env['KUBERNETES_SERVICE_HOST']) kubeConfig.loadFromCluster();
  else kubeConfig.loadFromDefault();
  if (options.context) kubeConfig.setCurrentContext(options.context);
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster)
    throw grError(InformerErrorCodes.KUBECONFIG, 'the kubeconfig has no current cluster', {
      fix: "set the kubeconfig's current-context, or sources[].with.context of @gitops-reverser/source-informer",
    });
  return { server: cluster.server.replace(/\/+$/, ''), applyToHTTPSOptions: (request) => kubeConfig.applyToHTTPSOptions(request) };
}

async function readBody(response: IncomingMessage): Promise<string> {
  response.setEncoding('utf8');
  let body = '';
  for await (const chunk of response as AsyncIterable<string>) body += chunk;
  return body;
}

function apiError(status: number, body: string, path: string): KubeApiError {
  let reason = 'Error';
  let message = body.slice(0, 300);
  try {
    const parsed = JSON.parse(body) as { reason?: string; message?: string };
    reason = parsed.reason ?? reason;
    message = parsed.message ?? message;
  } catch {
    // not a Status object
  }
  return new KubeApiError(status, reason, `GET ${path}: ${status} ${message}`);
}
