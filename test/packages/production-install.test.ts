import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The layout of the container image (deploy/docker/Dockerfile), without a container engine: the
 * built workspace copied to a fresh folder, `npm ci --omit=dev --omit=optional` there, sources and tests removed, and
 * the binary run from it with a config in another folder (as /etc/gitops-reverser/config.yaml is).
 */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
let app: string;
let etc: string;

function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  const root = mkdtempSync(join(tmpdir(), 'gr-production-'));
  app = join(root, 'app');
  etc = join(root, 'etc');
  mkdirSync(app);
  mkdirSync(etc);
  for (const file of ['package.json', 'package-lock.json', '.npmrc']) cpSync(join(repoRoot, file), join(app, file));
  const skip = (path: string) => !/[/\\](node_modules|\.demo|out)([/\\]|$)/.test(path.slice(repoRoot.length)) && !path.endsWith('.tsbuildinfo');
  for (const dir of ['packages', 'examples']) cpSync(join(repoRoot, dir), join(app, dir), { recursive: true, filter: skip });
  const installed = run('npm', ['ci', '--omit=dev', '--omit=optional', '--no-audit', '--no-fund', '--prefer-offline'], app);
  if (installed.code !== 0) throw new Error(`npm ci --omit=dev failed:\n${installed.stderr}`);
  for (const dir of ['packages', 'examples']) {
    for (const name of ['src', 'test']) run('sh', ['-c', `rm -rf ${dir}/*/${name}`], app);
  }
}, 300_000);

afterAll(() => {
  if (app) rmSync(dirname(app), { recursive: true, force: true });
});

describe('production install (the container image layout)', () => {
  it('holds no dev dependencies', () => {
    for (const dev of ['typescript', 'vitest', 'vite', 'lerna']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(join(app, 'node_modules/@gitops-reverser/source-informer/dist/index.js'))).toBe(true);
  });

  it('runs the binary: validate, plugins and a snapshot into a local repository, with the config outside the install', () => {
    const bin = join(app, 'packages/kernel/bin/gitops-reverser.js');
    const config = join(etc, 'config.yaml');
    writeFileSync(
      config,
      `apiVersion: gitops-reverser/v1alpha2
server: { enabled: false }
sources: [ { use: ${join(app, 'examples/source-manifests')}, cluster: image, with: { directory: ${join(repoRoot, 'examples/source-manifests/sample')}, pollMs: 0 } } ]
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: local, url: ${join(etc, 'state-repo')} } ] } }
targets: [ { name: live, with: { provider: local, branch: main, path: clusters/image } } ]
rules:
  - { target: live, scope: Namespaced, resources: [configmaps] }
`,
    );
    expect(run(process.execPath, [bin, 'validate', '--config', config], etc)).toMatchObject({ code: 0, stdout: expect.stringContaining('valid') });
    const plugins = run(process.execPath, [bin, 'plugins', '--config', config], etc);
    expect(plugins.code).toBe(0);
    expect(plugins.stdout).toContain(join(app, 'node_modules/@gitops-reverser/sink-git'));
    const snapshot = run(process.execPath, [bin, 'snapshot', '--config', config], etc);
    expect(snapshot.stderr).toBe('');
    expect(snapshot.code).toBe(0);
    const files = run('git', ['-C', join(etc, 'state-repo'), 'ls-tree', '-r', '--name-only', 'main'], etc)
      .stdout.trim()
      .split('\n');
    expect(files.some((f) => f.startsWith('clusters/image/') && f.includes('/configmaps/'))).toBe(true);
    expect(run('git', ['-C', join(etc, 'state-repo'), 'fsck', '--strict'], etc).code).toBe(0);
  });

  it('the Dockerfile builds this layout: every stage on NODE_IMAGE (node:20-slim by default), production dependencies only, non-root', () => {
    const dockerfile = readFileSync(join(repoRoot, 'deploy/docker/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-slim$/m);
    const stages = dockerfile.match(/^FROM .+$/gm) ?? [];
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.every((line) => line.startsWith('FROM ${NODE_IMAGE}'))).toBe(true);
    expect(dockerfile).toContain('npm ci --omit=dev --omit=optional');
    expect(dockerfile).toMatch(/^USER 10001:10001$/m);
    expect(dockerfile).toContain('ENTRYPOINT ["node", "/app/packages/kernel/bin/gitops-reverser.js"]');
  });
});
