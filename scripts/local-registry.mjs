#!/usr/bin/env node
// A local npm registry (Verdaccio 6.8) holding this repository's packages, published by the release
// path (`lerna publish from-package`). Until the packages are on the public registry, this is where
// the README's install lines work:
//
//   npm ci && npm run registry:local      builds, starts the registry, publishes, prints how to install; Ctrl-C stops
//
// test/release/registry.cluster.test.ts uses the same functions. Our package names are served only
// from the local storage, never looked up elsewhere; every other package is fetched from the registry
// npm is configured with (`npm config get registry`) and kept in the storage folder.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** The registry npm itself uses here: where the local registry fetches everything that is not ours. */
export function upstreamRegistry() {
  const result = spawnSync('npm', ['config', 'get', 'registry'], { cwd: root, encoding: 'utf8' });
  const url = result.stdout.trim();
  if (result.status !== 0 || !/^https?:\/\//.test(url)) throw new Error(`npm config get registry answered "${url}" (${result.stderr.trim()})`);
  return url;
}

async function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

function verdaccioConfig(storage, upstream) {
  // Our names: local only (publish needs a login), so nothing of ours is ever fetched from upstream.
  const ours = { access: '$all', publish: '$authenticated', unpublish: '$authenticated' };
  return `storage: ${JSON.stringify(join(storage, 'packages'))}
auth:
  htpasswd:
    file: ${JSON.stringify(join(storage, 'htpasswd'))}
    max_users: 10
uplinks:
  upstream:
    url: ${JSON.stringify(upstream)}
    timeout: 60s
    maxage: 30m
packages:
  'gitops-reverser': ${JSON.stringify(ours)}
  '@gitops-reverser/*': ${JSON.stringify(ours)}
  '**':
    access: $all
    publish: $authenticated
    proxy: upstream
server:
  keepAliveTimeout: 60
publish:
  allow_offline: true
log: { type: stdout, format: pretty, level: warn }
`;
}

/**
 * Starts Verdaccio on a free loopback port with its storage in `storage` (a temporary folder by
 * default), creates a user and writes an npmrc with its token. `stop()` ends the process.
 */
export async function startLocalRegistry(options = {}) {
  const storage = options.storage ?? mkdtempSync(join(tmpdir(), 'gr-registry-'));
  mkdirSync(storage, { recursive: true });
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}/`;
  const configFile = join(storage, 'config.yaml');
  writeFileSync(configFile, verdaccioConfig(storage, options.upstream ?? upstreamRegistry()));
  const bin = join(dirname(require.resolve('verdaccio/package.json')), 'bin/verdaccio');
  const child = spawn(process.execPath, [bin, '--config', configFile, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((r) => child.once('exit', r));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    if (!options.storage) rmSync(storage, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode}: ${output}`);
      try {
        if ((await fetch(`${url}-/ping`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`verdaccio did not answer on ${url} within 60 s: ${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const user = { name: 'release', password: 'local-registry-only' };
    const added = await fetch(`${url}-/user/org.couchdb.user:${user.name}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...user, type: 'user', roles: [], date: new Date().toISOString() }),
    });
    const { token } = await added.json();
    if (!added.ok || typeof token !== 'string') throw new Error(`verdaccio refused to create a user: HTTP ${added.status}`);
    const userconfig = join(storage, 'npmrc');
    writeFileSync(userconfig, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\nfund=false\naudit=false\nupdate-notifier=false\n`);
    return { url, port, storage, userconfig, pid: child.pid, output: () => output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * A copy of what the release publishes, as built now: the root manifest, lerna.json, LICENSE and each
 * published package's manifest and `files`, committed to a git repository of its own. `lerna publish
 * from-package` needs a clean git tree and writes `gitHead` into the manifests while it packs; on the
 * copy it can, whatever state the clone is in and whatever else reads the clone meanwhile.
 */
export function stageRelease(into = mkdtempSync(join(tmpdir(), 'gr-release-'))) {
  for (const file of ['package.json', 'lerna.json', 'LICENSE']) cpSync(join(root, file), join(into, file));
  for (const dir of readdirSync(join(root, 'packages'))) {
    const source = join(root, 'packages', dir);
    if (!existsSync(join(source, 'package.json'))) continue;
    const manifest = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'));
    if (manifest.private) continue;
    for (const entry of ['package.json', 'README.md', ...(manifest.files ?? [])]) {
      if (!existsSync(join(source, entry))) throw new Error(`${manifest.name}: "${entry}" is missing (run npm run build first)`);
      cpSync(join(source, entry), join(into, 'packages', dir, entry), { recursive: true });
    }
  }
  const git = (...args) => {
    const result = spawnSync('git', ['-c', 'user.name=release', '-c', 'user.email=release@localhost', ...args], { cwd: into, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`git ${args.join(' ')} in ${into}: ${result.stderr}`);
  };
  git('init', '--quiet', '--initial-branch=main');
  git('add', '--all');
  git('commit', '--quiet', '--message', 'release copy');
  return into;
}

/**
 * The release path's publish step (`npm run release:publish` is `lerna publish from-package`) against
 * `registry`, run on a staged copy (`stageRelease`): every package whose version is not there yet.
 */
export function publishAll(registry) {
  const staged = stageRelease();
  try {
    const result = spawnSync(join(root, 'node_modules/.bin/lerna'), ['publish', 'from-package', '--yes', '--registry', registry.url, '--loglevel', 'warn'], {
      cwd: staged,
      encoding: 'utf8',
      env: { ...process.env, npm_config_userconfig: registry.userconfig, npm_config_registry: registry.url, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    });
    if (result.status !== 0) throw new Error(`lerna publish from-package failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
    return `${result.stdout}${result.stderr}`;
  } finally {
    rmSync(staged, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const registry = await startLocalRegistry({ port: Number(process.env['GITOPS_REVERSER_REGISTRY_PORT'] ?? 4873) });
  try {
    publishAll(registry);
  } catch (error) {
    await registry.stop();
    throw error;
  }
  process.stdout.write(
    `Local registry ${registry.url} (storage ${registry.storage}) holds every package of this repository.\n` +
      `In another terminal, in an empty folder anywhere:\n` +
      `  export npm_config_registry=${registry.url}\n` +
      `  npm install gitops-reverser && npx gitops-reverser --help      # an operator\n` +
      `  npm init @gitops-reverser/adapter my-sink                      # an adapter author\n` +
      `Ctrl-C stops it (and removes its storage).\n`,
  );
  const stop = () => void registry.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
