// Benchmark: one-object changes in a repository people share, at 10,000 files in 50 namespaces
// (BENCH_SHARED_OBJECTS, BENCH_SHARED_COMMITS), all in the same run:
//   - rewrite: files this sink wrote and nobody touched, written whole (what every change cost before
//     in-place edits; the index lookup is the only addition);
//   - in place: after a person's commit that gave every file comments (so each change is an in-place
//     edit of a hand-edited file), with the index built again at start (printed: index build);
//   - git CLI: the same change made by a person with the git CLI (edit, git add, git commit) in a
//     checkout of the same 10,000 files.
// Prints medians and 90th percentiles, the ratio in place / rewrite, and one BENCH_JSON line.
// Nothing is asserted.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelMetrics, renderYaml, silentLogger } from '@gitops-reverser/kernel';
import { DEFAULT_GIT_SINK_OPTIONS, GitSink } from '@gitops-reverser/sink-git/internal';

const OBJECTS = Number(process.env.BENCH_SHARED_OBJECTS ?? 10_000);
const COMMITS = Number(process.env.BENCH_SHARED_COMMITS ?? 200);
const NAMESPACES = 50;

function object(i, generation) {
  const namespace = `team-${i % NAMESPACES}`;
  return {
    identity: { clusterId: 'bench', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace, name: `config-${i}` },
    object: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `config-${i}`, namespace, labels: { app: `app-${i % 97}`, tier: 'backend' } },
      data: { generation: String(generation), index: String(i), 'settings.yaml': `replicas: ${i % 7}\nfeature: ${'x'.repeat(200)}\n` },
    },
  };
}

function item(i, generation, snapshotId) {
  const { identity, object: body } = object(i, generation);
  const event = {
    identity,
    operation: 'upsert',
    created: false,
    object: body,
    resourceVersion: String(generation),
    observedAt: new Date().toISOString(),
    phase: snapshotId ? 'seed' : 'live',
    observedBy: 'watch',
    ...(snapshotId ? { snapshotId } : {}),
  };
  return { message: { kind: 'change', target: 'live', event, yaml: renderYaml(body) }, attempt: 1 };
}

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const git = (cwd, ...args) => execFileSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
const pathOf = (i) => `clusters/bench/team-${i % NAMESPACES}/configmaps/config-${i}.yaml`;

async function openSink(repo) {
  const sink = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, providers: [{ name: 'origin', url: repo, allowedBranches: ['main'] }] });
  const target = { name: 'live', with: { provider: 'origin', branch: 'main', path: 'clusters/bench', prune: 'OnEvent', kustomizations: 'Maintain', omitNamespace: false }, keyPath: 'targets[0]' };
  const partition = sink.planTargets([target]).partitions.get('live');
  await sink.start({ logger: silentLogger(), metrics: new KernelMetrics(), targets: () => [{ target, partition }], requestSnapshot: () => undefined });
  return { sink, apply: (items) => sink.apply({ partition, items }) };
}

async function changes(apply, generation) {
  const times = [];
  for (let n = 0; n < COMMITS; n++) {
    const i = (n * 7919) % OBJECTS;
    const start = process.hrtime.bigint();
    const [outcome] = await apply([item(i, generation + n)]);
    times.push(ms(start));
    if (outcome.status !== 'applied') throw new Error(`change ${n}: ${JSON.stringify(outcome)}`);
  }
  return times;
}

function stats(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p90: at(0.9) };
}

const root = mkdtempSync(join(tmpdir(), 'gr-bench-shared-'));
const repo = join(root, 'state.git');
let { sink, apply } = await openSink(repo);
const seed = Array.from({ length: OBJECTS }, (_, i) => item(i, 0, 's1'));
seed.push({ message: { kind: 'snapshot-end', target: 'live', snapshotId: 's1', objectCount: OBJECTS, clusterId: 'bench', completedAt: new Date().toISOString() }, attempt: 1 });
let start = process.hrtime.bigint();
await apply(seed);
const seedMs = ms(start);
// The first change after the seed builds the index (the seed wrote a new folder); not measured.
await apply([item(0, 1)]);
const rewrite = await changes(apply, 10);
await sink.stop();

// A person comments every file and pushes (the git CLI, in a checkout).
const checkout = join(root, 'checkout');
git(root, 'clone', '--quiet', repo, checkout);
git(checkout, 'config', 'user.name', 'A Person');
git(checkout, 'config', 'user.email', 'person@example.com');
git(checkout, 'config', 'gc.auto', '0');
for (let i = 0; i < OBJECTS; i++) {
  const file = join(checkout, pathOf(i));
  const text = readFileSync(file, 'utf8').replace('  tier: backend\n', '  tier: backend # the team\n');
  writeFileSync(file, `# config-${i}: owned by team-${i % NAMESPACES}\n${text}`);
}
git(checkout, 'add', '-A');
git(checkout, 'commit', '--quiet', '-m', 'comments everywhere');
git(checkout, 'push', '--quiet', 'origin', 'main');

({ sink, apply } = await openSink(repo));
start = process.hrtime.bigint();
await apply([item(1, 1)]);
const indexBuildMs = ms(start);
const inPlace = await changes(apply, 10_000);
await sink.stop();
const sample = git(repo, 'show', `main:${pathOf(7919 % OBJECTS)}`);
if (!sample.startsWith('# config-') || !sample.includes('# the team')) throw new Error('the in-place edits lost the comments');
git(repo, 'fsck', '--strict');

// The git CLI: the same one-object changes in the checkout (pulled), as a person makes them.
git(checkout, 'pull', '--quiet');
const cli = [];
for (let n = 0; n < COMMITS; n++) {
  const i = (n * 7919) % OBJECTS;
  const file = join(checkout, pathOf(i));
  start = process.hrtime.bigint();
  writeFileSync(file, readFileSync(file, 'utf8').replace(/generation: "\d+"/, `generation: "${20_000 + n}"`));
  git(checkout, 'add', pathOf(i));
  git(checkout, 'commit', '--quiet', '-m', `change ${n}`);
  cli.push(ms(start));
}

const result = {
  bench: 'sink-git-shared-repo',
  objects: OBJECTS,
  commits: COMMITS,
  seedMs: Math.round(seedMs),
  indexBuildMs: Math.round(indexBuildMs),
  rewrite: stats(rewrite),
  inPlace: stats(inPlace),
  gitCli: stats(cli),
};
result.ratioInPlaceToRewrite = result.inPlace.median / result.rewrite.median;
result.ratioInPlaceToGitCli = result.inPlace.median / result.gitCli.median;
const f = (n) => n.toFixed(2);
console.log(`shared repository, ${OBJECTS} files in ${NAMESPACES} namespaces, ${COMMITS} one-object commits each`);
console.log(`  seed ${result.seedMs} ms; index build at start (hand-edited files) ${result.indexBuildMs} ms`);
console.log(`  rewrite (untouched files)  median ${f(result.rewrite.median)} ms  p90 ${f(result.rewrite.p90)} ms`);
console.log(`  in place (commented files) median ${f(result.inPlace.median)} ms  p90 ${f(result.inPlace.p90)} ms  (${f(result.ratioInPlaceToRewrite)}x rewrite)`);
console.log(`  git CLI (edit, add, commit) median ${f(result.gitCli.median)} ms  p90 ${f(result.gitCli.p90)} ms`);
console.log(`BENCH_JSON ${JSON.stringify(result)}`);
rmSync(root, { recursive: true, force: true });
