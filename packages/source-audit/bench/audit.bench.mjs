// Benchmark: the audit source (not a test).
//   1. ingest: audit.k8s.io EventLists posted over HTTPS to the receiver, through the kernel onto the
//      bus (acknowledged once there), events/s; BENCH_AUDIT_EVENTS (default 20,000) in batches of 100.
//   2. attribution latency: API write -> commit on the branch, at commitWindow 0, with the watch alone
//      (committer as author) and with the watch plus the audit webhook (the real author), on the same
//      real API server (audit batches every BENCH_AUDIT_BATCH_MS, default 200 ms); p50/p99 and the difference.
// Prints both and BENCH_JSON lines.
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, parseConfig, Runtime, silentLogger } from '@gitops-reverser/kernel';
import { AuditSource } from '@gitops-reverser/source-audit/internal';
import { ControlPlane, createPki, freePort, issueCertificate } from '@gitops-reverser/testkit';

const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 20_000);
const CHANGES = Number(process.env.BENCH_AUDIT_CHANGES ?? 60);
const BATCH_MS = Number(process.env.BENCH_AUDIT_BATCH_MS ?? 200);
const TOKEN = 'bench-audit-token-0123456789';
const now = () => performance.now();
const stats = (times) => {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: +at(0.5).toFixed(1), p99: +at(0.99).toFixed(1) };
};
const dir = mkdtempSync(join(tmpdir(), 'gr-bench-audit-'));
const pki = createPki(join(dir, 'pki'));
const serving = issueCertificate(pki, 'audit', { commonName: 'audit', sans: ['IP:127.0.0.1'] });
const tls = { certFile: serving.cert, keyFile: serving.key };

// --- 1. ingest throughput ---------------------------------------------------------------------------
{
  const port = await freePort();
  const source = new AuditSource({ listen: { host: '127.0.0.1', port }, tls, auth: { token: TOKEN }, mode: 'attribute', maxBodyBytes: 10 << 20, dedupeEntries: 100_000, actors: { users: {} } });
  const sink = {
    batchPolicy: { windowMs: 0, maxBytes: 1 << 20 },
    planTargets: (targets) => ({ partitions: new Map(targets.map((t) => [t.name, { key: 'bench' }])), problems: [] }),
    start: async () => {},
    apply: async (batch) => batch.items.map(() => ({ status: 'applied' })),
    flush: async () => {},
    stop: async () => {},
    health: () => ({ state: 'ready' }),
  };
  const runtime = await createRuntime({
    config: { targets: [{ name: 'live' }], rules: [{ target: 'live', resources: ['configmaps'] }] },
    logger: silentLogger(),
    adapters: { sources: [{ cluster: 'bench', instance: source }], sink: { instance: sink } },
  });
  await runtime.start();
  const agent = new Agent({ keepAlive: true, maxSockets: 4, ca: readFileSync(pki.caCert) });
  const post = (body) =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/audit-webhook/bench', method: 'POST', agent, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const event = (n) => ({
    auditID: `bench-${n}`,
    stage: 'ResponseComplete',
    verb: 'update',
    user: { username: `user-${n % 20}`, groups: ['devs'] },
    stageTimestamp: new Date().toISOString(),
    objectRef: { resource: 'configmaps', namespace: 'bench', name: `cm-${n % 500}`, apiVersion: 'v1' },
    responseStatus: { code: 200 },
    responseObject: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `cm-${n % 500}`, namespace: 'bench', resourceVersion: String(1000 + n) },
      data: { n: String(n), payload: 'x'.repeat(300) },
    },
  });
  const batches = [];
  for (let n = 0; n < EVENTS; n += 100)
    batches.push(JSON.stringify({ apiVersion: 'audit.k8s.io/v1', kind: 'EventList', items: Array.from({ length: Math.min(100, EVENTS - n) }, (_, i) => event(n + i)) }));
  const start = now();
  for (let i = 0; i < batches.length; i += 4) await Promise.all(batches.slice(i, i + 4).map(post));
  const seconds = (now() - start) / 1000;
  await runtime.stop();
  agent.destroy();
  const summary = { benchmark: 'source-audit-ingest', events: EVENTS, seconds: +seconds.toFixed(2), eventsPerSecond: Math.round(EVENTS / seconds) };
  console.log(`audit ingest: ${EVENTS} events in ${summary.seconds} s over HTTPS into the bus: ${summary.eventsPerSecond} events/s`);
  console.log(`BENCH_JSON ${JSON.stringify(summary)}`);
}

// --- 2. attribution latency on a real API server --------------------------------------------------------
{
  const auditPort = await freePort();
  const plane = await ControlPlane.start({
    pki,
    dataDir: join(dir, 'plane'),
    audit: { url: `https://127.0.0.1:${auditPort}/audit-webhook/bench`, caFile: pki.caCert, token: TOKEN, batchMaxWaitMs: BATCH_MS },
  });
  try {
    await plane.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } } });
    writeFileSync(join(dir, 'kubeconfig'), plane.kubeconfigText('admin'));
    const run = async (label, withAudit) => {
      const repo = join(dir, `repo-${label}`);
      const audit = withAudit
        ? `\n  - { use: "@gitops-reverser/source-audit", cluster: bench, with: { listen: { port: ${auditPort} }, tls: { certFile: "${tls.certFile}", keyFile: "${tls.keyFile}" }, auth: { token: ${TOKEN} } } }`
        : '';
      const runtime = await Runtime.create(
        parseConfig(
          `apiVersion: gitops-reverser/v1alpha2
sources:
  - { use: "@gitops-reverser/source-informer", cluster: bench, with: { kubeconfig: ./kubeconfig } }${audit}
sink: { use: "@gitops-reverser/sink-git", with: { commitWindow: 0, providers: [ { name: local, url: ${repo} } ] } }
targets: [ { name: live, with: { provider: local, branch: main, path: bench } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [bench], resources: [configmaps] } ]
`,
          join(dir, 'config.yaml'),
        ),
        { logger: silentLogger() },
      );
      await runtime.start();
      const ref = join(repo, 'refs/heads/main');
      const head = () => {
        try {
          return readFileSync(ref, 'utf8').trim();
        } catch {
          return '';
        }
      };
      const times = [];
      for (let n = 0; n < CHANGES; n++) {
        const before = head();
        const start = now();
        const response = await plane.request('POST', '/api/v1/namespaces/bench/configmaps', {
          user: 'alice',
          body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${label}-${n}` }, data: { n: String(n) } },
        });
        if (response.status >= 300) throw new Error(response.body);
        while (head() === before) await new Promise((r) => setTimeout(r, 1));
        times.push(now() - start);
      }
      const authors = new Set((await import('node:child_process')).execFileSync('git', ['-C', repo, 'log', '-20', '--format=%an', 'main'], { encoding: 'utf8' }).trim().split('\n'));
      await runtime.stop();
      return { ...stats(times), authors: [...authors] };
    };
    const watchOnly = await run('watch', false);
    const attributed = await run('audit', true);
    const summary = {
      benchmark: 'source-audit-attribution',
      changes: CHANGES,
      auditBatchMaxWaitMs: BATCH_MS,
      watchOnly: { p50Ms: watchOnly.p50, p99Ms: watchOnly.p99, authors: watchOnly.authors },
      withAttribution: { p50Ms: attributed.p50, p99Ms: attributed.p99, authors: attributed.authors },
      addedP50Ms: +(attributed.p50 - watchOnly.p50).toFixed(1),
      addedP99Ms: +(attributed.p99 - watchOnly.p99).toFixed(1),
    };
    console.log(`attribution: API write -> commit, ${CHANGES} changes, audit batches every ${BATCH_MS} ms`);
    console.log(`  watch alone         p50 ${watchOnly.p50} ms  p99 ${watchOnly.p99} ms  (authors: ${watchOnly.authors.join(', ')})`);
    console.log(`  watch + audit       p50 ${attributed.p50} ms  p99 ${attributed.p99} ms  (authors: ${attributed.authors.join(', ')})`);
    console.log(`  added by waiting for the author: p50 ${summary.addedP50Ms} ms, p99 ${summary.addedP99Ms} ms (bounded by the webhook's batch wait)`);
    console.log(`BENCH_JSON ${JSON.stringify(summary)}`);
  } finally {
    await plane.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
