import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuiltImage, ControlPlaneAccess, createTestNamespace, GitHttpServer, gitopsReverserImage, missingImagePrerequisites, podman } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * The container image built from deploy/docker/Dockerfile on the base made offline (test/image),
 * run the way the chart runs it: uid 10001, read-only root filesystem, no capabilities, writable
 * only $HOME (a volume) and /tmp. Needs root, podman, runc and mmdebstrap; without them the suite
 * is reported as skipped, and GR_REQUIRE_CONTAINERS=1 (set by .ci/run) makes that a failure.
 */
const missing = missingImagePrerequisites();
if (missing.length > 0 && process.env['GR_REQUIRE_CONTAINERS'] === '1') throw new Error(`GR_REQUIRE_CONTAINERS=1 but this machine lacks ${missing.join(', ')}`);

const cluster = inject('testCluster');
const access = new ControlPlaneAccess(cluster);
const credentials = { username: 'image-bot', password: 'image-test-password-5521' };

describe.skipIf(missing.length > 0)(`the gitops-reverser image (podman, runc)${missing.length > 0 ? `: skipped, missing ${missing.join(', ')}` : ''}`, () => {
  let image: BuiltImage;
  let dir: string;
  let git: GitHttpServer;
  let namespace: string;

  /** podman run with the chart's restrictions; `volumes` as host:container pairs. */
  async function run(args: readonly string[], options: { volumes?: readonly string[]; network?: string; entrypoint?: string; env?: Record<string, string> } = {}) {
    return await podman([
      'run',
      '--rm',
      `--network=${options.network ?? 'none'}`,
      '--read-only',
      '--read-only-tmpfs=false',
      '--tmpfs=/tmp',
      '--cap-drop=ALL',
      '--security-opt=no-new-privileges',
      ...(options.volumes ?? []).flatMap((volume) => ['--volume', volume]),
      ...Object.entries(options.env ?? {}).flatMap(([name, value]) => ['--env', `${name}=${value}`]),
      ...(options.entrypoint ? ['--entrypoint', options.entrypoint] : []),
      image.name,
      ...args,
    ]);
  }

  beforeAll(async () => {
    image = gitopsReverserImage();
    dir = mkdtempSync(join(tmpdir(), 'gr-image-'));
    git = new GitHttpServer({ credentials });
    await git.start();
    git.createRepo('state');
    namespace = await createTestNamespace(access, 'image');
    for (const name of ['alpha', 'beta']) {
      const created = await access.request('POST', `/api/v1/namespaces/${namespace}/configmaps`, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { from: 'image-test' } } });
      expect(created.status).toBe(201);
    }
    // A timeout of its own: the first run on a machine builds what the build scripts have not (minutes).
  }, 30 * 60_000);

  afterAll(async () => {
    await git?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is configured to run as uid/gid 10001 with the CLI as entrypoint, and --help works there', async () => {
    const inspected = await podman(['image', 'inspect', '--format', '{{json .Config}}', image.name]);
    expect(inspected.code).toBe(0);
    const config = JSON.parse(inspected.stdout) as { User: string; Entrypoint: string[]; Cmd: string[] };
    expect(config.User).toBe('10001:10001');
    expect(config.Entrypoint).toEqual(['node', '/app/packages/kernel/bin/gitops-reverser.js']);
    expect(config.Cmd).toEqual(['run', '--config', '/etc/gitops-reverser/config.yaml']);

    const help = await run(['--help']);
    expect(help.stderr).toBe('');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('gitops-reverser snapshot --config <file>');
    const who = await run(['-e', 'console.log(process.getuid(), process.getgid(), process.version)'], { entrypoint: 'node' });
    expect(who.stdout.trim()).toMatch(/^10001 10001 v20\.\d+\.\d+$/);
  });

  it('holds production dependencies only and no sources, tests or test infrastructure', async () => {
    const listed = await run(['-c', 'ls /app/node_modules /app/node_modules/@gitops-reverser; ls -d /app/packages/*/src /app/packages/testkit 2>&1 || true'], { entrypoint: 'sh' });
    expect(listed.code).toBe(0);
    for (const dev of ['typescript', 'vitest', 'lerna', '@biomejs']) expect(listed.stdout.split('\n')).not.toContain(dev);
    expect(listed.stdout.split('\n')).toContain('sink-git');
    expect(listed.stdout.split('\n')).not.toContain('testkit');
    expect(listed.stdout).toContain("ls: cannot access '/app/packages/*/src'");
  });

  it('has a read-only root filesystem under these options: nothing outside $HOME and /tmp is writable', async () => {
    const probe = await run(['-c', 'for d in /app /etc /usr/local /var/lib/gitops-reverser /tmp; do if touch "$d/.probe" 2>/dev/null; then echo "$d writable"; else echo "$d read-only"; fi; done'], {
      entrypoint: 'sh',
    });
    expect(probe.stdout.trim().split('\n')).toEqual(['/app read-only', '/etc read-only', '/usr/local read-only', '/var/lib/gitops-reverser read-only', '/tmp writable']);
  });

  it('validate and snapshot: reads the test API server with a mounted kubeconfig, pushes over HTTP, exits 0', async () => {
    const etc = join(dir, 'etc');
    const home = join(dir, 'home');
    mkdirSync(etc);
    mkdirSync(home);
    chownSync(home, 10001, 10001);
    // The CA inline: the container sees only what is mounted.
    writeFileSync(
      join(etc, 'kubeconfig'),
      access.kubeconfigText('admin').replace(/certificate-authority: "[^"]+"/, `certificate-authority-data: "${readFileSync(cluster.caCert).toString('base64')}"`),
    );
    writeFileSync(
      join(etc, 'config.yaml'),
      `apiVersion: gitops-reverser/v1alpha2
server: { enabled: false }
sources: [ { use: "@gitops-reverser/source-informer", cluster: image, with: { kubeconfig: /etc/gitops-reverser/kubeconfig } } ]
sink:
  use: "@gitops-reverser/sink-git"
  with:
    cacheDir: /var/lib/gitops-reverser/cache
    providers: [ { name: origin, url: "${git.url('state')}", auth: { username: "\${GIT_USERNAME}", password: "\${GIT_PASSWORD}" } } ]
targets: [ { name: live, with: { provider: origin, branch: main, path: clusters/image } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [${namespace}], resources: [configmaps] } ]
`,
    );
    const volumes = [`${etc}:/etc/gitops-reverser:ro`, `${home}:/var/lib/gitops-reverser`];
    const env = { GIT_USERNAME: credentials.username, GIT_PASSWORD: credentials.password };

    const validated = await run(['validate', '--config', '/etc/gitops-reverser/config.yaml'], { volumes, env, network: 'host' });
    expect(validated.stdout).toContain('valid');
    expect(validated.code).toBe(0);

    const snapshot = await run(['snapshot', '--config', '/etc/gitops-reverser/config.yaml'], { volumes, env, network: 'host' });
    expect(snapshot.stderr).not.toMatch(/GR_ERR_/);
    expect(snapshot.code).toBe(0);

    const repo = git.repoPath('state');
    const files = spawnSync('git', ['--git-dir', repo, 'ls-tree', '-r', '--name-only', 'main'], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(files).toEqual(expect.arrayContaining([`clusters/image/${namespace}/configmaps/alpha.yaml`, `clusters/image/${namespace}/configmaps/beta.yaml`]));
    expect(spawnSync('git', ['--git-dir', repo, 'show', `main:clusters/image/${namespace}/configmaps/alpha.yaml`], { encoding: 'utf8' }).stdout).toContain('from: image-test');
    expect(spawnSync('git', ['--git-dir', repo, 'fsck', '--strict'], { encoding: 'utf8' }).status).toBe(0);
    expect(git.log.some((entry) => entry.method === 'POST' && entry.path.endsWith('/git-receive-pack') && entry.status === 200)).toBe(true);
  });
});
