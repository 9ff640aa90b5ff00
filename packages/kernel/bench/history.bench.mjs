// Benchmark: the history and diff commands (not a test), each next to its baseline in the same run.
//   1. `gitops-reverser history <object>` in a repository of BENCH_HISTORY_COMMITS (default 100,000)
//      commits made with `git fast-import` the way the git sink writes them (one object per commit,
//      subjects and trailers, 1,000 ConfigMaps in 10 namespaces, three authors): the first run (which
//      adds git's commit-graph with changed-path Bloom filters to the repository), then warm runs, as
//      a whole CLI process (start to exit) and in this process (the command alone); the floor is
//      `git log -- <the object's file>` before and after that commit-graph. Target: <= 1 s.
//   2. `gitops-reverser diff` of a target holding BENCH_DIFF_OBJECTS (default 10,000) ConfigMaps of a
//      real API server, in step, vs the informer's seed of the same objects into that target (start to
//      its commit), both in this process. BENCH_DIFF_OBJECTS=0 leaves this part out.
// Prints the figures and one BENCH_JSON line.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, Runtime, silentLogger } from '@gitops-reverser/kernel';
import { ControlPlane } from '@gitops-reverser/testkit';
import { apiClient, branchReader, createConfigMaps } from '../../source-informer/bench/live-fixture.mjs';
import { runCli } from '../dist/cli/run-cli.js';

const COMMITS = Number(process.env.BENCH_HISTORY_COMMITS ?? 100_000);
const DIFF_OBJECTS = Number(process.env.BENCH_DIFF_OBJECTS ?? 10_000);
const OBJECTS = 1000;
const WARM_RUNS = 5;
const here = dirname(fileURLToPath(import.meta.url));
const cliBin = join(here, '../bin/gitops-reverser.js');
const now = () => performance.now();
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const silentIo = { stdout: () => undefined, stderr: () => undefined };

/** A bare repository of `commits` commits made by `git fast-import`: each edits one of OBJECTS ConfigMaps, as the sink writes them. */
async function buildRepository(repo, commits) {
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', repo]);
  const importer = spawn('git', ['-C', repo, 'fast-import', '--quiet'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const authors = ['alice@example.com <alice@example.com>', 'bob <bob@bench.cluster.local>', 'system:serviceaccount:ops:deployer <system-serviceaccount-ops-deployer@bench.cluster.local>'];
  const start = 1_700_000_000;
  let chunk = '';
  const flush = async () => {
    if (!importer.stdin.write(chunk)) await new Promise((resolve) => importer.stdin.once('drain', resolve));
    chunk = '';
  };
  for (let i = 0; i < commits; i++) {
    // The first OBJECTS commits create every object; then each commit edits one, object 13 every 1,000th.
    const o = i < OBJECTS ? i : (i * 7919) % OBJECTS;
    const ns = `ns-${o % 10}`;
    const operation = i < OBJECTS ? 'CREATE' : 'UPDATE';
    const content = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${o}\n  namespace: ${ns}\ndata:\n  revision: "${i}"\n`;
    const message = `[${operation}] v1/configmaps/${ns}/cm-${o}\n\nCluster: bench\nResource-Version: ${i + 1}\nAttribution: audit\nAudit-ID: ${i.toString(16).padStart(8, '0')}-audit\n`;
    chunk +=
      `commit refs/heads/main\nauthor ${authors[i % 3]} ${start + i} +0000\ncommitter gitops-reverser <gitops-reverser@localhost> ${start + i} +0000\n` +
      `data ${Buffer.byteLength(message)}\n${message}M 100644 inline clusters/bench/${ns}/configmaps/cm-${o}.yaml\ndata ${Buffer.byteLength(content)}\n${content}\n`;
    if (chunk.length > 1 << 20) await flush();
  }
  await flush();
  importer.stdin.end();
  await new Promise((resolve, reject) => importer.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import exited ${code}`)))));
}

/** CPU time (user + system) of this process's finished children, in ms, from /proc (Linux). */
function childrenCpuMs() {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
    // cutime and cstime are fields 16 and 17 of stat(5), in clock ticks (100 per second).
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** A CLI process from start to exit: wall time and the CPU it and its children (git) used, which a loaded machine does not stretch. */
function timeProcess(args) {
  const cpu = childrenCpuMs();
  const start = now();
  const result = execFileSync(process.execPath, [cliBin, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { ms: now() - start, cpuMs: childrenCpuMs() - cpu, output: result };
}

async function historyBenchmark() {
  const dir = mkdtempSync(join(tmpdir(), 'gr-bench-history-'));
  try {
    const repo = join(dir, 'state.git');
    let start = now();
    await buildRepository(repo, COMMITS);
    const buildMs = now() - start;
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `apiVersion: gitops-reverser/v1alpha2
sources: [ { use: "@gitops-reverser/source-informer", cluster: bench } ]
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: local, url: ./state.git } ] } }
targets: [ { name: live, with: { provider: local, branch: main, path: clusters/bench } } ]
rules: [ { target: live, scope: Namespaced, resources: [configmaps] } ]
`,
    );
    const file = 'clusters/bench/ns-3/configmaps/cm-13.yaml';
    const gitLog = () => {
      const started = now();
      const lines = execFileSync('git', ['-C', repo, 'log', '--format=%H', 'main', '--', file], { encoding: 'utf8' }).trim().split('\n').length;
      return { ms: now() - started, lines };
    };
    const gitLogCold = gitLog();
    const args = ['history', 'ConfigMap/ns-3/cm-13', '--config', config, '--no-fetch', '--output', 'json'];
    const cold = timeProcess(args);
    const changes = JSON.parse(cold.output).targets[0].changes.length;
    const gitLogWarm = median(Array.from({ length: WARM_RUNS }, () => gitLog().ms));
    const warmRuns = Array.from({ length: WARM_RUNS }, () => timeProcess(args));
    const warmProcess = median(warmRuns.map((run) => run.ms));
    // The CLI's own start-up (Node, the kernel's modules), which every command pays: `--version` loads them all.
    const startupRuns = Array.from({ length: WARM_RUNS }, () => timeProcess(['--version']));
    const startup = median(startupRuns.map((run) => run.ms));
    await runCli(args, silentIo); // loads the modules once
    const inProcess = [];
    for (let i = 0; i < WARM_RUNS; i++) {
      start = now();
      const code = await runCli(args, silentIo);
      inProcess.push(now() - start);
      if (code !== 0) throw new Error(`history exited ${code}`);
    }
    return {
      commits: COMMITS,
      objects: OBJECTS,
      changesOfObject: changes,
      buildWithFastImportMs: Math.round(buildMs),
      oursFirstRunCliMs: Math.round(cold.ms),
      oursWarmCliP50Ms: Math.round(warmProcess),
      oursWarmCliCpuP50Ms: Math.round(median(warmRuns.map((run) => run.cpuMs))),
      oursInProcessP50Ms: Math.round(median(inProcess)),
      cliStartupP50Ms: Math.round(startup),
      cliStartupCpuP50Ms: Math.round(median(startupRuns.map((run) => run.cpuMs))),
      loadAverage1m: +(loadavg()[0] ?? 0).toFixed(1),
      gitLogWithoutCommitGraphMs: Math.round(gitLogCold.ms),
      gitLogWithCommitGraphMs: Math.round(gitLogWarm),
      targetMs: 1000,
      note: 'ours: the whole object history (all changes, authors, trailers, field diffs, moves followed), JSON; first run adds the commit-graph; CLI = process start to exit; floor: git log of the one file',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function diffBenchmark() {
  const plane = await ControlPlane.start();
  const dir = mkdtempSync(join(tmpdir(), 'gr-bench-diff-'));
  try {
    const api = apiClient(plane);
    await createConfigMaps(api, 'bench', DIFF_OBJECTS);
    writeFileSync(join(dir, 'kubeconfig'), plane.kubeconfigText('admin'));
    const repo = join(dir, 'state.git');
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `apiVersion: gitops-reverser/v1alpha2
server: { enabled: false }
sources: [ { use: "@gitops-reverser/source-informer", cluster: bench, with: { kubeconfig: ./kubeconfig } } ]
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: origin, url: ./state.git } ] } }
targets: [ { name: live, with: { provider: origin, branch: main, path: clusters/bench } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [bench], resources: [configmaps] } ]
`,
    );
    const readRef = branchReader(repo);
    let start = now();
    const runtime = await Runtime.create(loadConfigFile(config), { logger: silentLogger() });
    await runtime.start();
    while (!readRef()) await new Promise((r) => setTimeout(r, 5));
    const seedMs = now() - start;
    await runtime.stop('seeded');
    await runCli(['diff', '--config', config, '--output', 'json'], silentIo); // loads the modules once
    const runs = [];
    let exitCode = -1;
    for (let i = 0; i < 3; i++) {
      start = now();
      exitCode = await runCli(['diff', '--config', config, '--output', 'json'], silentIo);
      runs.push(now() - start);
    }
    return { objects: DIFF_OBJECTS, informerSeedMs: Math.round(seedMs), diffP50Ms: Math.round(median(runs)), ratio: +(median(runs) / seedMs).toFixed(2), diffExitCode: exitCode };
  } finally {
    await plane.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const history = await historyBenchmark();
console.log(`history benchmark: ${history.commits} commits (git fast-import ${history.buildWithFastImportMs} ms), one object with ${history.changesOfObject} changes`);
console.log(
  `  ours  first run ${history.oursFirstRunCliMs} ms (CLI, adds the commit-graph)   warm CLI p50 ${history.oursWarmCliP50Ms} ms (CPU ${history.oursWarmCliCpuP50Ms} ms)   in process p50 ${history.oursInProcessP50Ms} ms   (target <= ${history.targetMs} ms; load average ${history.loadAverage1m})`,
);
console.log(`  floor git log -- <file>: ${history.gitLogWithoutCommitGraphMs} ms without a commit-graph, ${history.gitLogWithCommitGraphMs} ms with it`);
console.log(`  CLI start-up (gitops-reverser --version, every command pays it): p50 ${history.cliStartupP50Ms} ms (CPU ${history.cliStartupCpuP50Ms} ms)`);
const diff = DIFF_OBJECTS > 0 ? await diffBenchmark() : undefined;
if (diff) {
  console.log(`diff benchmark: ${diff.objects} ConfigMaps in step (exit ${diff.diffExitCode})`);
  console.log(`  diff p50 ${diff.diffP50Ms} ms   informer seed into the same target ${diff.informerSeedMs} ms   ratio ${diff.ratio}`);
}
const missed = [
  ...(history.oursInProcessP50Ms > history.targetMs ? ['history (in process) over 1 s'] : []),
  ...(history.oursWarmCliP50Ms > history.targetMs ? [`history as a CLI process over 1 s: of it ${history.cliStartupP50Ms} ms is the CLI's start-up (--version)`] : []),
];
console.log(`BENCH_JSON ${JSON.stringify({ benchmark: 'kernel-history', history, ...(diff ? { diff } : {}), missedTargets: missed })}`);
