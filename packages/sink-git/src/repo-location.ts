import { isAbsolute, resolve } from 'node:path';

/** True for `scheme://...` addresses; everything else but scp-like SSH addresses is a local path. */
export function isRemoteUrl(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/]+@[^:/]+:/.test(url);
}

/** A provider URL as configured, with a local path made absolute against the config file's folder. */
export function resolveProviderUrl(url: string, baseDir: string): string {
  return isRemoteUrl(url) || isAbsolute(url) ? url : resolve(baseDir, url);
}

/**
 * Where a repository lives, in the one form used for partition keys, logs and metrics: an URL
 * without credentials, fragment or trailing slash, or an absolute local path.
 */
export function repoLocationOf(url: string, baseDir = process.cwd()): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      const parsed = new URL(url);
      parsed.username = '';
      parsed.password = '';
      parsed.hash = '';
      return parsed.toString().replace(/\/+$/, '');
    } catch {
      return url;
    }
  }
  if (/^[^/]+@[^:]+:/.test(url)) return url; // scp-like SSH address: git@host:org/repo.git
  return isAbsolute(url) ? url : resolve(baseDir, url);
}

/**
 * The bus partition key: (repository, branch). Every event for one branch of one repository goes
 * through one partition, so one writer applies them in order. Formed as `{repo}#{branch}`; repo
 * locations never contain "#" (fragments are stripped), so the first "#" splits it.
 */
export function partitionKeyOf(providerUrl: string, branch: string): string {
  return `${repoLocationOf(providerUrl)}#${branch}`;
}
