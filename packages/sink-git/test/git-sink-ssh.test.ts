import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GitSshServer, type SshKeyPair } from '@gitops-reverser/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_GIT_SINK_OPTIONS, GitSink } from '../src/git-sink.js';
import { fingerprintOf } from '../src/known-hosts.js';
import { nodegitAvailable } from '../src/nodegit-loader.js';
import { change, contextFor, git, items, log, tempDir } from './helpers.js';

// Push over SSH to a real OpenSSH server (the harness's sshd, keys pinned to git-shell), checked
// with the git CLI. Needs nodegit (the engine for SSH URLs) and openssh-server; .ci/run installs
// both and sets GR_REQUIRE_NODEGIT=1, which makes their absence a failure instead of a skip.
const runnable = nodegitAvailable() && GitSshServer.available();
if (!runnable && process.env['GR_REQUIRE_NODEGIT'] === '1') throw new Error('GR_REQUIRE_NODEGIT=1 but nodegit or /usr/sbin/sshd is missing');

let server: GitSshServer;
let deployKey: SshKeyPair;

beforeEach(async () => {
  if (!runnable) return;
  server = new GitSshServer();
  deployKey = server.createKey('deploy');
  server.authorize(deployKey);
  await server.start();
});
afterEach(async () => {
  await server?.dispose();
});

function setup(options: { keyFile?: string; knownHosts?: string; passphrase?: string } = {}) {
  const dir = tempDir();
  server.createRepo('state');
  const keyFile = options.keyFile ?? join(dir, 'id_deploy');
  if (!options.keyFile) writeFileSync(keyFile, deployKey.privateKey, { mode: 0o600 });
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, options.knownHosts ?? `${server.knownHostsLine()}\n`);
  const context = contextFor(
    `providers:
  - name: origin
    url: "${server.url('state')}"
    allowedBranches: [main]
    ssh: { privateKeyFile: "${keyFile}", knownHostsFile: "${knownHostsFile}"${options.passphrase ? `, passphrase: "${options.passphrase}"` : ''} }
targets: [ { name: live, provider: origin, branch: main, path: clusters/dev } ]
`,
    dir,
  );
  const sink = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, providers: context.providers, cacheDir: join(dir, 'cache'), remoteTimeoutSeconds: 10, pushAttempts: 5 });
  const partition = context.partition('live');
  const apply = (...messages: Parameters<typeof items>) => sink.apply({ partition, items: items(...messages) });
  return { dir, sink, context, apply, keyFile, knownHostsFile, remote: server.repoPath('state') };
}

describe.skipIf(!runnable)('git sink over SSH (real sshd, nodegit engine)', () => {
  it('create, update and delete land on the server; git fsck is clean', async () => {
    const { sink, context, apply, remote } = setup();
    await sink.start(context);
    expect(await apply(change('a'))).toEqual([{ status: 'applied' }]);
    expect(await apply(change('a', { data: { key: 'v2' }, actor: { username: 'alice@example.com' } }))).toEqual([{ status: 'applied' }]);
    expect(await apply(change('b'))).toEqual([{ status: 'applied' }]);
    expect(await apply(change('a', { operation: 'delete' }))).toEqual([{ status: 'applied' }]);
    expect(log(remote, 'main', '%s|%an')).toEqual([
      '[DELETE] v1/configmaps/default/a|gitops-reverser',
      '[CREATE] v1/configmaps/default/b|gitops-reverser',
      '[UPDATE] v1/configmaps/default/a|alice@example.com',
      '[CREATE] v1/configmaps/default/a|gitops-reverser',
    ]);
    expect(git(remote, 'ls-tree', '-r', '--name-only', 'main').trim()).toBe('clusters/dev/default/configmaps/b.yaml');
    git(remote, 'fsck', '--strict');
    expect(sink.health().state).toBe('ready');
    // Every login used the deploy key and ran only git through git-shell.
    expect(server.log()).toContain('Accepted publickey');
    await sink.stop();
  });

  it('a key the server does not accept: clear error, nothing lost, pushed once the key file is fixed', async () => {
    const stranger = server.createKey('stranger');
    const dir = tempDir();
    const keyFile = join(dir, 'id_mounted');
    writeFileSync(keyFile, stranger.privateKey, { mode: 0o600 });
    const { sink, context, apply, remote } = setup({ keyFile });
    await sink.start(context);
    const refused = await apply(change('x'));
    expect(refused[0]).toMatchObject({ status: 'retry', reason: expect.stringContaining('GR_ERR_GIT_AUTH') });
    expect(refused[0]).toMatchObject({ reason: expect.stringContaining(`the SSH server refused the key (${fingerprintOf(Buffer.from(stranger.publicKey.split(' ')[1] as string, 'base64'))})`) });
    expect(refused[0]).toMatchObject({ reason: expect.stringContaining('fix: check ssh.privateKeyFile') });
    expect(sink.health().state).toBe('degraded');
    expect(git(remote, 'for-each-ref').trim()).toBe('');
    // The mounted Secret is rotated to the authorized key: the next attempt logs in and pushes.
    writeFileSync(keyFile, deployKey.privateKey, { mode: 0o600 });
    expect(await apply(change('x'))).toEqual([{ status: 'applied' }]);
    expect(log(remote, 'main', '%s')).toEqual(['[CREATE] v1/configmaps/default/x']);
    expect(sink.health().state).toBe('ready');
    await sink.stop();
  });

  it('a key revoked while running: commits stay local and are pushed once a new key is in place', async () => {
    const { sink, context, apply, keyFile, remote } = setup();
    await sink.start(context);
    expect(await apply(change('before'))).toEqual([{ status: 'applied' }]);
    // The deploy key is replaced on the server; the pod still has the old one mounted.
    const rotated = server.createKey('rotated');
    server.revokeAll();
    server.authorize(rotated);
    writeFileSync(keyFile, server.createKey('stale').privateKey, { mode: 0o600 });
    const refused = await apply(change('during'));
    expect(refused[0]).toMatchObject({ status: 'retry', reason: expect.stringContaining('the SSH server refused the key') });
    expect(log(remote, 'main', '%s')).toEqual(['[CREATE] v1/configmaps/default/before']);
    // The new key arrives in the mount: the redelivered change is already committed, then pushed.
    writeFileSync(keyFile, rotated.privateKey, { mode: 0o600 });
    expect(await apply(change('during'), change('after'))).toEqual([{ status: 'unchanged' }, { status: 'applied' }]);
    expect(log(remote, 'main', '%s')).toEqual(['[CREATE] v1/configmaps/default/after', '[CREATE] v1/configmaps/default/during', '[CREATE] v1/configmaps/default/before']);
    git(remote, 'fsck', '--strict');
    await sink.stop();
  });

  it('an unknown host key is refused before anything is sent, naming the host and the fingerprint seen', async () => {
    const other = new GitSshServer(); // a different host key, as a man in the middle would present
    const { sink, context, apply, remote } = setup({ knownHosts: `[127.0.0.1]:${server.port} ${other.hostPublicKey}\n` });
    await other.dispose();
    await sink.start(context);
    const refused = await apply(change('x'));
    const seen = fingerprintOf(Buffer.from(server.hostPublicKey.split(' ')[1] as string, 'base64'));
    expect(refused[0]).toMatchObject({ status: 'retry', reason: expect.stringContaining(`host 127.0.0.1:${server.port} presented ssh-ed25519 ${seen}`) });
    expect(refused[0]).toMatchObject({ reason: expect.stringContaining('the host key changed or the connection is intercepted; nothing was sent') });
    // No login was even attempted, and the repository is untouched.
    expect(server.log()).not.toMatch(/Accepted publickey|Failed publickey|Connection closed by authenticating user/);
    expect(git(remote, 'for-each-ref').trim()).toBe('');
    await sink.stop();
  });

  it('a host missing from known_hosts is refused the same way (unknown, not changed)', async () => {
    const { sink, context, apply, remote } = setup({ knownHosts: '# nothing trusted yet\n' });
    await sink.start(context);
    const refused = await apply(change('x'));
    expect(refused[0]).toMatchObject({ reason: expect.stringContaining(`host 127.0.0.1:${server.port} is not in known_hosts`) });
    expect(refused[0]).toMatchObject({ reason: expect.stringContaining('ssh-keyscan') });
    expect(git(remote, 'for-each-ref').trim()).toBe('');
    await sink.stop();
  });

  it('a passphrase-protected OpenSSH-format ed25519 key logs in; a foreign push meanwhile is kept', async () => {
    const key = server.createKey('protected', { type: 'ed25519', passphrase: 'open sesame', format: 'openssh' });
    server.authorize(key);
    const { dir, sink, context, apply, remote } = setup({ keyFile: key.privateKeyPath, passphrase: 'open sesame' });
    await sink.start(context);
    expect(await apply(change('first'))).toEqual([{ status: 'applied' }]);
    // Another writer pushes with the git CLI over the same SSH server.
    const clone = join(dir, 'foreign');
    const sshCommand = `ssh -i ${deployKey.privateKeyPath} -o IdentitiesOnly=yes -o UserKnownHostsFile=${join(dir, 'known_hosts')} -o StrictHostKeyChecking=yes`;
    const env = { ...process.env, GIT_SSH_COMMAND: sshCommand };
    const { execFileSync } = await import('node:child_process');
    execFileSync('git', ['clone', '--quiet', server.url('state'), clone], { env });
    writeFileSync(join(clone, 'README.md'), 'hand-written\n');
    execFileSync('git', ['-C', clone, 'add', 'README.md'], { env });
    execFileSync('git', ['-C', clone, '-c', 'user.name=Foreign', '-c', 'user.email=f@example.com', 'commit', '--quiet', '-m', 'foreign: README'], { env });
    execFileSync('git', ['-C', clone, 'push', '--quiet', 'origin', 'HEAD:main'], { env });
    expect(await apply(change('second'))).toEqual([{ status: 'applied' }]);
    expect(log(remote, 'main', '%s')).toEqual(['[CREATE] v1/configmaps/default/second', 'foreign: README', '[CREATE] v1/configmaps/default/first']);
    expect(git(remote, 'show', 'main:README.md')).toBe('hand-written\n');
    git(remote, 'fsck', '--strict');
    await sink.stop();
  });

  it('a wrong passphrase is named as such', async () => {
    const key = server.createKey('protected', { type: 'ed25519', passphrase: 'right', format: 'openssh' });
    server.authorize(key);
    const { sink, context, apply } = setup({ keyFile: key.privateKeyPath, passphrase: 'wrong' });
    await sink.start(context);
    const refused = await apply(change('x'));
    expect(refused[0]).toMatchObject({ status: 'retry', reason: expect.stringMatching(/GR_ERR_GIT_AUTH.*cannot be used.*passphrase/s) });
    await sink.stop();
  });

  it('`gitops-reverser snapshot` pushes over SSH from a config file and exits by itself (no session left open)', () => {
    const dir = tempDir();
    const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
    server.createRepo('state');
    writeFileSync(join(dir, 'id_deploy'), deployKey.privateKey, { mode: 0o600 });
    writeFileSync(join(dir, 'known_hosts'), `${server.knownHostsLine()}\n`);
    writeFileSync(
      join(dir, 'config.yaml'),
      `apiVersion: gitops-reverser/v1alpha2
sources: [ { use: "${join(repoRoot, 'examples/source-manifests')}", cluster: demo, with: { directory: ${join(repoRoot, 'examples/source-manifests/sample')} } } ]
sink:
  use: "@gitops-reverser/sink-git"
  with:
    cacheDir: ./cache
    providers: [ { name: origin, url: "${server.url('state')}", ssh: { privateKeyFile: ./id_deploy, knownHostsFile: ./known_hosts } } ]
targets: [ { name: live, with: { provider: origin, branch: main, path: clusters/demo } } ]
rules: [ { target: live, scope: Namespaced, resources: ["*"] }, { target: live, scope: Cluster, resources: [namespaces] } ]
`,
    );
    const run = spawnSync(process.execPath, [join(repoRoot, 'packages/kernel/bin/gitops-reverser.js'), 'snapshot', '--config', join(dir, 'config.yaml')], {
      encoding: 'utf8',
      timeout: 60_000,
      cwd: dir,
    });
    expect({ status: run.status, signal: run.signal, stderr: run.stderr.slice(-500) }).toMatchObject({ status: 0, signal: null });
    expect(log(server.repoPath('state'), 'main', '%s')).toEqual(['reconciled 2 resources']);
    expect(git(server.repoPath('state'), 'ls-tree', '-r', '--name-only', 'main').trim().split('\n')).toEqual([
      'clusters/demo/_cluster/namespaces/shop.yaml',
      'clusters/demo/shop/configmaps/app-settings.yaml',
    ]);
  });
});
