// Benchmark: one-object change pushed to a remote, ours vs the git CLI, on the same git server.
//   For each repository size (default 10,000 and 100,000 files, BENCH_PUSH_FILES="10000,100000"):
//   1. our sink seeds the repository on a loopback smart-HTTP server (git http-backend) and pushes it;
//   2. ours: BENCH_PUSH_CHANGES (default 200) one-object changes, each timed from apply() to pushed
//      (commit + push: the change is visible in the remote when apply resolves);
//   3. the server's floor at that size (HTTP): a copy of the seeded repository on the same server gets
//      the same number of one-file changes, each the exact objects the change needs (commit, the trees
//      on its path, the blob) packed by `git pack-objects` from commits the git CLI made (fast-import)
//      in a clone, and sent as one raw receive-pack POST: what a minimal client must do (no info/refs
//      GET: the old id is known). Only the POST is timed; each one is checked to have moved the branch
//      (git rev-parse on the server). Ours and the floor alternate, change by change;
//   4. git CLI: a clone of the same repository makes the same number of one-file commits; only
//      `git push` is timed (its commit is not counted).
// Runs with each engine: isomorphic-git and (when installed) nodegit over HTTP, then nodegit over SSH
// to a real sshd next to the git CLI pushing over SSH (BENCH_SSH_FILES, default 10000).
// Prints p50/p99 and a BENCH_JSON line per run. Not a test: nothing is asserted.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KernelMetrics, renderYaml, silentLogger } from '@gitops-reverser/kernel';
import { DEFAULT_GIT_SINK_OPTIONS, GitSink, PathLayout, encodeObject, nodegitAvailable, serializeCommit, serializeTree } from '@gitops-reverser/sink-git/internal';
import { GitDirectory } from '../dist/git-directory.js';
import { packOf } from '../dist/object-files.js';
import { parsePktLines, ReceivePackClient } from '../dist/receive-pack.js';
import { GitHttpServer, GitSshServer } from '@gitops-reverser/testkit';

const SIZES = (process.env.BENCH_PUSH_FILES ?? '10000,100000').split(',').map(Number);
// BENCH_SSH_FILES="" skips the SSH runs; BENCH_PUSH_ENGINES="isomorphic-git" runs one engine (shorter runs while iterating).
const SSH_SIZES = (process.env.BENCH_SSH_FILES ?? '10000').split(',').filter(Boolean).map(Number);
const ENGINES = (nodegitAvailable() ? ['isomorphic-git', 'nodegit'] : ['isomorphic-git']).filter(
  (engine) => !process.env.BENCH_PUSH_ENGINES || process.env.BENCH_PUSH_ENGINES.split(',').includes(engine),
);
if (!nodegitAvailable()) console.log('nodegit is not installed: only the isomorphic-git engine runs (see the sink-git README to install it)');
const CHANGES = Number(process.env.BENCH_PUSH_CHANGES ?? 200);
const NAMESPACES = 100;
// Issue 28: a one-object change reaches the remote within 10 ms (p50) of the server's own floor.
const PUSH_TARGET_ABOVE_FLOOR_MS = 10;
// The git server runs in this process: git commands must not block the event loop.
const gitAsync = async (cwd, ...args) => (await promisify(execFile)('git', args, { cwd, maxBuffer: 1 << 28 })).stdout;
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const stats = (times) => {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: +at(0.5).toFixed(2), p99: +at(0.99).toFixed(2), mean: +(times.reduce((a, b) => a + b, 0) / times.length).toFixed(2) };
};

function configMap(i, generation) {
  const namespace = `team-${i % NAMESPACES}`;
  const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `config-${i}`, namespace }, data: { generation: String(generation), payload: 'x'.repeat(200) } };
  return { identity: { clusterId: 'bench', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace, name: `config-${i}` }, object };
}

function message(i, generation, snapshotId) {
  const { identity, object } = configMap(i, generation);
  return {
    kind: 'change',
    target: 'live',
    event: {
      identity,
      operation: 'upsert',
      created: false,
      object,
      resourceVersion: String(generation),
      observedAt: new Date().toISOString(),
      phase: snapshotId ? 'seed' : 'live',
      observedBy: 'watch',
      ...(snapshotId ? { snapshotId } : {}),
    },
    yaml: renderYaml(object),
  };
}

// Time each receive-pack POST the sink makes (measurement only), to split our time from the server's.
// The objects each POST sent are kept too, to compare the request with the floor's (objects, bytes).
const postTimes = [];
const postObjects = [];
const push = ReceivePackClient.prototype.push;
ReceivePackClient.prototype.push = async function timedPush(...args) {
  const start = process.hrtime.bigint();
  try {
    return await push.apply(this, args);
  } finally {
    postTimes.push(ms(start));
    postObjects.push(args[3]);
  }
};

// Time the clone's file writes too (object files, refs: where a shared VM's disk shows), per change.
let fileWriteMs = 0;
for (const method of ['writeObjects', 'writeBranch', 'writeRef']) {
  const original = GitDirectory.prototype[method];
  GitDirectory.prototype[method] = async function timedWrite(...args) {
    const start = process.hrtime.bigint();
    try {
      return await original.apply(this, args);
    } finally {
      fileWriteMs += ms(start);
    }
  };
}

/**
 * The smart-HTTP git server (testkit's GitHttpServer: git http-backend per request) in a process of
 * its own, as a real server is. Started inside this process (BENCH_PUSH_SERVER=inline, the earlier
 * runs), each request's spawn forks this process, heap of the seeded sink and all, on our event loop,
 * and that time was counted as the server's (in our POST, the floor's and twice per `git push`).
 */
async function gitHttpServer() {
  if (process.env.BENCH_PUSH_SERVER === 'inline') {
    const inline = new GitHttpServer();
    await inline.start();
    return { url: (name) => inline.url(name), repoPath: (name) => inline.repoPath(name), createRepo: async (name) => inline.createRepo(name), dispose: () => inline.dispose() };
  }
  const script = `
    import { GitHttpServer } from '@gitops-reverser/testkit';
    const server = new GitHttpServer();
    await server.start();
    process.on('message', async ({ id, call, name }) => {
      if (call === 'createRepo') server.createRepo(name);
      process.send({ id, url: server.url(name), repoPath: server.repoPath(name) }, () => call === 'dispose' && process.disconnect());
    });
    // The benchmark ended (or failed): nothing is left running.
    process.on('disconnect', () => server.dispose().finally(() => process.exit(0)));
    process.send({ ready: true });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: import.meta.dirname, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the git server process exited with ${code}`)));
  });
  const replies = new Map();
  let nextId = 0;
  child.on('message', (reply) => replies.get(reply.id)?.(reply));
  const call = (what, name = 'x') =>
    new Promise((resolve) => {
      const id = nextId++;
      replies.set(id, resolve);
      child.send({ id, call: what, name });
    });
  const where = await call('where');
  return {
    url: (name) => where.url.replace(/x\.git$/, `${name}.git`),
    repoPath: (name) => where.repoPath.replace(/x\.git$/, `${name}.git`),
    createRepo: (name) => call('createRepo', name),
    dispose: () => call('dispose'),
  };
}

const server = await gitHttpServer();
const SERVER_PROCESS = process.env.BENCH_PUSH_SERVER === 'inline' ? 'inline' : 'own process';
console.log(`git server: git http-backend behind testkit's GitHttpServer, ${SERVER_PROCESS === 'inline' ? 'inside this process (BENCH_PUSH_SERVER=inline)' : 'in a process of its own'}`);
const results = [];

// The server's floor: one receive-pack POST of a tiny commit (3 objects) into a one-file repository.
// Every push pays it (git http-backend, receive-pack, unpack-objects and the ref update run per request).
await server.createRepo('floor');
const floorClient = new ReceivePackClient({ url: server.url('floor'), timeoutMs: 10_000 });
const floorTimes = [];
let parent;
for (let n = 0; n < 50; n++) {
  const blob = encodeObject('blob', Buffer.from(`v${n}\n`));
  const tree = encodeObject('tree', serializeTree([{ mode: '100644', name: 'f', oid: blob.oid }]));
  const signature = { name: 'bench', email: 'bench@example.com', timestamp: 1 };
  const commit = encodeObject('commit', serializeCommit({ tree: tree.oid, parents: parent ? [parent] : [], author: signature, committer: signature, message: `floor ${n}\n` }));
  const start = process.hrtime.bigint();
  await floorClient.push('refs/heads/main', parent, commit.oid, [blob, tree, commit]);
  floorTimes.push(ms(start));
  parent = commit.oid;
}
floorClient.close();
const floor = stats(floorTimes.slice(1));
console.log(`server floor: one receive-pack POST of a 3-object commit into a 1-file repository  p50 ${floor.p50} ms  p99 ${floor.p99} ms`);
/** Runs git with `input` on its stdin; resolves with its stdout (bytes). */
function gitWithInput(cwd, args, input) {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`git ${args.join(' ')}: ${Buffer.concat(err).toString()}`))));
    child.stdin.end(input);
  });
}

function pktLine(text) {
  const payload = Buffer.from(`${text}\n`);
  return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, '0')), payload]);
}

/**
 * The server's floor at one repository size: `floorName` is a copy of the seeded repository on the same
 * server; for each of CHANGES one-file changes (the same files and contents as ours) the git CLI makes
 * the commit in a bare clone (fast-import: one process for all of them), and `git pack-objects --revs`
 * packs exactly what the change adds over its parent (not thin, like ours: whole objects). Each change
 * becomes the request a minimal smart-HTTP client sends: the ref update and the pack, one POST (no
 * info/refs GET: the old id is known). Returns a `push(n)` that POSTs change n (timed by the caller),
 * and `verify(n)`, which checks with the git CLI that the server accepted it and moved the branch.
 */
async function prepareFloor(files, repoPath, floorName, dir) {
  const floorPath = server.repoPath(floorName);
  await promisify(execFile)('cp', ['-a', repoPath, floorPath]);
  const work = join(dir, 'floor-work');
  await gitAsync(dir, 'clone', '--quiet', '--bare', floorPath, work);
  const base = (await gitAsync(work, 'rev-parse', 'refs/heads/main')).trim();
  const layout = new PathLayout();
  const script = [];
  for (let n = 0; n < CHANGES; n++) {
    const { identity, object } = configMap((n * 7919) % files, n + 1);
    const content = Buffer.from(renderYaml(object));
    const subject = Buffer.from(`floor ${n}\n`);
    script.push(
      Buffer.from(`commit refs/heads/main\nmark :${n + 1}\ncommitter bench <bench@example.com> ${1_700_000_000 + n} +0000\ndata ${subject.length}\n`),
      subject,
      Buffer.from(`from ${n === 0 ? base : `:${n}`}\nM 100644 inline ${layout.pathOf('clusters/bench', identity).path}\ndata ${content.length}\n`),
      content,
      Buffer.from('\n'),
    );
  }
  const marks = join(dir, 'floor-marks');
  await gitWithInput(work, ['fast-import', '--quiet', `--export-marks=${marks}`], Buffer.concat(script));
  const commits = new Map(
    readFileSync(marks, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .map(([mark, oid]) => [Number(mark.slice(1)) - 1, oid]),
  );
  const bodies = [];
  const shapes = [];
  for (let n = 0; n < CHANGES; n++) {
    const previous = n === 0 ? base : commits.get(n - 1);
    const pack = await gitWithInput(work, ['pack-objects', '--stdout', '--revs', '-q'], `${commits.get(n)}\n^${previous}\n`);
    bodies.push(Buffer.concat([pktLine(`${previous} ${commits.get(n)} refs/heads/main\0report-status agent=git/bench-floor`), Buffer.from('0000'), pack]));
    shapes.push({ objects: pack.readUInt32BE(8), bytes: pack.length });
  }
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const endpoint = `${server.url(floorName)}/git-receive-pack`;
  const post = (body) =>
    new Promise((resolve, reject) => {
      const req = request(
        endpoint,
        { method: 'POST', agent, headers: { 'content-type': 'application/x-git-receive-pack-request', accept: 'application/x-git-receive-pack-result', 'content-length': String(body.length) } },
        (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`floor POST: HTTP ${res.statusCode}`))));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return {
    shapes,
    push: async (n) => {
      const report = parsePktLines(await post(bodies[n]));
      if (!report.includes('unpack ok') || !report.includes('ok refs/heads/main')) throw new Error(`floor change ${n} refused: ${report.join(' | ')}`);
    },
    verify: async (n) => {
      const head = (await gitAsync(floorPath, 'rev-parse', 'refs/heads/main')).trim();
      if (head !== commits.get(n)) throw new Error(`floor change ${n}: the server's main is ${head}, not ${commits.get(n)}`);
    },
    close: async () => {
      agent.destroy();
      await gitAsync(floorPath, 'fsck', '--strict');
    },
  };
}

/**
 * One run: our sink seeds a repository at `url` and pushes CHANGES one-object changes; then the git CLI
 * pushes as many one-file commits to the same repository. `env` is the git CLI's environment (SSH).
 */
async function run({ engine, transport, files, url, repoPath, provider, env, floorName }) {
  const dir = mkdtempSync(join(tmpdir(), 'gr-bench-push-'));
  const sink = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, engine, cacheDir: join(dir, 'cache'), providers: [{ name: 'origin', url, allowedBranches: ['main'], ...provider }] });
  const target = { name: 'live', with: { provider: 'origin', branch: 'main', path: 'clusters/bench', prune: 'OnEvent' }, keyPath: 'targets[0]' };
  const partition = sink.planTargets([target]).partitions.get('live');
  if (!partition) throw new Error(`the sink refused the target: ${JSON.stringify(sink.planTargets([target]).problems)}`);
  await sink.start({ logger: silentLogger(), metrics: new KernelMetrics(), targets: () => [{ target, partition }] });

  let start = process.hrtime.bigint();
  const seed = Array.from({ length: files }, (_, i) => ({ message: message(i, 0, 'seed'), attempt: 1 }));
  seed.push({ message: { kind: 'snapshot-end', target: 'live', snapshotId: 'seed', objectCount: files, clusterId: 'bench', completedAt: new Date().toISOString() }, attempt: 1 });
  const seeded = await sink.apply({ partition, items: seed });
  if (!seeded.every((o) => o.status === 'applied')) throw new Error(`seed failed: ${JSON.stringify(seeded.find((o) => o.status !== 'applied'))}`);
  const seedMs = ms(start);

  const floorAtSize = floorName ? await prepareFloor(files, repoPath, floorName, dir) : undefined;
  const ours = [];
  const fileWrites = [];
  const floorTimes = [];
  postTimes.length = 0;
  postObjects.length = 0;
  const ourChange = async (n) => {
    const item = { message: message((n * 7919) % files, n + 1), attempt: 1 };
    fileWriteMs = 0;
    const start = process.hrtime.bigint();
    const [outcome] = await sink.apply({ partition, items: [item] });
    ours.push(ms(start));
    fileWrites.push(fileWriteMs);
    if (outcome.status !== 'applied') throw new Error(`change ${n}: ${JSON.stringify(outcome)}`);
  };
  const floorChange = async (n) => {
    const start = process.hrtime.bigint();
    await floorAtSize.push(n);
    floorTimes.push(ms(start));
  };
  for (let n = 0; n < CHANGES; n++) {
    // Alternating which goes first: neither gets the quieter moment every time.
    if (!floorAtSize) await ourChange(n);
    else if (n % 2 === 0) await ourChange(n).then(() => floorChange(n));
    else await floorChange(n).then(() => ourChange(n));
    await floorAtSize?.verify(n);
  }
  await floorAtSize?.close();
  const posts = [...postTimes];
  const outsidePost = ours.map((t, i) => t - (posts[i] ?? 0));
  const oursShape = postObjects.map((objects) => ({ objects: new Set(objects.map((o) => o.oid)).size, bytes: packOf(objects).pack.length }));
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const shapeOf = (shapes) => ({ objects: median(shapes.map((s) => s.objects)), packBytes: median(shapes.map((s) => s.bytes)) });

  // The git CLI on the same server: a working clone, the same kind of one-file change, push timed.
  const clone = join(dir, 'clone');
  const git = async (cwd, ...args) => (await promisify(execFile)('git', args, { cwd, maxBuffer: 1 << 28, env: { ...process.env, ...env } })).stdout;
  await git(dir, 'clone', '--quiet', url, clone);
  await git(clone, 'config', 'user.name', 'bench');
  await git(clone, 'config', 'user.email', 'bench@example.com');
  const layout = new PathLayout();
  const cli = [];
  for (let n = 0; n < CHANGES; n++) {
    const { identity, object } = configMap((n * 104729) % files, CHANGES + n + 1);
    const path = layout.pathOf('clusters/bench', identity).path;
    writeFileSync(join(clone, path), renderYaml(object));
    await git(clone, 'commit', '--quiet', '-m', `cli ${n}`, '--', path);
    start = process.hrtime.bigint();
    await git(clone, 'push', '--quiet', 'origin', 'HEAD:main');
    cli.push(ms(start));
  }
  await gitAsync(repoPath, 'fsck', '--strict');
  const summary = {
    benchmark: 'sink-git-push',
    engine,
    transport,
    files,
    changes: CHANGES,
    ...(transport === 'http' ? { gitServer: SERVER_PROCESS } : {}),
    seedMs: Math.round(seedMs),
    oursChangeToRemote: stats(ours),
    ...(posts.length > 0 ? { oursPostRoundTrip: stats(posts), oursOutsidePost: stats(outsidePost) } : {}),
    oursFileWrites: stats(fileWrites),
    gitCliPushOnly: stats(cli),
    ratioP50: +(stats(ours).p50 / stats(cli).p50).toFixed(2),
    ...(transport === 'http' ? { serverFloor: floor, oursAboveFloorP50Ms: +(stats(ours).p50 - floor.p50).toFixed(2), targetAboveFloorP50Ms: PUSH_TARGET_ABOVE_FLOOR_MS } : {}),
    ...(floorAtSize
      ? {
          serverFloorAtSize: stats(floorTimes),
          floorAtSizeRequest: shapeOf(floorAtSize.shapes),
          ...(oursShape.length > 0 ? { oursRequest: shapeOf(oursShape), oursPostAboveFloorAtSizeP50Ms: +(stats(posts).p50 - stats(floorTimes).p50).toFixed(2) } : {}),
          oursAboveFloorAtSizeP50Ms: +(stats(ours).p50 - stats(floorTimes).p50).toFixed(2),
        }
      : {}),
    histograms: [
      {
        name: `git-push-${files}-${engine}-${transport}`,
        title: `one-object change pushed, ${files} files, ${engine} over ${transport}`,
        unit: 'ms',
        series: {
          'ours (commit + push)': ours.map((v) => +v.toFixed(2)),
          ...(floorAtSize ? { 'server floor at this size (POST only)': floorTimes.map((v) => +v.toFixed(2)) } : {}),
          'git CLI (push only)': cli.map((v) => +v.toFixed(2)),
        },
      },
    ],
  };
  console.log(`sink-git push benchmark [${engine} over ${transport}]: ${files} files in the remote, ${CHANGES} one-object changes (loopback)`);
  console.log(`  seed pushed in ${summary.seedMs} ms`);
  console.log(`  ours  change -> remote (commit + push)  p50 ${summary.oursChangeToRemote.p50} ms  p99 ${summary.oursChangeToRemote.p99} ms`);
  if (summary.oursPostRoundTrip)
    console.log(
      `        of which the POST round trip     p50 ${summary.oursPostRoundTrip.p50} ms (${summary.oursRequest ? `${summary.oursRequest.objects} objects, ${summary.oursRequest.packBytes} bytes of pack` : ''}); everything else (plan, trees, pack) p50 ${summary.oursOutsidePost.p50} ms, of which writing the clone's object files and refs p50 ${summary.oursFileWrites.p50} ms`,
    );
  if (summary.serverFloorAtSize)
    console.log(
      `  floor at this size: git's pack of the same change, one raw POST (${summary.floorAtSizeRequest.objects} objects, ${summary.floorAtSizeRequest.packBytes} bytes of pack)  p50 ${summary.serverFloorAtSize.p50} ms  p99 ${summary.serverFloorAtSize.p99} ms${summary.oursPostAboveFloorAtSizeP50Ms !== undefined ? `   our POST above it: ${summary.oursPostAboveFloorAtSizeP50Ms} ms p50` : ''}`,
    );
  console.log(`  git CLI  git push only (${transport})        p50 ${summary.gitCliPushOnly.p50} ms  p99 ${summary.gitCliPushOnly.p99} ms   ratio p50 ${summary.ratioP50}`);
  if (summary.serverFloorAtSize)
    console.log(
      `  ours above the server floor at this size (${summary.serverFloorAtSize.p50} ms): ${summary.oursAboveFloorAtSizeP50Ms} ms p50 (target <= ${PUSH_TARGET_ABOVE_FLOOR_MS} ms above it)${summary.oursAboveFloorAtSizeP50Ms > PUSH_TARGET_ABOVE_FLOOR_MS ? '   target missed: see docs/adr/0041 (push vs floor)' : ''}`,
    );
  if (transport === 'http') console.log(`  ours above the one-file floor (${floor.p50} ms, kept for comparison with earlier runs): ${summary.oursAboveFloorP50Ms} ms p50`);
  console.log(`BENCH_JSON ${JSON.stringify(summary)}`);
  results.push(summary);
  await sink.stop();
  rmSync(dir, { recursive: true, force: true });
}

for (const files of SIZES) {
  for (const engine of ENGINES) {
    const name = `bench-${files}-${engine}`;
    await server.createRepo(name);
    await run({ engine, transport: 'http', files, url: server.url(name), repoPath: server.repoPath(name), provider: {}, env: {}, floorName: `${name}-floor` });
  }
}

if (ENGINES.includes('nodegit') && GitSshServer.available()) {
  const ssh = new GitSshServer();
  const key = ssh.createKey('bench', { type: 'ed25519' });
  ssh.authorize(key);
  await ssh.start();
  const knownHosts = join(ssh.root, 'known_hosts');
  writeFileSync(knownHosts, `${ssh.knownHostsLine()}\n`);
  // The git CLI uses OpenSSH with the same key and known_hosts; one connection per push, as git does.
  const env = { GIT_SSH_COMMAND: `ssh -i ${key.privateKeyPath} -o IdentitiesOnly=yes -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes` };
  for (const files of SSH_SIZES) {
    const name = `bench-ssh-${files}`;
    ssh.createRepo(name);
    await run({
      engine: 'nodegit',
      transport: 'ssh',
      files,
      url: ssh.url(name),
      repoPath: ssh.repoPath(name),
      provider: { ssh: { privateKeyFile: key.privateKeyPath, knownHostsFile: knownHosts } },
      env,
    });
  }
  await ssh.dispose();
}
await server.dispose();
