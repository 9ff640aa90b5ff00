import type { SshAuthConfig } from './ssh-auth-config.js';

export interface ProviderAuth {
  readonly username?: string;
  readonly password?: string;
  readonly token?: string;
}

/** A git repository the sink may write (`sink.with.providers[]`). */
export interface ProviderConfig {
  readonly name: string;
  /** An absolute local path (resolved against the config file's folder), an http(s):// URL or an SSH URL. */
  readonly url: string;
  /** Branch names or glob patterns (`release/*`). */
  readonly allowedBranches: readonly string[];
  readonly auth?: ProviderAuth;
  /** For SSH URLs: the private key and the known_hosts the server is checked against. */
  readonly ssh?: SshAuthConfig;
}
