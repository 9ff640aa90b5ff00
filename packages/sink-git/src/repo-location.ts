import { isAbsolute, resolve } from 'node:path';
import type { ProviderAuth } from './provider-config.js';

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
      // Never the raw text: it may hold a password (planGitTargets refuses such URLs before use).
      return redactUrl(url);
    }
  }
  if (/^[^/]+@[^:]+:/.test(url)) return url; // scp-like SSH address: git@host:org/repo.git
  return isAbsolute(url) ? url : resolve(baseDir, url);
}

/** Why a remote URL cannot be used, or undefined. Checked before anything else sees the URL. */
export function remoteUrlProblem(url: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined;
  try {
    const parsed = new URL(url);
    if (parsed.hash !== '' || url.includes('#')) return 'contains "#" (a fragment): a password with "#" must be written as %23';
    return undefined;
  } catch {
    return 'does not parse as a URL; write reserved characters in the user name or password percent-encoded (# as %23, @ as %40, / as %2F, : as %3A), or use auth: instead';
  }
}

/** The URL with everything between "://" and the last "@" (user and password) replaced by "***". */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)(.*)@/i, (_match, scheme: string) => `${scheme}***@`);
}

/** Splits user and password out of an http(s) URL (percent-decoded), returning the URL without them. */
export function splitCredentials(url: string): { url: string; username?: string; password?: string } {
  if (!/^https?:\/\//i.test(url)) return { url };
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return { url };
  const username = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

/**
 * The bus partition key: (repository, branch). Every event for one branch of one repository goes
 * through one partition, so one writer applies them in order. Formed as `{repo}#{branch}`; repo
 * locations never contain "#" (fragments are stripped), so the first "#" splits it.
 */
export function partitionKeyOf(providerUrl: string, branch: string): string {
  return `${repoLocationOf(providerUrl)}#${branch}`;
}

/**
 * An http(s) URL without its user and password, and the auth to use: `auth` when configured, else
 * what the URL carried. Credentials never stay in a stored URL (a clone's config).
 */
export function credentialsOf(url: string, auth: ProviderAuth | undefined): { url: string; auth: ProviderAuth | undefined } {
  const split = splitCredentials(url);
  const fromUrl =
    split.username !== undefined || split.password !== undefined ? { ...(split.username ? { username: split.username } : {}), ...(split.password ? { password: split.password } : {}) } : undefined;
  return { url: split.url, auth: auth ?? fromUrl };
}
