// What sink-git's apply holds at its fullest: heapUsed after gc when it stores the seed's objects
// (GitDirectory.writeObjects), against before the apply, for a seed of N ConfigMaps into a new branch.
// node --expose-gc scripts/seed-sink-held.mjs   (OBJECTS env)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelMetrics, renderYaml, silentLogger } from '@gitops-reverser/kernel';
import { DEFAULT_GIT_SINK_OPTIONS, GitSink } from '@gitops-reverser/sink-git/internal';
import { GitDirectory } from '../packages/sink-git/dist/git-directory.js';

const OBJECTS = Number(process.env.OBJECTS ?? 10000);
const message = (i) => {
  const identity = { clusterId: 'bench', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'bench', name: `cm-${i}` };
  const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'bench', labels: { app: `a${i % 50}` } }, data: { index: String(i), payload: 'x'.repeat(200) } };
  return {
    kind: 'change',
    target: 'live',
    event: { identity, operation: 'upsert', created: false, object, resourceVersion: String(i), observedAt: new Date().toISOString(), phase: 'seed', observedBy: 'watch', snapshotId: 's' },
    yaml: renderYaml(object),
  };
};
const mb = (bytes) => (bytes / 1e6).toFixed(1);
const stages = [];
const original = GitDirectory.prototype.writeObjects;
GitDirectory.prototype.writeObjects = async function (objects) {
  global.gc();
  stages.push(['before storing objects', process.memoryUsage()]);
  const result = await original.call(this, objects);
  return result;
};
const dir = mkdtempSync(join(tmpdir(), 'gr-sinkheld-'));
const sink = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, providers: [{ name: 'origin', url: join(dir, 'repo'), allowedBranches: ['main'] }] });
const target = { name: 'live', with: { provider: 'origin', branch: 'main', path: 'clusters/bench' }, keyPath: 'targets[0]' };
const partition = sink.planTargets([target]).partitions.get('live');
await sink.start({ logger: silentLogger(), metrics: new KernelMetrics(), targets: () => [{ target, partition }] });
const items = Array.from({ length: OBJECTS }, (_, i) => ({ message: message(i), attempt: 1 }));
items.push({ message: { kind: 'snapshot-end', target: 'live', snapshotId: 's', objectCount: OBJECTS, clusterId: 'bench', completedAt: new Date().toISOString() }, attempt: 1 });
global.gc();
const before = process.memoryUsage();
const outcomes = await sink.apply({ partition, items });
if (!outcomes.every((o) => o.status === 'applied')) throw new Error('not applied');
global.gc();
stages.push(['after the apply', process.memoryUsage()]);
for (const [name, usage] of stages) {
  console.log(
    `${name}: heap +${mb(usage.heapUsed - before.heapUsed)} MB (${Math.round((usage.heapUsed - before.heapUsed) / OBJECTS)} B/object), array buffers +${mb(usage.arrayBuffers - before.arrayBuffers)} MB`,
  );
}
rmSync(dir, { recursive: true, force: true });
