// Benchmark: the git sink against the git CLI doing the same work on the same files.
//   1. seed: 10,000 objects into an empty repository as one commit;
//   2. 1,000 single-object commits into that 10,000-file repository.
// Prints both, their ratio, and one JSON line (prefix BENCH_JSON). Not a test: nothing is asserted.
// Runs twice when /dev/shm exists: on the disk (os.tmpdir()) and in memory, so the cost of the
// file system (each new file costs 0.02-0.8 ms on the CI VM's disk) is visible apart from ours.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KernelMetrics, renderYaml, silentLogger } from '@gitops-reverser/kernel';
import { DEFAULT_GIT_SINK_OPTIONS, GitSink, PathLayout, nodegitAvailable } from '@gitops-reverser/sink-git';

const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 10_000);
const COMMITS = Number(process.env.BENCH_COMMITS ?? 1_000);
const NAMESPACES = 50;
// Both engines when nodegit is installed: the writer is shared; the engines differ in how they read and store.
const ENGINES = nodegitAvailable() ? ['isomorphic-git', 'nodegit'] : ['isomorphic-git'];

function configMap(i, generation = 0) {
  const namespace = `team-${i % NAMESPACES}`;
  return {
    identity: { clusterId: 'bench', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace, name: `config-${i}` },
    object: {
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: `config-${i}`, namespace, labels: { app: `app-${i % 97}`, tier: 'backend' } },
      data: { 'settings.yaml': `replicas: ${i % 7}\ngeneration: ${generation}\nfeature: ${'x'.repeat(200)}\n`, index: String(i) },
    },
  };
}

function message(i, generation, snapshotId) {
  const { identity, object } = configMap(i, generation);
  return {
    kind: 'change', target: 'live',
    event: { identity, operation: 'upsert', created: false, object, resourceVersion: String(i), observedAt: new Date().toISOString(), origin: snapshotId ? 'seed' : 'watch', ...(snapshotId ? { snapshotId } : {}) },
    // The kernel renders each event once before it reaches the sink; that cost is the kernel's.
    yaml: renderYaml(object),
  };
}

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const git = (cwd, ...args) => execFileSync('git', args, { cwd, encoding: 'utf8' });

async function run(location, storage) {
const root = mkdtempSync(join(location, 'gr-bench-git-'));

// --- ours, per engine -------------------------------------------------------------------------
const ourRuns = [];
for (const engine of ENGINES) {
const repo = join(root, `ours-${engine}`);
const sink = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, engine, providers: [{ name: 'origin', url: repo, allowedBranches: ['main'] }] });
const target = { name: 'live', with: { provider: 'origin', branch: 'main', path: 'clusters/bench', prune: 'OnEvent' }, keyPath: 'targets[0]' };
const partition = sink.planTargets([target]).partitions.get('live');
await sink.start({ logger: silentLogger(), metrics: new KernelMetrics(), targets: () => [{ target, partition }] });

const seedItems = Array.from({ length: OBJECTS }, (_, i) => ({ message: message(i, 0, 'seed-1'), attempt: 1 }));
seedItems.push({ message: { kind: 'snapshot', target: 'live', snapshotId: 'seed-1', objectCount: OBJECTS, clusterId: 'bench', completedAt: new Date().toISOString() }, attempt: 1 });
let start = process.hrtime.bigint();
const seedOutcomes = await sink.apply({ partition, items: seedItems });
const seedMs = ms(start);
if (!seedOutcomes.every((o) => o.status === 'applied')) throw new Error('seed did not apply');

const commitTimes = [];
for (let n = 0; n < COMMITS; n++) {
  const item = { message: message((n * 7919) % OBJECTS, n + 1), attempt: 1 };
  start = process.hrtime.bigint();
  const [outcome] = await sink.apply({ partition, items: [item] });
  commitTimes.push(ms(start));
  if (outcome.status !== 'applied') throw new Error(`commit ${n} did not apply: ${JSON.stringify(outcome)}`);
}
await sink.stop();
git(repo, 'fsck', '--strict');
ourRuns.push({ engine, repo, seedMs, commitTimes, commitCount: Number(git(repo, 'rev-list', '--count', 'main').trim()), tree: git(repo, 'rev-parse', 'main^{tree}').trim() });
}
let start;

// --- git CLI on the same files ----------------------------------------------------------------
const cliRepo = join(root, 'cli');
mkdirSync(cliRepo);
git(cliRepo, 'init', '--quiet', '--initial-branch=main');
git(cliRepo, 'config', 'user.name', 'bench');
git(cliRepo, 'config', 'user.email', 'bench@example.com');
git(cliRepo, 'config', 'gc.auto', '0');
const layout = new PathLayout();
const pathOf = (identity) => layout.pathOf('clusters/bench', identity).path;
start = process.hrtime.bigint();
for (let i = 0; i < OBJECTS; i++) {
  const { identity, object } = configMap(i, 0);
  const file = join(cliRepo, pathOf(identity));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, renderYaml(object));
}
git(cliRepo, 'add', '-A');
git(cliRepo, 'commit', '--quiet', '-m', `reconciled ${OBJECTS} resources`);
const cliSeedMs = ms(start);

const cliCommitTimes = [];
for (let n = 0; n < COMMITS; n++) {
  const { identity, object } = configMap((n * 7919) % OBJECTS, n + 1);
  const path = pathOf(identity);
  start = process.hrtime.bigint();
  writeFileSync(join(cliRepo, path), renderYaml(object));
  git(cliRepo, 'add', path);
  git(cliRepo, 'commit', '--quiet', '-m', `[UPDATE] v1/configmaps/${identity.namespace}/${identity.name}`);
  cliCommitTimes.push(ms(start));
}

const stats = (times) => {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { mean: times.reduce((a, b) => a + b, 0) / times.length, p50: at(0.5), p99: at(0.99) };
};
const cliTree = git(cliRepo, 'rev-parse', 'HEAD^{tree}').trim();
const cli = stats(cliCommitTimes);
console.log(`sink-git benchmark on ${storage} (${location}): ${OBJECTS} objects, ${COMMITS} single-object commits (${NAMESPACES} namespaces)`);
console.log(`  git CLI         seed ${Math.round(cliSeedMs)} ms   single commit mean ${cli.mean.toFixed(2)} ms (p50 ${cli.p50.toFixed(2)})`);
for (const run of ourRuns) {
  const ours = stats(run.commitTimes);
  const summary = {
    benchmark: 'sink-git',
    engine: run.engine,
    storage,
    directory: location,
    objects: OBJECTS,
    commits: COMMITS,
    seed: { oursMs: Math.round(run.seedMs), gitCliMs: Math.round(cliSeedMs), ratio: +(run.seedMs / cliSeedMs).toFixed(2), targetRatio: 1.5 },
    singleCommit: {
      oursMeanMs: +ours.mean.toFixed(2), oursP50Ms: +ours.p50.toFixed(2), oursP99Ms: +ours.p99.toFixed(2),
      gitCliMeanMs: +cli.mean.toFixed(2), gitCliP50Ms: +cli.p50.toFixed(2),
      ratio: +(ours.mean / cli.mean).toFixed(2), targetMs: 5,
    },
    identicalTrees: run.tree === cliTree,
    oursCommitCount: run.commitCount,
  };
  console.log(`  ours [${run.engine}]`.padEnd(32) + `seed ${summary.seed.oursMs} ms (ratio ${summary.seed.ratio}, target <= 1.5)   single commit mean ${summary.singleCommit.oursMeanMs} ms (p50 ${summary.singleCommit.oursP50Ms}, p99 ${summary.singleCommit.oursP99Ms})   ratio ${summary.singleCommit.ratio} (target < 5 ms)   same tree as the git CLI: ${summary.identicalTrees}`);
  console.log(`BENCH_JSON ${JSON.stringify(summary)}`);
}
rmSync(root, { recursive: true, force: true });
}

if (process.env.BENCH_DIR) await run(process.env.BENCH_DIR, 'given');
else {
  await run(tmpdir(), 'disk');
  if (existsSync('/dev/shm')) await run('/dev/shm', 'memory');
}
