import { existsSync, readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';

/** Where the API server is and how to authenticate to it: what KubeClient needs from a kubeconfig. */
export interface KubeAccess {
  /** The API server URL, without a trailing slash. */
  readonly server: string;
  /** Adds TLS material and auth headers to request options (re-reading token files each time). */
  applyToHTTPSOptions(options: RequestOptions): Promise<void>;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

interface NamedCluster {
  name: string;
  cluster?: { server?: string; 'certificate-authority'?: string; 'certificate-authority-data'?: string; 'insecure-skip-tls-verify'?: boolean; 'tls-server-name'?: string; 'proxy-url'?: string };
}
interface NamedUser {
  name: string;
  user?: {
    token?: string;
    tokenFile?: string;
    'client-certificate'?: string;
    'client-certificate-data'?: string;
    'client-key'?: string;
    'client-key-data'?: string;
    username?: string;
    password?: string;
    as?: string;
    exec?: unknown;
    'auth-provider'?: unknown;
    'as-groups'?: unknown;
    'as-uid'?: unknown;
  };
}
interface KubeconfigFile {
  'current-context'?: string;
  clusters?: NamedCluster[];
  users?: NamedUser[];
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
}

/**
 * Reads a kubeconfig for the common cases itself: bearer token (inline or file), client certificate,
 * basic auth, `as` impersonation, CA / insecure / tls-server-name, and in-cluster ServiceAccount
 * access. Returns undefined for what it leaves to @kubernetes/client-node (exec and auth-provider
 * plugins, proxies, several files in $KUBECONFIG), which is then loaded on demand: importing it costs
 * ~70 MB of memory for API models the informer never uses (ADR 0012).
 */
export function readKubeAccess(options: { kubeconfig?: string; context?: string }): KubeAccess | undefined {
  // As before (and as client-node does): in a pod without a kubeconfig option, the ServiceAccount wins.
  if (!options.kubeconfig && process.env['KUBERNETES_SERVICE_HOST']) return inCluster();
  const file = options.kubeconfig ?? defaultKubeconfig();
  if (!file) return undefined;
  const config = parse(readFileSync(file, 'utf8')) as KubeconfigFile | null;
  if (!config || typeof config !== 'object') throw new Error('the file is not a kubeconfig (no YAML mapping)');
  const contextName = options.context ?? config['current-context'];
  const context = config.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(contextName ? `context "${contextName}" is not in the kubeconfig` : 'the kubeconfig has no current-context');
  const cluster = config.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster?.server) throw new Error(`cluster "${context.cluster}" of context "${contextName}" has no server`);
  const user = config.users?.find((u) => u.name === context.user)?.user ?? {};
  if (user.exec || user['auth-provider'] || user['as-groups'] || user['as-uid'] || cluster['proxy-url']) return undefined;
  const base = dirname(resolve(file));
  const path = (value: string | undefined) => (value === undefined ? undefined : isAbsolute(value) ? value : join(base, value));
  const material = (inline: string | undefined, fromFile: string | undefined) => (inline ? Buffer.from(inline, 'base64') : fromFile ? readFileSync(path(fromFile) as string) : undefined);
  const ca = material(cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = material(user['client-certificate-data'], user['client-certificate']);
  const key = material(user['client-key-data'], user['client-key']);
  const tokenFile = path(user.tokenFile);
  const { token, username, password, as } = user;
  return {
    server: cluster.server.replace(/\/+$/, ''),
    async applyToHTTPSOptions(request) {
      if (ca) request.ca = ca;
      if (cert) request.cert = cert;
      if (key) request.key = key;
      if (cluster['insecure-skip-tls-verify']) request.rejectUnauthorized = false;
      if (cluster['tls-server-name']) request.servername = cluster['tls-server-name'];
      const headers = (request.headers ??= {}) as Record<string, string>;
      // A token file is read at every request: projected ServiceAccount tokens are rotated in place.
      const bearer = token ?? (tokenFile ? readFileSync(tokenFile, 'utf8').trim() : undefined);
      if (bearer) headers['authorization'] = `Bearer ${bearer}`;
      else if (username !== undefined) request.auth = `${username}:${password ?? ''}`;
      if (as) headers['impersonate-user'] = as;
    },
  };
}

/** $KUBECONFIG (one file) or ~/.kube/config; undefined when it names several files (client-node merges those). */
function defaultKubeconfig(): string | undefined {
  const fromEnv = process.env['KUBECONFIG'];
  if (fromEnv) {
    const files = fromEnv.split(':').filter(Boolean);
    return files.length === 1 ? files[0] : undefined;
  }
  const file = join(homedir(), '.kube', 'config');
  if (!existsSync(file)) throw new Error(`${file} not found`);
  return file;
}

/** The pod's ServiceAccount: API server from the environment, its CA, and its (rotating) token. */
function inCluster(): KubeAccess {
  const host = process.env['KUBERNETES_SERVICE_HOST'] as string;
  const port = process.env['KUBERNETES_SERVICE_PORT'] ?? '443';
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
  const ca = readFileSync(join(SERVICE_ACCOUNT, 'ca.crt'));
  return {
    server: `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    async applyToHTTPSOptions(request) {
      request.ca = ca;
      const headers = (request.headers ??= {}) as Record<string, string>;
      headers['authorization'] = `Bearer ${readFileSync(join(SERVICE_ACCOUNT, 'token'), 'utf8').trim()}`;
    },
  };
}
