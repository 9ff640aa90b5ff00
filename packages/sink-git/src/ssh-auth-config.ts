/** `sink.with.providers[].ssh`: how to log in to an SSH git server and how to recognize it. */
export interface SshAuthConfig {
  /** Private key text (PEM or OpenSSH format), e.g. `${GIT_SSH_KEY}`. */
  readonly privateKey?: string;
  /** Path to the private key, read at every connection (a rotated Secret mount is picked up). */
  readonly privateKeyFile?: string;
  readonly passphrase?: string;
  readonly passphraseFile?: string;
  /** known_hosts lines, e.g. the output of `ssh-keyscan`. */
  readonly knownHosts?: string;
  /** Path to a known_hosts file, read at every connection. */
  readonly knownHostsFile?: string;
}

/** What is wrong with a provider's `ssh` block, or undefined. */
export function sshAuthProblem(ssh: SshAuthConfig | undefined): string | undefined {
  if (!ssh) return 'has no ssh: block; an SSH URL needs ssh.privateKeyFile (or privateKey) and ssh.knownHostsFile (or knownHosts)';
  if (!ssh.privateKey && !ssh.privateKeyFile) return 'has no ssh.privateKeyFile or ssh.privateKey';
  if (ssh.privateKey && ssh.privateKeyFile) return 'sets both ssh.privateKey and ssh.privateKeyFile; keep one';
  if (!ssh.knownHosts && !ssh.knownHostsFile)
    return 'has no ssh.knownHostsFile or ssh.knownHosts: the server must be recognized (get its line with `ssh-keyscan -p PORT HOST` and check the fingerprint out of band)';
  if (ssh.passphrase && ssh.passphraseFile) return 'sets both ssh.passphrase and ssh.passphraseFile; keep one';
  return undefined;
}
