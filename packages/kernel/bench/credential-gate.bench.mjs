// Benchmark: the credential gate's cost, gate on (warn, redact) vs off, in the same run.
//   BENCH_GATE_OBJECTS (default 10000) objects seeded: 70% ConfigMaps (a few config values and a
//     properties file), 30% Deployments (two containers, env lists); 1% hold a planted credential.
//   BENCH_GATE_CHANGES (default 2000) live changes afterwards with the "kernel" sink, BENCH_GATE_GIT_CHANGES
//     (default 300) with the "git" sink (a commit each: the git cost dwarfs everything else).
//   BENCH_GATE_REPEATS (default 3) runs per mode and sink; the median is reported.
// Two sinks: "kernel" (a sink that acks at once: the kernel's own path, where the gate's share is
// largest) and "git" (sink-git writing a local repository on disk: what a user runs). Modes run
// interleaved, so drift of a shared machine hits them alike. A third figure, "cpu", times the
// per-object work alone in this process: sanitize + render + hash (the baseline) vs the same plus the
// gate's scan, interleaved 5 times. Prints a BENCH_JSON line; asserts nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentHash, createDefaultSanitizer, KernelMetrics, parseConfig, renderYaml, Runtime, silentLogger } from '@gitops-reverser/kernel';
import { CredentialGate } from '@gitops-reverser/kernel/internal';
import { plantedCredentials } from '@gitops-reverser/testkit';

const OBJECTS = Number(process.env.BENCH_GATE_OBJECTS ?? 10_000);
const CHANGES = { kernel: Number(process.env.BENCH_GATE_CHANGES ?? 2_000), git: Number(process.env.BENCH_GATE_GIT_CHANGES ?? 300) };
const REPEATS = Number(process.env.BENCH_GATE_REPEATS ?? 3);
const MODES = ['off', 'warn', 'redact'];
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const planted = plantedCredentials(Math.max(1, Math.round(OBJECTS / 100)));

function object(i, revision) {
  const name = `obj-${i}`;
  const credential = i % 100 === 7 ? planted[Math.floor(i / 100) % planted.length] : undefined;
  if (i % 10 < 7) {
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: `ns-${i % 50}`, labels: { app: `app-${i % 40}`, tier: 'backend' }, resourceVersion: String(revision) },
      data: {
        LOG_LEVEL: 'info',
        FEATURE_FLAGS: 'search,checkout,recommendations',
        REVISION: String(revision),
        'application.properties': `server.port=8080\nspring.datasource.url=jdbc:postgresql://db-${i % 7}:5432/app\nmanagement.endpoints.web.exposure.include=health,info\ncache.ttl=${300 + (i % 60)}\n`,
        ...(credential ? { [credential.key]: credential.value } : {}),
      },
    };
  }
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: `ns-${i % 50}`, labels: { app: name }, resourceVersion: String(revision) },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'app',
              image: `registry.example.com/team/${name}:1.${revision}.0`,
              ports: [{ containerPort: 8080 }],
              env: [
                { name: 'LOG_LEVEL', value: 'info' },
                { name: 'DB_HOST', value: `db-${i % 7}.data.svc` },
                { name: 'DB_USER', value: 'app' },
                { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-credentials', key: 'password' } } },
                { name: 'CACHE_URL', value: 'redis://cache.data.svc:6379/0' },
                ...(credential ? [{ name: credential.key, value: credential.value }] : []),
              ],
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
            },
            { name: 'metrics', image: 'registry.example.com/exporter:2.1', args: ['--port=9100', '--path=/metrics'] },
          ],
        },
      },
    },
  };
}

function event(i, revision, phase) {
  const o = object(i, revision);
  const deployment = o.kind === 'Deployment';
  return {
    identity: {
      clusterId: 'bench',
      group: deployment ? 'apps' : '',
      version: 'v1',
      resource: deployment ? 'deployments' : 'configmaps',
      kind: o.kind,
      namespace: o.metadata.namespace,
      name: o.metadata.name,
    },
    operation: 'upsert',
    created: false,
    object: o,
    resourceVersion: String(revision),
    observedAt: new Date().toISOString(),
    phase,
    observedBy: 'watch',
  };
}

class DrivenSource {
  context;
  async start(context) {
    this.context = context;
  }
  async stop() {}
  health() {
    return { state: 'ready' };
  }
}

class AckingSink {
  batchPolicy = { windowMs: 0, maxBytes: 1 << 22 };
  planTargets(targets) {
    return { partitions: new Map(targets.map((t) => [t.name, { key: `p-${t.name}` }])), problems: [] };
  }
  async start() {}
  async apply(batch) {
    return batch.items.map(() => ({ status: 'applied' }));
  }
  async flush() {}
  async stop() {}
  health() {
    return { state: 'ready' };
  }
}

/** One run: a fresh runtime, the seed of OBJECTS objects, then CHANGES live changes; both timed to "written". */
async function run(sinkKind, mode) {
  const dir = mkdtempSync(join(tmpdir(), 'gr-bench-gate-'));
  writeFileSync(join(dir, 'redaction.key'), 'a bench key of more than thirty-two characters');
  const yaml = `apiVersion: gitops-reverser/v1alpha2
shutdown: { timeoutSeconds: 60 }
credentials: { mode: ${mode}, redactionKeyFile: ./redaction.key }
${sinkKind === 'git' ? `sink: { use: "@gitops-reverser/sink-git", with: { cacheDir: ./cache, providers: [ { name: local, url: ./state-repo } ] } }` : ''}
targets: [ { name: live${sinkKind === 'git' ? ', with: { provider: local, branch: main, path: clusters/bench }' : ''} } ]
rules:
  - { target: live, apiGroups: ["", apps], resources: [configmaps, deployments] }
`;
  const source = new DrivenSource();
  const runtime = await Runtime.create(parseConfig(yaml, join(dir, 'config.yaml')), {
    logger: silentLogger(),
    metrics: new KernelMetrics(),
    adapters: { sources: [{ cluster: 'bench', instance: source }], ...(sinkKind === 'kernel' ? { sink: { instance: new AckingSink() } } : {}) },
  });
  await runtime.start();
  const written = () => runtime.snapshot({ timeoutMs: 600_000, intervalMs: 5 });
  let start = process.hrtime.bigint();
  const snapshot = source.context.beginSnapshot();
  for (let i = 0; i < OBJECTS; i++) await snapshot.emit(event(i, 1, 'seed'));
  await snapshot.complete();
  await written();
  const seedMs = ms(start);
  start = process.hrtime.bigint();
  for (let n = 0; n < CHANGES[sinkKind]; n++) await source.context.emit(event((n * 7919) % OBJECTS, 2 + n, 'live'));
  await written();
  const liveMs = ms(start);
  await runtime.stop('bench done');
  rmSync(dir, { recursive: true, force: true });
  return { seedMs, liveMs };
}

const results = {};
for (const sinkKind of ['kernel', 'git']) {
  const samples = Object.fromEntries(MODES.map((mode) => [mode, { seedMs: [], liveMs: [] }]));
  // A first run warms up code paths and the disk; not counted.
  await run(sinkKind, 'off');
  for (let r = 0; r < REPEATS; r++) {
    for (const mode of MODES) {
      const { seedMs, liveMs } = await run(sinkKind, mode);
      samples[mode].seedMs.push(seedMs);
      samples[mode].liveMs.push(liveMs);
    }
  }
  const figure = (mode) => ({ seedMs: Math.round(median(samples[mode].seedMs)), liveMs: Math.round(median(samples[mode].liveMs)) });
  const off = figure('off');
  results[sinkKind] = Object.fromEntries(
    MODES.map((mode) => {
      const f = figure(mode);
      return [mode, { ...f, ...(mode === 'off' ? {} : { seedRatio: +(f.seedMs / off.seedMs).toFixed(3), liveRatio: +(f.liveMs / off.liveMs).toFixed(3) }) }];
    }),
  );
  console.log(`credential gate, ${sinkKind} sink: ${OBJECTS} objects seeded, ${CHANGES[sinkKind]} live changes (median of ${REPEATS})`);
  for (const mode of MODES) {
    const r = results[sinkKind][mode];
    console.log(`  ${mode.padEnd(6)} seed ${r.seedMs} ms, live ${r.liveMs} ms${r.seedRatio ? `   ratio to off: seed ${r.seedRatio}, live ${r.liveRatio}` : ''}`);
  }
}
/** The per-object work alone: the kernel's (sanitize, render, hash) with and without the gate's scan. */
function cpu() {
  const sanitizer = createDefaultSanitizer();
  const gate = new CredentialGate({ mode: 'warn', ignore: [] }, undefined, silentLogger(), new KernelMetrics());
  const events = Array.from({ length: OBJECTS }, (_, i) => event(i, 1, 'seed'));
  const pass = (scan) => {
    const start = process.hrtime.bigint();
    for (const e of events) {
      const sanitized = sanitizer.normalize(e.object, { event: e });
      if (scan) gate.findings(sanitized, e.identity);
      contentHash(renderYaml(sanitized));
    }
    return ms(start);
  };
  const off = [];
  const on = [];
  pass(true);
  for (let r = 0; r < 5; r++) {
    off.push(pass(false));
    on.push(pass(true));
  }
  const offMs = median(off);
  const onMs = median(on);
  return { offUsPerObject: +((offMs * 1000) / OBJECTS).toFixed(1), onUsPerObject: +((onMs * 1000) / OBJECTS).toFixed(1), ratio: +(onMs / offMs).toFixed(3) };
}
results.cpu = cpu();
console.log(`credential gate, per-object work in this process: ${results.cpu.offUsPerObject} us without the scan, ${results.cpu.onUsPerObject} us with it (ratio ${results.cpu.ratio})`);

const worst = Math.max(...['kernel', 'git'].flatMap((sink) => ['warn', 'redact'].flatMap((mode) => [results[sink][mode].seedRatio, results[sink][mode].liveRatio])));
const summary = { benchmark: 'credential-gate', objects: OBJECTS, changes: CHANGES, repeats: REPEATS, planted: planted.length, results, worstRatio: worst, target: 1.2, met: worst <= 1.2 };
console.log(`BENCH_JSON ${JSON.stringify(summary)}`);
