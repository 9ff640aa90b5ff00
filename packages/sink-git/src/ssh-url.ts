/** Where an SSH URL points: `ssh://user@host:port/path` or scp-like `user@host:path`. */
export interface SshEndpoint {
  readonly user: string;
  readonly host: string;
  readonly port: number;
  /** The repository path as git sends it to the server (absolute for ssh://, as written for scp-like). */
  readonly path: string;
}

export function isSshUrl(url: string): boolean {
  return /^ssh:\/\//i.test(url) || /^git\+ssh:\/\//i.test(url) || /^[^/:]+@[^:/]+:(?!\/\/)/.test(url);
}

export function parseSshUrl(url: string): SshEndpoint | undefined {
  if (/^(git\+)?ssh:\/\//i.test(url)) {
    try {
      const parsed = new URL(url.replace(/^git\+/i, ''));
      if (parsed.password !== '') return undefined;
      return {
        user: decodeURIComponent(parsed.username) || 'git',
        host: parsed.hostname.replace(/^\[|\]$/g, ''),
        port: parsed.port ? Number(parsed.port) : 22,
        path: decodeURIComponent(parsed.pathname),
      };
    } catch {
      return undefined;
    }
  }
  const scp = /^([^/:@]+)@([^:/]+):(.+)$/.exec(url);
  return scp ? { user: scp[1] as string, host: scp[2] as string, port: 22, path: scp[3] as string } : undefined;
}
