// Where the time of one live change goes, API write -> commit, stage by stage (not part of
// `npm run bench`; run it by hand: node packages/source-informer/bench/latency-stages.mjs).
// Timestamps are taken at stage boundaries by wrapping the stage functions in this process; the
// runtime is the same in-process Runtime the informer benchmark measures (commitWindow 0, local repo).
// BENCH_OBJECTS (default 10000) ConfigMaps in one namespace, BENCH_CHANGES (default 200) changes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, silentLogger } from '@gitops-reverser/kernel';
import { KubeClient } from '@gitops-reverser/source-informer/internal';
import { GitSink } from '@gitops-reverser/sink-git/internal';
import { MemoryBus } from '@gitops-reverser/bus-memory/internal';
import { ControlPlane } from '@gitops-reverser/testkit';
import { apiClient, branchReader, createConfigMaps, inProcessConfig, openPlainWatch } from './live-fixture.mjs';

const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 10_000);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 200);
const now = () => performance.now();
const marks = new Map(); // marker -> { stage: time }
const mark = (marker, stage) => {
  if (!marker) return;
  const entry = marks.get(marker) ?? {};
  entry[stage] ??= now();
  marks.set(marker, entry);
};
const markerOf = (object) => object?.data?.marker;

// Stage boundaries: the informer has parsed the watch event; the kernel has published to the bus;
// the sink starts and ends its apply (commit written).
const watch = KubeClient.prototype.watch;
KubeClient.prototype.watch = function (path, onEvent, signal) {
  return watch.call(
    this,
    path,
    (event) => {
      mark(markerOf(event.object), 'informerParsed');
      return onEvent(event);
    },
    signal,
  );
};
const publish = MemoryBus.prototype.publish;
MemoryBus.prototype.publish = async function (key, message, options) {
  const result = await publish.call(this, key, message, options);
  if (message.kind === 'change') mark(markerOf(message.event.object), 'published');
  return result;
};
const apply = GitSink.prototype.apply;
GitSink.prototype.apply = async function (batch) {
  const markers = batch.items.map((item) => (item.message.kind === 'change' ? markerOf(item.message.event.object) : undefined));
  for (const m of markers) mark(m, 'sinkStart');
  const result = await apply.call(this, batch);
  for (const m of markers) mark(m, 'sinkEnd');
  return result;
};

const plane = await ControlPlane.start();
const dir = mkdtempSync(join(tmpdir(), 'gr-latency-'));
try {
  const api = apiClient(plane);
  await createConfigMaps(api, 'bench', OBJECTS);
  const repo = join(dir, 'repo');
  const config = inProcessConfig(plane, dir, repo, 'bench');
  const readRef = branchReader(repo);
  const runtime = await Runtime.create(config, { logger: silentLogger() });
  await runtime.start();
  while (!readRef()) await new Promise((r) => setTimeout(r, 5));

  // A plain watch in this process: the floor.
  const closeWatch = await openPlainWatch(plane, api, 'bench', (marker, at) => {
    (marks.get(marker) ?? marks.set(marker, {}).get(marker)).plainWatch ??= at;
  });

  for (let n = 0; n < CHANGES; n++) {
    const before = readRef();
    const marker = `m${n}`;
    mark(marker, 'sent');
    await api('PATCH', `/api/v1/namespaces/bench/configmaps/cm-${(n * 37) % OBJECTS}`, { data: { marker } });
    mark(marker, 'apiAnswered');
    while (readRef() === before) await new Promise((r) => setImmediate(r));
    mark(marker, 'refSeen');
    while (!marks.get(marker)?.plainWatch) await new Promise((r) => setTimeout(r, 1));
  }
  closeWatch();
  await runtime.stop('done');

  const stages = [
    ['sent', 'plainWatch', 'API write -> plain watch event (the floor)'],
    ['sent', 'informerParsed', 'API write -> informer parsed the event'],
    ['informerParsed', 'published', 'informer parse -> on the bus (normalize, YAML, ingest)'],
    ['published', 'sinkStart', 'bus -> sink.apply starts (worker fetch)'],
    ['sinkStart', 'sinkEnd', 'sink.apply (commit written, ref moved)'],
    ['sinkEnd', 'refSeen', 'ref moved -> seen by this script (polling)'],
    ['sent', 'refSeen', 'API write -> commit (total)'],
  ];
  const q = (values, p) => values.sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))];
  const summary = {};
  console.log(`latency stages: ${OBJECTS} ConfigMaps in one namespace, ${CHANGES} changes, commitWindow 0, local repository`);
  for (const [from, to, label] of stages) {
    const values = [...marks.values()].filter((m) => m[from] !== undefined && m[to] !== undefined).map((m) => m[to] - m[from]);
    summary[`${from}->${to}`] = { p50: +q(values, 0.5).toFixed(2), p99: +q(values, 0.99).toFixed(2), mean: +(values.reduce((a, b) => a + b, 0) / values.length).toFixed(2) };
    console.log(
      `  ${label.padEnd(58)} p50 ${String(summary[`${from}->${to}`].p50).padStart(7)} ms   p99 ${String(summary[`${from}->${to}`].p99).padStart(7)} ms   mean ${summary[`${from}->${to}`].mean} ms`,
    );
  }
  console.log(`BENCH_JSON ${JSON.stringify({ benchmark: 'latency-stages', objects: OBJECTS, changes: CHANGES, stages: summary })}`);
} finally {
  await plane.stop();
  rmSync(dir, { recursive: true, force: true });
}
