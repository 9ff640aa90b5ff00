import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { grError } from '@gitops-reverser/contract';
import { ErrorCodes } from '../errors.js';

/** The answer of one API request. */
export interface KubeApiResponse {
  readonly status: number;
  readonly body: string;
}

/** Just enough of a Kubernetes API client for `webhook-certificate`: one JSON request at a time. */
export interface KubeApiClient {
  /** Where requests go (for messages). */
  readonly server: string;
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<KubeApiResponse>;
}

interface Connection {
  readonly server: string;
  readonly ca?: Buffer;
  readonly insecure?: boolean;
  readonly token?: () => string;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

const IN_CLUSTER = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * A client from a kubeconfig file (its current context: token, token file or client certificate),
 * or, without one, the pod's ServiceAccount (the token is read at each request: the kubelet rotates
 * it). Exec plugins and auth providers are not supported: a Job in the cluster needs neither.
 */
export function kubeApiClient(kubeconfigFile?: string): KubeApiClient {
  const connection = connectionFor(kubeconfigFile);
  return {
    server: connection.server,
    request: (method, path, body, contentType = 'application/json') =>
      new Promise((done, fail) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = request(
          `${connection.server.replace(/\/+$/, '')}${path}`,
          {
            method,
            ...(connection.ca ? { ca: connection.ca } : {}),
            ...(connection.insecure ? { rejectUnauthorized: false } : {}),
            ...(connection.cert && connection.key ? { cert: connection.cert, key: connection.key } : {}),
            headers: {
              accept: 'application/json',
              ...(connection.token ? { authorization: `Bearer ${connection.token()}` } : {}),
              ...(payload ? { 'content-type': contentType } : {}),
            },
            timeout: 30_000,
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer from ${connection.server} within 30 s`)));
        req.on('error', fail);
        req.end(payload);
      }),
  };
}

/** Where to connect and as whom; a kubeconfig that cannot be used is the user's option to fix (GR_ERR_CLI_USAGE). */
function connectionFor(kubeconfigFile: string | undefined): Connection {
  try {
    return kubeconfigFile ? fromKubeconfig(kubeconfigFile) : inCluster();
  } catch (error) {
    throw grError(ErrorCodes.CLI_USAGE, kubeconfigFile ? `--kubeconfig ${kubeconfigFile} cannot be used: ${(error as Error).message}` : (error as Error).message, {
      fix: 'pass --kubeconfig <file> with a token or client certificate for the cluster (exec plugins are not supported here), or run it in a pod with its ServiceAccount (the chart’s hook does)',
    });
  }
}

function inCluster(): Connection {
  const host = process.env['KUBERNETES_SERVICE_HOST'];
  const port = process.env['KUBERNETES_SERVICE_PORT'] ?? '443';
  if (!host) throw new Error('not running in a pod (KUBERNETES_SERVICE_HOST is not set): pass --kubeconfig <file>');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: readFileSync(`${IN_CLUSTER}/ca.crt`),
    token: () => readFileSync(`${IN_CLUSTER}/token`, 'utf8').trim(),
  };
}

interface Kubeconfig {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: { name: string; cluster: Record<string, unknown> }[];
  users?: { name: string; user: Record<string, unknown> }[];
}

function fromKubeconfig(file: string): Connection {
  const config = parse(readFileSync(file, 'utf8')) as Kubeconfig;
  const contextName = config['current-context'] ?? config.contexts?.[0]?.name;
  const context = config.contexts?.find((c) => c.name === contextName)?.context;
  const cluster = config.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const user = config.users?.find((u) => u.name === context?.user)?.user ?? {};
  if (!context || !cluster || typeof cluster['server'] !== 'string') throw new Error(`${file}: no usable current context (a context naming a cluster with a server)`);
  if (user['exec'] || user['auth-provider']) throw new Error(`${file}: exec plugins and auth providers are not supported here; use a token or a client certificate`);
  const base = dirname(resolve(file));
  const fileOrData = (fields: Record<string, unknown>, fileKey: string, dataKey: string): Buffer | undefined => {
    const data = fields[dataKey];
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    const path = fields[fileKey];
    return typeof path === 'string' ? readFileSync(isAbsolute(path) ? path : resolve(base, path)) : undefined;
  };
  const token = typeof user['token'] === 'string' ? user['token'] : undefined;
  const tokenFile = typeof user['tokenFile'] === 'string' ? (isAbsolute(user['tokenFile']) ? user['tokenFile'] : resolve(base, user['tokenFile'])) : undefined;
  const ca = fileOrData(cluster, 'certificate-authority', 'certificate-authority-data');
  const cert = fileOrData(user, 'client-certificate', 'client-certificate-data');
  const key = fileOrData(user, 'client-key', 'client-key-data');
  return {
    server: cluster['server'],
    ...(ca ? { ca } : {}),
    ...(cluster['insecure-skip-tls-verify'] === true ? { insecure: true } : {}),
    ...(token ? { token: () => token } : tokenFile ? { token: () => readFileSync(tokenFile, 'utf8').trim() } : {}),
    ...(cert && key ? { cert, key } : {}),
  };
}
