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
 * Where a repository lives, in the one form used for partition keys, logs, metrics, `/readyz` and the
 * clone's recorded origin: an URL without user, password, query string (`?private_token=...`) or
 * fragment, and without a trailing slash; or an absolute local path.
 */
export function repoLocationOf(url: string, baseDir = process.cwd()): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      const parsed = new URL(url);
      parsed.username = '';
      parsed.password = '';
      parsed.search = '';
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
  const badEscape = /%(?![0-9A-Fa-f]{2})/.exec(url);
  if (badEscape) {
    return 'contains "%" that does not start a percent-escape (two hex digits, e.g. %23): write a literal "%" as %25, or put credentials under auth: instead';
  }
  try {
    const parsed = new URL(url);
    if (parsed.hash !== '' || url.includes('#')) return 'contains "#" (a fragment): a password with "#" must be written as %23';
    return undefined;
  } catch {
    return 'does not parse as a URL; write reserved characters in the user name or password percent-encoded (# as %23, @ as %40, / as %2F, : as %3A), or use auth: instead';
  }
}

/** The URL with user and password (between "://" and the last "@") and the query string replaced by "***": safe to show. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)(.*)@/i, (_match, scheme: string) => `${scheme}***@`).replace(/\?[^#]*/, '?***');
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
 * An http(s) URL as the engines use it: `url` without user, password and query string (what the clone
 * records and what errors may show), the auth to use (`auth` when configured, else what the URL
 * carried), and `query`, the URL's query string (e.g. `?private_token=...`), sent with every request
 * and never shown or stored. Credentials never stay in a stored URL (a clone's config).
 */
export function credentialsOf(url: string, auth: ProviderAuth | undefined): { url: string; auth: ProviderAuth | undefined; query: string } {
  const split = splitCredentials(url);
  const fromUrl =
    split.username !== undefined || split.password !== undefined ? { ...(split.username ? { username: split.username } : {}), ...(split.password ? { password: split.password } : {}) } : undefined;
  const { base, query } = splitQuery(split.url);
  return { url: base, auth: auth ?? fromUrl, query };
}

/** `https://h/r.git?a=b` -> base `https://h/r.git`, query `?a=b` ("" when there is none). */
function splitQuery(url: string): { base: string; query: string } {
  if (!/^https?:\/\//i.test(url)) return { base: url, query: '' };
  const parsed = new URL(url);
  const query = parsed.search;
  parsed.search = '';
  return { base: parsed.toString(), query: query === '?' ? '' : query };
}

/** `url` with the parameters of `query` (`?a=b`) added: a request URL of a provider whose URL carries a query string. */
export function withQuery(url: string, query: string): string {
  if (query === '') return url;
  const parsed = new URL(url);
  for (const [name, value] of new URLSearchParams(query)) parsed.searchParams.append(name, value);
  return parsed.toString();
}
