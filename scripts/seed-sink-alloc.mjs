// What sink-git's apply allocates for a seed of N ConfigMaps (one namespace): total bytes allocated
// (sampling heap profiler, collected objects included), grouped by function, and heapUsed after gc.
// node --expose-gc scripts/seed-sink-alloc.mjs   (OBJECTS env, TOP env)
import { Session } from 'node:inspector/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelMetrics, renderYaml, silentLogger } from '@gitops-reverser/kernel';
import { DEFAULT_GIT_SINK_OPTIONS, GitSink } from '@gitops-reverser/sink-git/internal';

const OBJECTS = Number(process.env.OBJECTS ?? 10000);
const TOP = Number(process.env.TOP ?? 25);
const message = (i, snapshotId) => {
  const identity = { clusterId: 'bench', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'bench', name: `cm-${i}` };
  const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'bench', labels: { app: `a${i % 50}` } }, data: { index: String(i), payload: 'x'.repeat(200) } };
  return {
    kind: 'change',
    target: 'live',
    event: { identity, operation: 'upsert', created: false, object, resourceVersion: String(i), observedAt: new Date().toISOString(), phase: 'seed', observedBy: 'watch', snapshotId },
    yaml: renderYaml(object),
  };
};
const dir = mkdtempSync(join(tmpdir(), 'gr-sinkalloc-'));
const sink = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, providers: [{ name: 'origin', url: join(dir, 'repo'), allowedBranches: ['main'] }] });
const target = { name: 'live', with: { provider: 'origin', branch: 'main', path: 'clusters/bench' }, keyPath: 'targets[0]' };
const partition = sink.planTargets([target]).partitions.get('live');
await sink.start({ logger: silentLogger(), metrics: new KernelMetrics(), targets: () => [{ target, partition }] });
// warm up with a small seed into another repository? one object on this one
if (process.env.WARM) await sink.apply({ partition, items: [{ message: message(0, 'warm'), attempt: 1 }] });
const items = Array.from({ length: OBJECTS }, (_, i) => ({ message: message(i, 'seed-1'), attempt: 1 }));
items.push({ message: { kind: 'snapshot-end', target: 'live', snapshotId: 'seed-1', objectCount: OBJECTS, clusterId: 'bench', completedAt: new Date().toISOString() }, attempt: 1 });
global.gc();
const before = process.memoryUsage().heapUsed;
const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
const t = performance.now();
const outcomes = await sink.apply({ partition, items });
const ms = Math.round(performance.now() - t);
const { profile } = await session.post('HeapProfiler.stopSampling');
if (!outcomes.every((o) => o.status === 'applied')) throw new Error('not applied');
const byFn = new Map();
let total = 0;
const walk = (node, stack) => {
  const name = `${node.callFrame.functionName || '(anon)'} ${node.callFrame.url.split('/').slice(-1)[0]}:${node.callFrame.lineNumber + 1}`;
  const self = node.selfSize;
  total += self;
  byFn.set(name, (byFn.get(name) ?? 0) + self);
  for (const child of node.children) walk(child, stack);
};
walk(profile.head, []);
global.gc();
const after = process.memoryUsage().heapUsed;
console.log(`apply ${ms} ms, allocated ${(total / 1e6).toFixed(1)} MB (${Math.round(total / OBJECTS)} B/object), kept after gc ${((after - before) / 1e6).toFixed(1)} MB`);
for (const [name, bytes] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`${(bytes / 1e6).toFixed(1).padStart(7)} MB  ${name}`);
rmSync(dir, { recursive: true, force: true });
