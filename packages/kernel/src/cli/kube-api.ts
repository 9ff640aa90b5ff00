import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { grError, parseApiVersion } from '@gitops-reverser/contract';
import { ErrorCodes } from '../errors.js';

/** A served type: what discovery says of a kind. */
export interface ServedType {
  readonly resource: string;
  readonly namespaced: boolean;
}

export interface KubeResponse {
  readonly status: number;
  readonly body: string;
}

/** Where to connect and as whom: a kubeconfig file (default: $KUBECONFIG or ~/.kube/config) and a context in it. */
export interface KubeconfigChoice {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
}

/**
 * The Kubernetes API as `restore` uses it: the person's own credentials from their kubeconfig (every
 * form kubectl reads, exec plugins included, through @kubernetes/client-node's loader, imported only
 * here), discovery of kinds, reads and server-side apply. Every write is the person's, so the cluster's
 * audit log (and gitops-reverser's attribution) names them.
 */
export class KubeApi {
  private readonly served = new Map<string, Map<string, ServedType> | undefined>();

  private constructor(
    readonly server: string,
    readonly contextName: string,
    private readonly apply: (options: RequestOptions) => Promise<void>,
  ) {}

  /** Loads the kubeconfig; GR_ERR_RESTORE_KUBECONFIG when it cannot be read or has no such context. */
  static async connect(choice: KubeconfigChoice): Promise<KubeApi> {
    const { server, context, apply } = await loadKubeconfig(choice);
    return new KubeApi(server, context, apply);
  }

  /** The API server a kubeconfig (and context) points at, without connecting; undefined when it cannot be read. */
  static async serverOf(choice: KubeconfigChoice): Promise<string | undefined> {
    try {
      return (await loadKubeconfig(choice)).server;
    } catch {
      return undefined;
    }
  }

  async request(method: string, path: string, options: { body?: string; contentType?: string } = {}): Promise<KubeResponse> {
    const url = new URL(`${this.server}${path}`);
    const requestOptions: RequestOptions = {
      method,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port,
      path: `${url.pathname}${url.search}`,
      headers: { accept: 'application/json', 'user-agent': 'gitops-reverser-restore', ...(options.body !== undefined ? { 'content-type': options.contentType ?? 'application/json' } : {}) },
    };
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    try {
      // Inside the try: client-node refuses some kubeconfigs only here (e.g. an http:// server without skipTLSVerify).
      await this.apply(requestOptions);
      return await new Promise<KubeResponse>((resolve, reject) => {
        const req = send(requestOptions, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.setTimeout(60_000, () => req.destroy(new Error('no answer within 60 s')));
        req.end(options.body);
      });
    } catch (error) {
      throw grError(ErrorCodes.RESTORE_KUBECONFIG, `cannot reach the API server ${this.server} (context ${this.contextName}): ${(error as Error).message}`, {
        fix: 'check the kubeconfig and context (--kubeconfig, --context) and that the cluster is up',
      });
    }
  }

  /** How a kind is served (plural resource, namespaced or not); undefined when the API server does not serve it (yet). */
  async servedType(apiVersion: string, kind: string, options: { fresh?: boolean } = {}): Promise<ServedType | undefined> {
    if (options.fresh) this.served.delete(apiVersion);
    if (!this.served.has(apiVersion)) {
      const { group, version } = parseApiVersion(apiVersion);
      const response = await this.request('GET', group === '' ? `/api/${version}` : `/apis/${group}/${version}`);
      if (response.status === 404) this.served.set(apiVersion, undefined);
      else if (response.status !== 200) throw this.refused('discovery', apiVersion, response);
      else {
        const list = JSON.parse(response.body) as { resources?: { name: string; kind: string; namespaced: boolean }[] };
        this.served.set(apiVersion, new Map((list.resources ?? []).filter((r) => !r.name.includes('/')).map((r) => [r.kind, { resource: r.name, namespaced: r.namespaced }])));
      }
    }
    return this.served.get(apiVersion)?.get(kind);
  }

  /** The path of an object: `/api/v1/namespaces/a/configmaps/b`, `/apis/apps/v1/namespaces/a/deployments/web`. */
  objectPath(apiVersion: string, served: ServedType, namespace: string, name: string): string {
    const { group, version } = parseApiVersion(apiVersion);
    const base = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
    return `${base}${served.namespaced ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${served.resource}/${encodeURIComponent(name)}`;
  }

  /** The error of a request the API server refused, with its message. */
  refused(what: string, name: string, response: KubeResponse): Error {
    let message = response.body.slice(0, 500);
    try {
      message = (JSON.parse(response.body) as { message?: string }).message ?? message;
    } catch {
      // not JSON: the text as it came
    }
    return grError(ErrorCodes.RESTORE_APPLY, `${what} of ${name}: the API server answered ${response.status}: ${message}`, {
      fix: response.status === 401 || response.status === 403 ? 'use credentials that may read and write these objects (--kubeconfig, --context)' : 'see the API server’s message',
    });
  }
}

async function loadKubeconfig(choice: KubeconfigChoice): Promise<{ server: string; context: string; apply: (options: RequestOptions) => Promise<void> }> {
  // Imported only here: client-node is large, and only restore talks to a cluster.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  const where = choice.kubeconfig ?? process.env['KUBECONFIG'] ?? '~/.kube/config';
  // Without any kubeconfig client-node falls back to http://localhost:8080, which names no cluster of the person's.
  if (!choice.kubeconfig && !process.env['KUBECONFIG'] && !process.env['KUBERNETES_SERVICE_HOST'] && !existsSync(join(homedir(), '.kube', 'config'))) {
    throw grError(ErrorCodes.RESTORE_KUBECONFIG, 'no kubeconfig to restore with: no --kubeconfig, $KUBECONFIG is not set and ~/.kube/config does not exist', {
      fix: 'pass --kubeconfig <file> (and --context <name>) with credentials for the cluster to restore into',
    });
  }
  try {
    if (choice.kubeconfig) config.loadFromFile(choice.kubeconfig);
    else config.loadFromDefault();
    if (choice.context) {
      if (!config.getContexts().some((c) => c.name === choice.context)) throw new Error(`it has no context "${choice.context}"`);
      config.setCurrentContext(choice.context);
    }
  } catch (error) {
    throw grError(ErrorCodes.RESTORE_KUBECONFIG, `cannot load the kubeconfig ${where}: ${(error as Error).message}`, {
      fix: 'pass --kubeconfig <file> (and --context <name>) with credentials for the cluster to restore into',
    });
  }
  const cluster = config.getCurrentCluster();
  if (!cluster?.server) {
    throw grError(ErrorCodes.RESTORE_KUBECONFIG, `the kubeconfig ${where} names no cluster server for context "${config.getCurrentContext()}"`, {
      fix: 'pass --context with a context that has a cluster, or --kubeconfig with another file',
    });
  }
  return { server: cluster.server.replace(/\/+$/, ''), context: config.getCurrentContext(), apply: (options) => config.applyToHTTPSOptions(options) };
}
