import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlPlaneAccess, GitHttpServer, createTestNamespace } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
// @ts-expect-error: a plain ES module script without types
import { publishAll, startLocalRegistry } from '../../scripts/local-registry.mjs';

/**
 * The packages as users get them: the release path (`lerna publish from-package`) publishes every
 * package into a local Verdaccio 6.8, then each kind of user works in an empty folder outside the
 * clone with nothing but npm and that registry (our names are served only from it; every other
 * package comes through it from the registry npm is configured with).
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const access = new ControlPlaneAccess(inject('testCluster'));
const rootManifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

interface LocalRegistry {
  readonly url: string;
  readonly userconfig: string;
  output(): string;
  stop(): Promise<void>;
}

let registry: LocalRegistry;
let work: string;
let npmEnv: NodeJS.ProcessEnv;
const git = new GitHttpServer();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'gr-registry-users-'));
  registry = (await startLocalRegistry()) as LocalRegistry;
  publishAll(registry);
  // A user's npm: no settings of this clone or of the npm run that started the tests, only the registry.
  const userconfig = join(work, 'npmrc');
  writeFileSync(userconfig, `registry=${registry.url}\nfund=false\naudit=false\nupdate-notifier=false\n`);
  npmEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== 'INIT_CWD'));
  npmEnv['npm_config_userconfig'] = userconfig;
  await git.start();
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  await git.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A folder of one user, outside the clone. */
function userFolder(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  expect(dir.startsWith(repoRoot)).toBe(false);
  return dir;
}

interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A command as the user would type it, to exit 0. Asynchronous on purpose: the git server answers
 * from this process, so the event loop must keep running while the command talks to it.
 */
async function run(command: string, args: readonly string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const child = spawn(command, args, { cwd, env: { ...npmEnv, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  clearTimeout(timer);
  expect(code, `${command} ${args.join(' ')} in ${cwd}\n${stdout}\n${stderr}`).toBe(0);
  return { stdout, stderr };
}

/** The commented shell lines of a README's first code block, e.g. `#   npm install gitops-reverser`. */
function commandsOf(readme: string, prefix: string): string[] {
  const block = readme.match(/```\w+\n([\s\S]*?)```/)?.[1] ?? '';
  return [...block.matchAll(/^(?:#|\/\/).*?(npm install [^\n#]*?)\s*(?:#.*)?$/gm)].map((m) => m[1] as string).filter((line) => line.startsWith(prefix));
}

function gitLog(repo: string): string[] {
  const result = spawnSync('git', ['--git-dir', repo, 'log', '--format=%s', 'main'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim().split('\n') : [];
}

async function configMap(namespace: string, name: string): Promise<void> {
  const { status, body } = await access.request('POST', `/api/v1/namespaces/${namespace}/configmaps`, {
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { color: 'blue' } },
  });
  expect(status, body).toBe(201);
}

describe('installed from a registry', () => {
  it('the release path published every package that is not private, at its version; our names are never looked up elsewhere', async () => {
    const published = readdirSync(join(repoRoot, 'packages'))
      .map((dir) => JSON.parse(readFileSync(join(repoRoot, 'packages', dir, 'package.json'), 'utf8')) as { name: string; version: string; private?: boolean })
      .filter((manifest) => !manifest.private);
    expect(published.map((m) => m.name)).toEqual(expect.arrayContaining(['gitops-reverser', '@gitops-reverser/create-adapter', '@gitops-reverser/kernel', '@gitops-reverser/contract']));
    for (const { name, version } of published) {
      const response = await fetch(`${registry.url}${name.replace('/', '%2f')}`);
      expect(response.status, name).toBe(200);
      const document = (await response.json()) as { versions: Record<string, { dist: { tarball: string } }> };
      expect(Object.keys(document.versions), name).toEqual([version]);
    }
    // A name of ours that was not published is not found, rather than fetched from another registry.
    expect((await fetch(`${registry.url}@gitops-reverser%2fnot-published`)).status).toBe(404);
  });

  it('operator: one install, then validate, snapshot and run against the cluster, pushed to a git server', async () => {
    const operator = userFolder('operator');
    // The install line the gitops-reverser package's README gives.
    const install = commandsOf(readFileSync(join(repoRoot, 'packages/gitops-reverser/README.md'), 'utf8'), 'npm install');
    expect(install).toEqual(['npm install gitops-reverser']);
    await run('npm', (install[0] as string).split(' ').slice(1), operator);
    // Nothing of the optional SSH engine is downloaded, nothing of this clone is used.
    expect(existsSync(join(operator, 'node_modules/nodegit'))).toBe(false);
    expect(readFileSync(join(operator, 'package-lock.json'), 'utf8')).not.toContain(repoRoot);

    const namespace = await createTestNamespace(access, 'registry');
    await configMap(namespace, 'first');
    const url = git.createRepo('operator');
    writeFileSync(
      join(operator, 'cfg.yaml'),
      `apiVersion: gitops-reverser/v1alpha2
server: { port: 0 }
sources: [ { use: "@gitops-reverser/source-informer", cluster: test, with: { kubeconfig: ${JSON.stringify(access.kubeconfig)} } } ]
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: origin, url: ${JSON.stringify(url)} } ] } }
targets: [ { name: live, with: { provider: origin, branch: main, path: clusters/test } } ]
rules: [ { target: live, namespaces: [${namespace}], resources: [configmaps] } ]
`,
    );
    const validate = await run('npx', ['gitops-reverser', 'validate', '--config', 'cfg.yaml'], operator);
    expect(validate.stdout).toContain('cfg.yaml: valid');
    const plugins = await run('npx', ['gitops-reverser', 'plugins', '--config', 'cfg.yaml'], operator);
    expect(plugins.stdout).toContain(join(operator, 'node_modules/@gitops-reverser/source-informer/dist/index.js'));

    const snapshot = await run('npx', ['gitops-reverser', 'snapshot', '--config', 'cfg.yaml', '--timeout', '120'], operator);
    expect(snapshot.stdout).toContain('snapshot complete');
    const repo = git.repoPath('operator');
    const files = spawnSync('git', ['--git-dir', repo, 'ls-tree', '-r', '--name-only', 'main'], { encoding: 'utf8' }).stdout;
    expect(files).toContain(`clusters/test/${namespace}/configmaps/first.yaml`);

    // The binary npx runs, started directly so that SIGTERM reaches it (npm exec does not pass it on).
    const child = spawn(join(operator, 'node_modules/.bin/gitops-reverser'), ['run', '--config', 'cfg.yaml'], { cwd: operator, env: npmEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor(
        () => output.includes('"msg":"gitops-reverser started"'),
        60_000,
        () => output,
      );
      await configMap(namespace, 'second');
      await waitFor(
        () => gitLog(repo).includes(`[CREATE] v1/configmaps/${namespace}/second`),
        60_000,
        () => `${gitLog(repo).join('\n')}\n${output}`,
      );
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exit, output).toBe(0);
    expect(spawnSync('git', ['--git-dir', repo, 'fsck', '--strict'], { encoding: 'utf8' }).status).toBe(0);
  }, 600_000);

  it('integrator: the kernel README\'s "Composing in code" program type-checks with tsc and commits', async () => {
    const integrator = userFolder('integrator');
    const readme = readFileSync(join(repoRoot, 'packages/kernel/README.md'), 'utf8');
    const program = readme.match(/## Composing in code\n\n```ts\n([\s\S]*?)```/)?.[1];
    expect(program).toBeDefined();
    writeFileSync(join(integrator, 'compose.ts'), program as string);
    writeFileSync(join(integrator, 'package.json'), '{ "name": "compose", "private": true, "type": "module" }\n');
    const install = commandsOf(`\`\`\`ts\n${program}\`\`\``, 'npm install');
    expect(install.length).toBe(1);
    const tools = ['typescript', '@types/node'].map((tool) => `${tool}@${rootManifest.devDependencies[tool]}`);
    await run('npm', [...(install[0] as string).split(' ').slice(1), ...tools], integrator);
    writeFileSync(
      join(integrator, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: ['node'] }, files: ['compose.ts'] }),
    );
    await run('npx', ['tsc', '-p', '.'], integrator);
    await run(process.execPath, ['compose.js'], integrator);
    const log = spawnSync('git', ['-C', join(integrator, 'state-repo'), 'log', '--format=%s', 'main'], { encoding: 'utf8' });
    expect(log.stdout.trim()).toBe('[CREATE] v1/configmaps/default/from-code');
  }, 600_000);

  it('author: npm init @gitops-reverser/adapter writes a sink that installs, builds, passes its conformance suite and loads with use: my-sink', async () => {
    const author = userFolder('author');
    // --yes: npx's "Ok to proceed?" without a terminal.
    const init = await run('npm', ['init', '--yes', '@gitops-reverser/adapter', 'my-sink'], author);
    expect(init.stdout).toContain('wrote a sink adapter, my-sink, to my-sink');
    const pkg = join(author, 'my-sink');
    await run('npm', ['install'], pkg);
    await run('npm', ['run', 'build'], pkg);
    const tests = await run('npm', ['test', '--', '--reporter=verbose'], pkg, { NO_COLOR: '1' });
    expect(tests.stdout).toContain('Sink conformance: my-sink');
    expect(tests.stdout).not.toMatch(/\bskipped\b|\bfailed\b/);
    await run('npm', ['pack'], pkg);

    // Next to a config, with the operator's install: loaded by its package name.
    const operator = userFolder('author-config');
    await run('npm', ['install', 'gitops-reverser', join(pkg, 'my-sink-0.1.0.tgz')], operator);
    const namespace = await createTestNamespace(access, 'author');
    await configMap(namespace, 'written-by-my-sink');
    writeFileSync(
      join(operator, 'my-sink.yaml'),
      `apiVersion: gitops-reverser/v1alpha2
sources: [ { use: "@gitops-reverser/source-informer", cluster: test, with: { kubeconfig: ${JSON.stringify(access.kubeconfig)} } } ]
sink: { use: my-sink, with: { directory: ./out } }
targets: [ { name: live, with: { path: clusters/test } } ]
rules: [ { target: live, namespaces: [${namespace}], resources: [configmaps] } ]
`,
    );
    const validate = await run('npx', ['gitops-reverser', 'validate', '--config', 'my-sink.yaml'], operator);
    expect(validate.stdout).toContain('sink my-sink;');
    const plugins = await run('npx', ['gitops-reverser', 'plugins', '--config', 'my-sink.yaml'], operator);
    expect(plugins.stdout).toMatch(/^sink +sink +my-sink +my-sink +0\.1\.0 +kernel \^0\.3\.0/m);
    await run('npx', ['gitops-reverser', 'snapshot', '--config', 'my-sink.yaml', '--timeout', '120'], operator);
    expect(readFileSync(join(operator, `out/clusters/test/_core/configmaps/${namespace}/written-by-my-sink.yaml`), 'utf8')).toContain('color: blue');
  }, 600_000);
});

async function waitFor(check: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms:\n${describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
