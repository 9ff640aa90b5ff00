import { describe, expect, it } from 'vitest';
import { fingerprintOf, parseKnownHosts, verifyHostKey } from '../src/known-hosts.js';
import { sshAuthProblem } from '../src/ssh-auth-config.js';
import { isSshUrl, parseSshUrl } from '../src/ssh-url.js';

// Vectors made with OpenSSH 9.2: `ssh-keygen -t ed25519`, `ssh-keygen -H` (hashed entry for
// [10.0.0.5]:2222) and `ssh-keygen -lf` (the fingerprint).
const KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAIDP58QsI4JYFEOsPN4srCtxKioSR5AnOwAaTCCihxouc';
const BLOB = Buffer.from(KEY, 'base64');
const HASHED = `|1|mUFgjAvEO5fxOYDsGiAmErrTqlM=|CJ9YMgxNffx2Bc6S04O01A6iviw= ssh-ed25519 ${KEY}`;
const OTHER = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIJ5mPh1oHn3y5qG0dBvFZ8Cq2mBo3N6XqXUz0m2o3q1a', 'base64');

describe('known_hosts', () => {
  it('prints the fingerprint as ssh-keygen -l does', () => {
    expect(fingerprintOf(BLOB)).toBe('SHA256:3O8UHneotzryaGGEmyENi5oOK3IbzyRrnJvBEZVBl/I');
  });

  it('trusts a hashed entry for [host]:port and nothing else', () => {
    const entries = parseKnownHosts(`# comment\n\n${HASHED}\n`, 'known_hosts');
    expect(verifyHostKey(entries, '10.0.0.5', 2222, BLOB)).toEqual({ status: 'trusted' });
    expect(verifyHostKey(entries, '10.0.0.5', 22, BLOB)).toEqual({ status: 'unknown' });
    expect(verifyHostKey(entries, '10.0.0.6', 2222, BLOB)).toEqual({ status: 'unknown' });
    expect(verifyHostKey(entries, '10.0.0.5', 2222, OTHER)).toEqual({ status: 'changed', knownTypes: ['ssh-ed25519'] });
  });

  it('matches plain names, lists, wildcards and negations; port 22 is written without brackets', () => {
    const entries = parseKnownHosts(`git.example.com,10.1.1.1 ssh-ed25519 ${KEY}\n*.corp.example,!evil.corp.example ssh-ed25519 ${KEY}\n`, 'kh');
    expect(verifyHostKey(entries, 'git.example.com', 22, BLOB).status).toBe('trusted');
    expect(verifyHostKey(entries, '10.1.1.1', 22, BLOB).status).toBe('trusted');
    expect(verifyHostKey(entries, 'GIT.example.com', 22, BLOB).status).toBe('trusted');
    expect(verifyHostKey(entries, 'a.corp.example', 22, BLOB).status).toBe('trusted');
    expect(verifyHostKey(entries, 'evil.corp.example', 22, BLOB).status).toBe('unknown');
    expect(verifyHostKey(entries, 'git.example.com', 2222, BLOB).status).toBe('unknown');
  });

  it('a revoked key is refused even when another line trusts it', () => {
    const entries = parseKnownHosts(`git.example.com ssh-ed25519 ${KEY}\n@revoked * ssh-ed25519 ${KEY}\n`, 'kh');
    expect(verifyHostKey(entries, 'git.example.com', 22, BLOB)).toEqual({ status: 'revoked' });
  });

  it('names the file and line of a malformed entry', () => {
    expect(() => parseKnownHosts(`good ssh-ed25519 ${KEY}\nonly-a-host ssh-ed25519\n`, '/etc/ssh/kh')).toThrow('/etc/ssh/kh line 2 is not a known_hosts line');
  });
});

describe('SSH URLs and the ssh block', () => {
  it('reads ssh:// and scp-like addresses as git does', () => {
    expect(parseSshUrl('ssh://git@github.com/org/repo.git')).toEqual({ user: 'git', host: 'github.com', port: 22, path: '/org/repo.git' });
    expect(parseSshUrl('ssh://deploy@[::1]:2222/srv/git/state.git')).toEqual({ user: 'deploy', host: '::1', port: 2222, path: '/srv/git/state.git' });
    expect(parseSshUrl('git@gitlab.example.com:group/sub/repo.git')).toEqual({ user: 'git', host: 'gitlab.example.com', port: 22, path: 'group/sub/repo.git' });
    expect(parseSshUrl('ssh://git:secret@host/repo.git')).toBeUndefined();
    expect(isSshUrl('https://git.example.com/x.git')).toBe(false);
    expect(isSshUrl('/srv/git/local')).toBe(false);
    expect(isSshUrl('git@host:x.git')).toBe(true);
  });

  it('requires a key and known_hosts, and one source of each', () => {
    expect(sshAuthProblem(undefined)).toContain('has no ssh: block');
    expect(sshAuthProblem({ knownHostsFile: '/k' })).toContain('has no ssh.privateKeyFile or ssh.privateKey');
    expect(sshAuthProblem({ privateKeyFile: '/id' })).toContain('ssh-keyscan');
    expect(sshAuthProblem({ privateKeyFile: '/id', privateKey: 'x', knownHostsFile: '/k' })).toContain('keep one');
    expect(sshAuthProblem({ privateKeyFile: '/id', knownHostsFile: '/k' })).toBeUndefined();
  });
});
