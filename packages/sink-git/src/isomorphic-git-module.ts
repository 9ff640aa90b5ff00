import type { HttpClient } from 'isomorphic-git';

type IsomorphicGit = typeof import('isomorphic-git').default;

let loading: Promise<IsomorphicGit> | undefined;
let loadingHttp: Promise<HttpClient> | undefined;

/**
 * isomorphic-git, imported on first use: loading it costs a running process ~8 MB of resident memory
 * (docs/adr/0041), and a local repository written by this sink never needs it (git-directory.ts
 * reads loose refs and objects itself and asks isomorphic-git only for packs and what it cannot read).
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
