// Benchmark: one-object changes in a repository people share, at 10,000 files in 50 namespaces
// (BENCH_SHARED_OBJECTS, BENCH_SHARED_COMMITS, BENCH_SHARED_ROUNDS), all in the same run and the same
// repository:
//   - in place: this sink-git after a person's commit gave every file comments, so each change is an
//     in-place edit of a hand-edited file (the index build at start is printed);
//   - today: sink-git as it was before in-place edits (commit 595eb79), built from this repository's
//     history into ~/.cache/gitops-reverser/bench/ on first use: every change writes the object's
//     whole file at its layout path (and so erases the person's comments). Same objects, same
//     repository state as "in place": the two alternate in rounds, so a load change on a shared
//     machine hits both;
//   - untouched: this sink-git on files it wrote and nobody touched (written whole after an index
//     lookup), before the person's commit;
//   - git CLI: the same change made by a person with the git CLI (edit, git add, git commit) in a
//     checkout of the same 10,000 files.
// Prints medians and 90th percentiles, the ratios to "today" (goal: in place <= 2x), and one
// BENCH_JSON line with histograms. Nothing is asserted.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KernelMetrics, renderYaml, silentLogger } from '@gitops-reverser/kernel';
import * as current from '@gitops-reverser/sink-git/internal';

const OBJECTS = Number(process.env.BENCH_SHARED_OBJECTS ?? 10_000);
const COMMITS = Number(process.env.BENCH_SHARED_COMMITS ?? 200);
const ROUNDS = Math.max(1, Number(process.env.BENCH_SHARED_ROUNDS ?? 8));
const NAMESPACES = 50;
/** The last commit before in-place edits (issue 24): its sink-git rewrote every changed file whole. */
const BASELINE_COMMIT = '595eb79deede3e4bf3a3c9a40bd7a6668a86d569';
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../..');

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
/** The objects changed in commit `n` of the run: every commit another file, spread over the folders. */
const objectOf = (n) => (n * 7919) % OBJECTS;
let generation = 1;

/** A sink of the given sink-git module (this one, or the baseline) on the bench repository. */
async function openSink(sinkGit, repo) {
  const sink = new sinkGit.GitSink({ ...sinkGit.DEFAULT_GIT_SINK_OPTIONS, providers: [{ name: 'origin', url: repo, allowedBranches: ['main'] }] });
  const target = { name: 'live', with: { provider: 'origin', branch: 'main', path: 'clusters/bench', prune: 'OnEvent', kustomizations: 'Maintain', omitNamespace: false }, keyPath: 'targets[0]' };
  const partition = sink.planTargets([target]).partitions.get('live');
  await sink.start({ logger: silentLogger(), metrics: new KernelMetrics(), targets: () => [{ target, partition }], requestSnapshot: () => undefined });
  const apply = async (items) => {
    const outcomes = await sink.apply({ partition, items });
    for (const outcome of outcomes) if (outcome.status !== 'applied') throw new Error(`not applied: ${JSON.stringify(outcome)}`);
  };
  return { sink, apply };
}

/** One commit per change of the objects of commits `from` to `to` (exclusive); their times in ms. */
async function changes(apply, from, to) {
  const times = [];
  for (let n = from; n < to; n++) {
    const start = process.hrtime.bigint();
    await apply([item(objectOf(n), generation++)]);
    times.push(ms(start));
  }
  return times;
}

/**
 * sink-git of BASELINE_COMMIT: compiled from `git archive` of this repository with this checkout's
 * TypeScript the first time (cached under ~/.cache/gitops-reverser/bench/), then loaded from a copy
 * beside a link to this checkout's node_modules, so its imports (isomorphic-git, the contract, which
 * has not changed since) resolve. Undefined, with the reason printed, when the commit is not here.
 */
async function baselineSinkGit() {
  try {
    git(repoRoot, 'cat-file', '-e', `${BASELINE_COMMIT}^{commit}`);
  } catch {
    console.log(`  today: commit ${BASELINE_COMMIT.slice(0, 7)} is not in this clone (shallow?); run git fetch --unshallow to measure it`);
    return undefined;
  }
  const cacheBase = process.env.GITOPS_REVERSER_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'gitops-reverser');
  const cached = join(cacheBase, 'bench', `sink-git-${BASELINE_COMMIT.slice(0, 12)}`);
  if (!existsSync(join(cached, 'dist', 'internal.js'))) {
    const started = process.hrtime.bigint();
    const work = mkdtempSync(join(tmpdir(), 'gr-bench-baseline-build-'));
    try {
      execFileSync('sh', ['-c', `git -C "${repoRoot}" archive ${BASELINE_COMMIT} tsconfig.base.json packages/sink-git/package.json packages/sink-git/src | tar -x -C "${work}"`]);
      const compilerOptions = { rootDir: 'packages/sink-git/src', outDir: 'dist', composite: false, declaration: false, declarationMap: false, sourceMap: false, incremental: false };
      writeFileSync(join(work, 'tsconfig.json'), JSON.stringify({ extends: './tsconfig.base.json', compilerOptions, include: ['packages/sink-git/src'] }));
      symlinkSync(join(repoRoot, 'node_modules'), join(work, 'node_modules'), 'dir');
      try {
        execFileSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(work, 'tsconfig.json')], { encoding: 'utf8', stdio: 'pipe' });
      } catch (error) {
        throw new Error(`compiling sink-git of ${BASELINE_COMMIT.slice(0, 7)} failed:\n${String(error.stdout).split('\n').slice(0, 20).join('\n')}`);
      }
      // Staged and renamed: a build that was interrupted is never taken for a finished one.
      const staged = `${cached}.${process.pid}`;
      rmSync(staged, { recursive: true, force: true });
      cpSync(join(work, 'dist'), join(staged, 'dist'), { recursive: true });
      writeFileSync(join(staged, 'BUILT_FROM'), `${BASELINE_COMMIT}\n`);
      mkdirSync(dirname(cached), { recursive: true });
      rmSync(cached, { recursive: true, force: true });
      renameSync(staged, cached);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    console.log(`  today: built sink-git of ${BASELINE_COMMIT.slice(0, 7)} into ${cached} in ${Math.round(ms(started))} ms (once)`);
  }
  const run = mkdtempSync(join(tmpdir(), 'gr-bench-baseline-'));
  cpSync(join(cached, 'dist'), join(run, 'dist'), { recursive: true });
  writeFileSync(join(run, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(repoRoot, 'node_modules'), join(run, 'node_modules'), 'dir');
  const module = await import(pathToFileURL(join(run, 'dist', 'internal.js')).href);
  return { module, folder: run };
}

function stats(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: +at(0.5).toFixed(3), p90: +at(0.9).toFixed(3) };
}

const baseline = await baselineSinkGit();
const root = mkdtempSync(join(tmpdir(), 'gr-bench-shared-'));
const repo = join(root, 'state.git');
const perRound = Math.ceil(COMMITS / ROUNDS);

/**
 * COMMITS one-object commits of this sink-git, starting at commit `first`, in ROUNDS rounds; after
 * each round today's sink-git makes the same changes of the same objects, so both see the same
 * repository and the same load. Each round starts its sinks anew; the first change after a start
 * (which reads the folder into the index) is timed apart.
 */
async function alternate(first, afterOurs = () => undefined) {
  const ours = [];
  const today = [];
  const starts = [];
  for (let round = 0; round < ROUNDS; round++) {
    const from = first + round * perRound;
    const to = Math.min(first + COMMITS, from + perRound);
    let { sink, apply } = await openSink(current, repo);
    const start = process.hrtime.bigint();
    await apply([item(OBJECTS - 1, generation++)]);
    starts.push(ms(start));
    ours.push(...(await changes(apply, from, to)));
    await sink.stop();
    afterOurs(from, to);
    if (!baseline) continue;
    ({ sink, apply } = await openSink(baseline.module, repo));
    await apply([item(OBJECTS - 2, generation++)]);
    today.push(...(await changes(apply, from, to)));
    await sink.stop();
  }
  return { ours, today, starts };
}

// The seed, by this sink-git.
const seeding = await openSink(current, repo);
const seed = Array.from({ length: OBJECTS }, (_, i) => item(i, 0, 's1'));
seed.push({ message: { kind: 'snapshot-end', target: 'live', snapshotId: 's1', objectCount: OBJECTS, clusterId: 'bench', completedAt: new Date().toISOString() }, attempt: 1 });
let start = process.hrtime.bigint();
await seeding.apply(seed);
const seedMs = ms(start);
await seeding.sink.stop();

// Files the sink wrote and nobody touched (both versions write them whole).
const untouchedRuns = await alternate(0);

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

// Commented files: this sink-git edits them in place, today's rewrites them whole (erasing the
// comments of the files it changes: each round takes other files).
const inPlaceRuns = await alternate(COMMITS, (from, to) => {
  for (const n of [from, to - 1]) {
    const text = git(repo, 'show', `main:${pathOf(objectOf(n))}`);
    if (!text.startsWith('# config-') || !text.includes('# the team') || !text.includes(`generation: "${generation - 1 - (to - 1 - n)}"`)) {
      throw new Error(`the in-place edit of ${pathOf(objectOf(n))} is not what it should be:\n${text}`);
    }
  }
});
if (baseline) rmSync(baseline.folder, { recursive: true, force: true });
git(repo, 'fsck', '--strict');

// The git CLI: the same one-object changes in the checkout (pulled), as a person makes them.
git(checkout, 'pull', '--quiet');
const cli = [];
for (let n = 0; n < COMMITS; n++) {
  const i = objectOf(n);
  const file = join(checkout, pathOf(i));
  start = process.hrtime.bigint();
  writeFileSync(file, readFileSync(file, 'utf8').replace(/generation: "\d+"/, `generation: "${generation++}"`));
  git(checkout, 'add', pathOf(i));
  git(checkout, 'commit', '--quiet', '-m', `change ${n}`);
  cli.push(ms(start));
}

const result = {
  bench: 'sink-git-shared-repo',
  objects: OBJECTS,
  commits: COMMITS,
  rounds: ROUNDS,
  baselineCommit: baseline ? BASELINE_COMMIT : null,
  seedMs: Math.round(seedMs),
  indexBuildMs: Math.round(Math.min(...inPlaceRuns.starts)),
  indexBuildUntouchedMs: Math.round(Math.min(...untouchedRuns.starts)),
  inPlace: stats(inPlaceRuns.ours),
  today: baseline ? stats(inPlaceRuns.today) : null,
  untouched: stats(untouchedRuns.ours),
  todayUntouched: baseline ? stats(untouchedRuns.today) : null,
  gitCli: stats(cli),
  goal: 'in place <= 2x today',
};
const ratio = (a, b) => (a && b ? +(a.median / b.median).toFixed(2) : null);
result.ratioInPlaceToToday = ratio(result.inPlace, result.today);
result.ratioUntouchedToToday = ratio(result.untouched, result.todayUntouched);
result.ratioGitCliToToday = ratio(result.gitCli, result.today);
result.goalMet = result.ratioInPlaceToToday === null ? null : result.ratioInPlaceToToday <= 2;
const round3 = (times) => times.map((v) => +v.toFixed(3));
const today = `today (${BASELINE_COMMIT.slice(0, 7)}, whole file)`;
result.histograms = [
  {
    name: `shared-repo-${OBJECTS}`,
    title: `one-object commit into a commented file, ${OBJECTS} files: in place vs today's rewrite vs the git CLI`,
    unit: 'ms',
    series: { 'in place': round3(inPlaceRuns.ours), ...(baseline ? { [today]: round3(inPlaceRuns.today) } : {}), 'git CLI (add + commit)': round3(cli) },
  },
  {
    name: `shared-repo-untouched-${OBJECTS}`,
    title: `one-object commit into an untouched file, ${OBJECTS} files: this sink-git vs today's`,
    unit: 'ms',
    series: { 'this sink-git': round3(untouchedRuns.ours), ...(baseline ? { [today]: round3(untouchedRuns.today) } : {}) },
  },
];

const f = (s) => (s ? `median ${s.median.toFixed(2)} ms  p90 ${s.p90.toFixed(2)} ms` : 'not measured');
console.log(`shared repository, ${OBJECTS} files in ${NAMESPACES} namespaces, ${COMMITS} one-object commits per row (each row and today's in ${ROUNDS} alternating rounds)`);
console.log(
  `  seed ${result.seedMs} ms; first change after start, reading the folder into the index: ${result.indexBuildUntouchedMs} ms (files the sink wrote), ${result.indexBuildMs} ms (hand-edited files)`,
);
console.log(`  commented files: in place       ${f(result.inPlace)}  (${result.ratioInPlaceToToday ?? '-'}x today; goal <= 2x: ${result.goalMet ?? '-'})`);
console.log(`                   ${today}   ${f(result.today)}`);
console.log(`  untouched files: this sink-git  ${f(result.untouched)}  (${result.ratioUntouchedToToday ?? '-'}x today)`);
console.log(`                   ${today}   ${f(result.todayUntouched)}`);
console.log(`  git CLI (edit, add, commit)     ${f(result.gitCli)}  (${result.ratioGitCliToToday ?? '-'}x today)`);
console.log(`BENCH_JSON ${JSON.stringify(result)}`);
rmSync(root, { recursive: true, force: true });
