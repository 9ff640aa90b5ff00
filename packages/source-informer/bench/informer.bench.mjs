// Benchmark: the informer source end to end against the real API server (not a test).
// First a small install: `gitops-reverser run` (server on, /metrics scraped every 10 s, local repository)
// watching BENCH_SMALL_OBJECTS (default 50; 0 skips it) ConfigMaps, its resident memory sampled every
// 0.5 s for BENCH_SMALL_SECONDS (default 90) from process start and drawn as a plot; the settled figure
// is the last 10 s. Every `run` process here gets the NODE_OPTIONS the container image sets (none if none).
// Then for each size in BENCH_OBJECTS (default "10000,100000" live ConfigMaps in one namespace, a fresh
// control plane each):
//   1. seed: the ConfigMaps -> one committed "reconciled" commit, vs a bare paginated LIST of the same
//      objects (limit 500, JSON parsed, nothing else: the API server's floor) and vs the naive
//      `kubectl get -o json` + write files + `git add -A` + `git commit`;
//   2. `gitops-reverser snapshot` (process start to exit) of the same objects into a fresh repository,
//      vs `gitops-reverser run` from process start to its seed commit; the `run` process's resident
//      memory with every object watched, sampled every second from process start (a plot): 2 s after
//      the seed, after BENCH_SETTLE_SECONDS (90) idle, and its peak (VmHWM);
//   3. live-change latency (API write -> commit on the branch) at commitWindow 0, p50/p99, vs the
//      floor: the same change arriving at a plain watch connection opened by this script; from
//      100,000 objects also with the {shard} layout (the default puts them all in one folder).
// Prints ratios against the issue's targets and one JSON line per size (prefix BENCH_JSON), with
// the latency samples for the histogram `npm run bench` draws.
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDefaultSanitizer, renderYaml, Runtime, silentLogger } from '@gitops-reverser/kernel';
import { ControlPlane, controlPlaneBinaries } from '@gitops-reverser/testkit';
import { lineText } from '../../../scripts/bench-report.mjs';
import { apiClient, branchReader, createConfigMaps, imageNodeOptions, inProcessConfig, memoryOf, memoryPlot, openPlainWatch } from './live-fixture.mjs';

const SIZES = String(process.env.BENCH_OBJECTS ?? '10000,100000')
  .split(',')
  .filter(Boolean)
  .map(Number);
// A p99 is the 10th-slowest of 1,000 changes: steadier on a shared machine than the 2nd of 200.
const CHANGES = Number(process.env.BENCH_CHANGES ?? 1000);
const SHARDED_LAYOUT = '{namespace}/{groupPath}{resource}/{shard}/{name}.yaml';
/** How long `run` stays idle after its seed before its settled memory is read. */
const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 90);
// Issue 28's targets: seed <= 2x a bare LIST, live p99 <= 1.3x a plain watch.
const SEED_TARGET = 2;
const LATENCY_TARGET = 1.3;
const SMALL_OBJECTS = Number(process.env.BENCH_SMALL_OBJECTS ?? 50);
const SMALL_SECONDS = Number(process.env.BENCH_SMALL_SECONDS ?? 90);
const NAMESPACE = 'bench';
const NODE_OPTIONS = imageNodeOptions();
const CLI_BIN = join(dirname(fileURLToPath(import.meta.url)), '../../kernel/bin/gitops-reverser.js');
const now = () => performance.now();
/** Text indented under a bench's heading. */
const indent = (text) => text.replace(/^/gm, '  ');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);

/** Starts `gitops-reverser run` as the image does (its NODE_OPTIONS). */
function startRun(config) {
  return spawn(process.execPath, [CLI_BIN, 'run', '--config', config], { stdio: 'ignore', env: { ...process.env, NODE_OPTIONS } });
}

/** A free TCP port on the loopback interface. */
async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

if (SMALL_OBJECTS > 0) await smallInstall();
for (const OBJECTS of SIZES) await benchmark(OBJECTS);

/** A small install's memory: `run` as a pod runs it (server and /metrics on), watching a few objects. */
async function smallInstall() {
  const plane = await ControlPlane.start();
  const dir = mkdtempSync(join(tmpdir(), 'gr-bench-small-'));
  try {
    await createConfigMaps(apiClient(plane), 'small', SMALL_OBJECTS);
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, plane.kubeconfigText('admin'));
    const port = await freePort();
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `apiVersion: gitops-reverser/v1alpha2
server: { port: ${port} }
sources: [ { use: "@gitops-reverser/source-informer", cluster: bench, with: { kubeconfig: ${kubeconfig} } } ]
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: origin, url: ${join(dir, 'repo')} } ] } }
targets: [ { name: live, with: { provider: origin, branch: main, path: clusters/bench } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [small], resources: [configmaps] } ]
`,
    );
    const load = loadAverage();
    const started = now();
    const child = startRun(config);
    const readRef = branchReader(join(dir, 'repo'));
    const samples = [];
    let seedAt;
    let lastScrape = -Infinity;
    let scrapes = 0;
    while (now() - started < SMALL_SECONDS * 1000) {
      const at = (now() - started) / 1000;
      const memory = memoryOf(child.pid);
      // Until the child has exec'd node, /proc shows the fork of this process: not its figures.
      if (at > 0.2 && memory.rssMb > 0) samples.push({ at, ...memory });
      if (seedAt === undefined && readRef()) seedAt = at;
      // A Prometheus scrape every 10 s, as a pod with metrics on is read.
      if (seedAt !== undefined && at - lastScrape >= 10) {
        lastScrape = at;
        const response = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
        if (response?.ok) scrapes += 1;
        await response?.text();
      }
      await sleep(500);
    }
    const last = samples.at(-1);
    const settled = samples.filter((sample) => sample.at >= last.at - 10);
    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
    const summary = {
      benchmark: 'source-informer-small-install',
      objects: SMALL_OBJECTS,
      seconds: SMALL_SECONDS,
      nodeOptions: NODE_OPTIONS,
      loadAverage: load,
      seedCommitAtSeconds: seedAt === undefined ? null : +seedAt.toFixed(1),
      metricsScrapes: scrapes,
      memory: {
        settledRssMb: median(settled.map((s) => s.rssMb)),
        settledAnonMb: median(settled.map((s) => s.anonMb)),
        settledFileMb: median(settled.map((s) => s.fileMb)),
        peakRssMb: last.peakRssMb,
        targetSettledRssMb: 60,
        note: 'settled: the median of the last 10 s of samples; file-backed is mostly the node binary (a bare `node` holds ~34 MB of it)',
      },
      histograms: [
        memoryPlot(`informer-memory-small-${SMALL_OBJECTS}`, `gitops-reverser run, ${SMALL_OBJECTS} objects watched: resident memory`, samples, {
          marks: seedAt === undefined ? [] : [{ x: seedAt, label: 'seed committed' }],
          limits: [{ y: 60, label: 'target: settled <= 60 MB' }],
        }),
      ],
    };
    summary.missedTargets = summary.memory.settledRssMb > 60 ? ['small-install memory (docs/adr/0041: what a run loads and keeps)'] : [];
    console.log(`source-informer small install: \`run\` watching ${SMALL_OBJECTS} ConfigMaps, server and /metrics on (load ${load.join(' ')}; NODE_OPTIONS "${NODE_OPTIONS}")`);
    console.log(
      `  memory           settled RSS ${summary.memory.settledRssMb} MB (anon ${summary.memory.settledAnonMb}, file ${summary.memory.settledFileMb}) after ${SMALL_SECONDS} s (target <= 60 MB); peak ${summary.memory.peakRssMb} MB; seed committed at ${summary.seedCommitAtSeconds} s`,
    );
    console.log(indent(lineText(summary.histograms[0])));
    for (const missed of summary.missedTargets) console.log(`  target missed: ${missed}`);
    console.log(`BENCH_JSON ${JSON.stringify(summary)}`);
  } finally {
    await plane.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchmark(OBJECTS) {
  const plane = await ControlPlane.start();
  const dir = mkdtempSync(join(tmpdir(), 'gr-bench-informer-'));
  const load = loadAverage();
  try {
    const api = apiClient(plane);
    let start = now();
    await createConfigMaps(api, NAMESPACE, OBJECTS);
    console.log(`created ${OBJECTS} ConfigMaps in ${Math.round(now() - start)} ms`);

    // --- the floor: a bare paginated LIST of the same objects ---------------------------------------
    const bareList = async () => {
      const started = now();
      let count = 0;
      let continueToken = '';
      do {
        const page = JSON.parse((await api('GET', `/api/v1/namespaces/${NAMESPACE}/configmaps?limit=500${continueToken ? `&continue=${encodeURIComponent(continueToken)}` : ''}`)).body);
        count += page.items.length;
        continueToken = page.metadata.continue ?? '';
      } while (continueToken);
      if (count !== OBJECTS) throw new Error(`bare LIST saw ${count} objects, not ${OBJECTS}`);
      return now() - started;
    };
    await bareList(); // warms the API server's cache the same way for both
    const listRuns = [await bareList(), await bareList(), await bareList()].sort((a, b) => a - b);
    const bareListMs = listRuns[1];

    // --- ours: seed ------------------------------------------------------------------------------
    const kubeconfig = join(dir, 'kubeconfig');
    const repo = join(dir, 'ours');
    const config = inProcessConfig(plane, dir, repo, NAMESPACE);
    const readRef = branchReader(repo);
    start = now();
    const runtime = await Runtime.create(config, { logger: silentLogger() });
    await runtime.start();
    while (!readRef()) await new Promise((r) => setTimeout(r, 5));
    const oursSeedMs = now() - start;
    const seedSubject = execFileSync('git', ['-C', repo, 'log', '-1', '--format=%s', 'main'], { encoding: 'utf8' }).trim();

    // --- baseline: kubectl + files + git CLI ----------------------------------------------------
    const cliRepo = join(dir, 'cli');
    mkdirSync(cliRepo);
    const git = (...args) => execFileSync('git', ['-C', cliRepo, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
    git('init', '--quiet', '--initial-branch=main');
    git('config', 'user.name', 'bench');
    git('config', 'user.email', 'bench@example.com');
    const sanitizer = createDefaultSanitizer();
    start = now();
    const listed = JSON.parse(execFileSync(controlPlaneBinaries().kubectl, ['--kubeconfig', kubeconfig, '-n', NAMESPACE, 'get', 'configmaps', '-o', 'json'], { encoding: 'utf8', maxBuffer: 1 << 30 }));
    for (const item of listed.items) {
      const file = join(cliRepo, 'clusters/bench', NAMESPACE, 'configmaps', `${item.metadata.name}.yaml`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, renderYaml(sanitizer.normalize({ apiVersion: 'v1', kind: 'ConfigMap', ...item }, {})));
    }
    git('add', '-A');
    git('commit', '--quiet', '-m', `reconciled ${listed.items.length} resources`);
    const cliSeedMs = now() - start;
    const sameTree = git('rev-parse', 'HEAD^{tree}').trim() === execFileSync('git', ['-C', repo, 'rev-parse', 'main^{tree}'], { encoding: 'utf8' }).trim();

    // --- live-change latency vs a plain watch -------------------------------------------------------
    /** API write -> commit on the branch `readRef` reads, and the same change at a plain watch, per change. */
    const measureLatency = async (readRef, markerPrefix) => {
      const watchArrivals = new Map();
      const closeWatch = await openPlainWatch(plane, api, NAMESPACE, (marker, at) => {
        if (!watchArrivals.has(marker)) watchArrivals.set(marker, at);
      });
      const ours = [];
      const floor = [];
      for (let n = 0; n < CHANGES; n++) {
        const before = readRef();
        const marker = `${markerPrefix}${n}`;
        const sent = now();
        await api('PATCH', `/api/v1/namespaces/${NAMESPACE}/configmaps/cm-${(n * 37) % OBJECTS}`, { data: { marker } });
        while (readRef() === before) await new Promise((r) => setImmediate(r));
        ours.push(now() - sent);
        while (!watchArrivals.has(marker)) await new Promise((r) => setTimeout(r, 1));
        floor.push(watchArrivals.get(marker) - sent);
      }
      closeWatch();
      return { ours, floor };
    };
    const { ours, floor } = await measureLatency(readRef, 'm');
    await runtime.stop('bench done');

    // With 100,000 objects in one namespace the default layout puts them in one folder; the same
    // changes again with the {shard} layout the sink-git README recommends for that case.
    let sharded;
    if (OBJECTS >= 100_000) {
      const shardedRepo = join(dir, 'ours-sharded');
      const readShardedRef = branchReader(shardedRepo);
      const shardedRuntime = await Runtime.create(inProcessConfig(plane, dir, shardedRepo, NAMESPACE, SHARDED_LAYOUT), { logger: silentLogger() });
      await shardedRuntime.start();
      while (!readShardedRef()) await new Promise((r) => setTimeout(r, 5));
      sharded = await measureLatency(readShardedRef, 's');
      await shardedRuntime.stop('bench done');
    }

    // --- snapshot: the one-shot CLI vs `run` from the CLI, both process start to the seed written ----
    const cliConfig = (name) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(
        file,
        `apiVersion: gitops-reverser/v1alpha2
server: { enabled: false }
sources: [ { use: "@gitops-reverser/source-informer", cluster: bench, with: { kubeconfig: ${kubeconfig} } } ]
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: origin, url: ${join(dir, `${name}-repo`)} } ] } }
targets: [ { name: live, with: { provider: origin, branch: main, path: clusters/bench } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [${NAMESPACE}], resources: [configmaps] } ]
`,
      );
      return file;
    };
    const runConfig = cliConfig('run');
    start = now();
    const runChild = startRun(runConfig);
    const runRef = join(dir, 'run-repo', 'refs/heads/main');
    // Memory from process start, every second: through the seed, 2 s after its commit, and after
    // SETTLE_SECONDS of quiet. V8 keeps the heap the seed grew to until its memory reducer runs
    // (measured: 36 to 58 s after a seed, idle), so the settled figure is what a running process holds
    // per watched object; the peak is VmHWM.
    const runSamples = [];
    let lastSample = -Infinity;
    const sample = () => {
      if (now() - lastSample < 1000) return;
      lastSample = now();
      runSamples.push({ at: (now() - start) / 1000, ...memoryOf(runChild.pid) });
    };
    while (!existsSync(runRef)) {
      sample();
      await sleep(5);
    }
    const runCliSeedMs = now() - start;
    const seedAt = runCliSeedMs / 1000;
    while (now() - start < runCliSeedMs + 2000) {
      sample();
      await sleep(50);
    }
    const afterSeed = memoryOf(runChild.pid);
    while (now() - start < runCliSeedMs + SETTLE_SECONDS * 1000) {
      sample();
      await sleep(200);
    }
    const settled = memoryOf(runChild.pid);
    runSamples.push({ at: (now() - start) / 1000, ...settled });
    const [peakTarget, settledTarget] = OBJECTS <= 10_000 ? [140, 100] : [400, undefined];
    const memory = {
      afterSeedRssMb: afterSeed.rssMb,
      rssMb: settled.rssMb,
      anonMb: settled.anonMb,
      fileMb: settled.fileMb,
      peakRssMb: settled.peakRssMb,
      settleSeconds: SETTLE_SECONDS,
      targetPeakMb: peakTarget,
      ...(settledTarget ? { targetSettledMb: settledTarget } : {}),
    };
    const memoryHistogram = memoryPlot(`informer-memory-${OBJECTS}`, `gitops-reverser run, ${OBJECTS} objects: resident memory`, runSamples, {
      marks: [{ x: seedAt, label: 'seed committed' }],
      limits: [{ y: peakTarget, label: `target: peak <= ${peakTarget} MB` }, ...(settledTarget ? [{ y: settledTarget, label: `target: settled <= ${settledTarget} MB` }] : [])],
    });
    runChild.kill('SIGTERM');
    await new Promise((r) => runChild.on('exit', r));
    const snapshotConfig = cliConfig('snapshot');
    start = now();
    const snapshotOutput = execFileSync(process.execPath, [CLI_BIN, 'snapshot', '--config', snapshotConfig], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS } });
    const snapshotMs = now() - start;
    const snapshotFiles = execFileSync('git', ['-C', join(dir, 'snapshot-repo'), 'ls-tree', '-r', '--name-only', 'main'], { encoding: 'utf8', maxBuffer: 1 << 30 })
      .trim()
      .split('\n').length;
    const snapshotLast = snapshotOutput.trim().split('\n').slice(-2).join(' | ');

    const stats = (values) => {
      const sorted = [...values].sort((a, b) => a - b);
      const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
      return { p50: +at(0.5).toFixed(1), p99: +at(0.99).toFixed(1) };
    };
    /** p50/p99 of ours and of the plain watch, and their ratios. */
    const latencySummary = (samples, layout) => {
      const ours = stats(samples.ours);
      const plainWatch = stats(samples.floor);
      return {
        ...(layout ? { layout } : {}),
        oursP50Ms: ours.p50,
        oursP99Ms: ours.p99,
        plainWatchP50Ms: plainWatch.p50,
        plainWatchP99Ms: plainWatch.p99,
        ratioP50: +(ours.p50 / Math.max(plainWatch.p50, 0.1)).toFixed(1),
        ratioP99: +(ours.p99 / Math.max(plainWatch.p99, 0.1)).toFixed(2),
        targetRatioP99: LATENCY_TARGET,
      };
    };
    const histogramOf = (name, title, samples) => ({ name, title, unit: 'ms', series: { ours: samples.ours.map((v) => +v.toFixed(2)), 'plain watch': samples.floor.map((v) => +v.toFixed(2)) } });
    const summary = {
      benchmark: 'source-informer',
      objects: OBJECTS,
      changes: CHANGES,
      seed: {
        oursMs: Math.round(oursSeedMs),
        bareListMs: Math.round(bareListMs),
        ratioToBareList: +(oursSeedMs / bareListMs).toFixed(2),
        targetRatioToBareList: SEED_TARGET,
        baselineMs: Math.round(cliSeedMs),
        ratio: +(oursSeedMs / cliSeedMs).toFixed(2),
        baseline: 'kubectl get -o json + files + git add/commit',
        commit: seedSubject,
        identicalTrees: sameTree,
      },
      memory: {
        ...memory,
        nodeOptions: NODE_OPTIONS,
        note: '`gitops-reverser run` with every object watched: rssMb after settleSeconds idle, afterSeedRssMb 2 s after the seed commit, peakRssMb the process peak (VmHWM)',
      },
      loadAverage: load,
      snapshot: {
        cliMs: Math.round(snapshotMs),
        runSeedMs: Math.round(runCliSeedMs),
        ratio: +(snapshotMs / runCliSeedMs).toFixed(2),
        files: snapshotFiles,
        note: '`snapshot` from process start to exit vs `run` from process start to its seed commit',
      },
      latency: latencySummary({ ours, floor }),
      ...(sharded ? { latencySharded: latencySummary(sharded, SHARDED_LAYOUT) } : {}),
      histograms: [
        histogramOf(`informer-latency-${OBJECTS}`, `API write -> commit, ${OBJECTS} objects, commitWindow 0`, { ours, floor }),
        ...(sharded ? [histogramOf(`informer-latency-${OBJECTS}-sharded`, `API write -> commit, ${OBJECTS} objects, {shard} layout, commitWindow 0`, sharded)] : []),
        memoryHistogram,
      ],
    };
    console.log(`source-informer benchmark: ${OBJECTS} ConfigMaps, ${CHANGES} live changes (commitWindow 0; load ${load.join(' ')})`);
    console.log(`  seed to commit   ours ${summary.seed.oursMs} ms ("${seedSubject}")   bare LIST ${summary.seed.bareListMs} ms   ratio ${summary.seed.ratioToBareList} (target <= ${SEED_TARGET})`);
    console.log(`                   kubectl + files + git CLI ${summary.seed.baselineMs} ms   ratio ${summary.seed.ratio}   same tree: ${sameTree}`);
    console.log(
      `  memory           run process, every object watched: peak ${memory.peakRssMb} MB (target <= ${peakTarget} MB); ${memory.afterSeedRssMb} MB 2 s after the seed; RSS ${memory.rssMb} MB after ${SETTLE_SECONDS} s idle${settledTarget ? ` (target <= ${settledTarget} MB)` : ''}`,
    );
    console.log(indent(lineText(memoryHistogram)));
    console.log(
      `  snapshot CLI     ${summary.snapshot.cliMs} ms for ${snapshotFiles} files (start to exit)   run CLI to seed commit ${summary.snapshot.runSeedMs} ms   ratio ${summary.snapshot.ratio}`,
    );
    console.log(`    last output: ${snapshotLast}`);
    for (const [label, figures] of [
      ['', summary.latency],
      [' ({shard})', summary.latencySharded],
    ]) {
      if (figures)
        console.log(
          `  API write -> commit${label}   ours p50 ${figures.oursP50Ms} ms, p99 ${figures.oursP99Ms} ms   plain watch p50 ${figures.plainWatchP50Ms} ms, p99 ${figures.plainWatchP99Ms} ms   p99 ratio ${figures.ratioP99} (target <= ${LATENCY_TARGET})`,
        );
    }
    // A missed target is printed with where its profile is written down.
    summary.missedTargets = [
      ...(summary.seed.ratioToBareList > SEED_TARGET ? ['seed vs bare LIST (docs/adr/0041 and 0012: per-object work a LIST does not do: normalize, render, hash, compress, commit)'] : []),
      ...(memory.peakRssMb > peakTarget || (settledTarget !== undefined && memory.rssMb > settledTarget)
        ? ['memory (docs/adr/0041 and 0012: the seed holds every message until its one commit, and V8 keeps the grown heap until its memory reducer runs)']
        : []),
      ...(summary.latency.ratioP99 > LATENCY_TARGET
        ? [
            `latency p99 (docs/adr/0041 and 0012: the commit is file writes${OBJECTS >= 100_000 ? ', here a 4.5 MB tree per commit: see latencySharded for the {shard} layout' : ''}; run packages/source-informer/bench/latency-stages.mjs for the stages)`,
          ]
        : []),
      ...((summary.latencySharded?.ratioP99 ?? 0) > LATENCY_TARGET ? ['latency p99 with the {shard} layout (docs/adr/0041 and 0012)'] : []),
    ];
    for (const missed of summary.missedTargets) console.log(`  target missed: ${missed}`);
    console.log(`BENCH_JSON ${JSON.stringify(summary)}`);
  } finally {
    await plane.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
