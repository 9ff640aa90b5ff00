import type { HttpClient } from 'isomorphic-git';

type IsomorphicGit = typeof import('isomorphic-git').default;

let loading: Promise<IsomorphicGit> | undefined;
let loadingHttp: Promise<HttpClient> | undefined;

/**
 * isomorphic-git, imported on first use: loading it added 7.5 MB to a small install's peak resident
 * memory (docs/adr/0041), and a repository this sink writes rarely needs it (git-directory.ts reads
 * loose refs, loose objects and whole packed blobs itself and asks isomorphic-git for the rest).
 */
export function isomorphicGit(): Promise<IsomorphicGit> {
  loading ??= import('isomorphic-git').then((module) => module.default);
  return loading;
}

/** isomorphic-git's Node HTTP client, imported on first use (only a remote over http(s) needs it). */
export function isomorphicGitHttp(): Promise<HttpClient> {
  loadingHttp ??= import('isomorphic-git/http/node').then((module) => module.default);
  return loadingHttp;
}
