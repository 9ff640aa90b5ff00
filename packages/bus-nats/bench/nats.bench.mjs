// Benchmark: the NATS bus on a real nats-server (not a test).
//   1. publish -> JetStream ack throughput (events/s), one publisher awaiting each message (as a
//      source does) and 16 concurrent publishers; target >= 5,000/s on this machine;
//   2. end-to-end latency (source emit -> sink apply) through the kernel, memory bus vs NATS bus;
//   3. takeover time: a replica holding a partition is killed with SIGKILL; time until another
//      replica holds it (bounded by leaseSeconds).
// Prints results and BENCH_JSON lines.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRuntime, silentLogger, KernelMetrics } from '@gitops-reverser/kernel';
import { MemoryBus } from '@gitops-reverser/bus-memory/internal';
import { NatsBus } from '@gitops-reverser/bus-nats/internal';
import { NatsServer } from '@gitops-reverser/testkit';

const EVENTS = Number(process.env.BENCH_NATS_EVENTS ?? 20_000);
const LATENCY_EVENTS = Number(process.env.BENCH_NATS_LATENCY_EVENTS ?? 500);
const LEASE_SECONDS = 2;
const now = () => performance.now();
const stats = (times) => {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: +at(0.5).toFixed(2), p99: +at(0.99).toFixed(2) };
};
const busOptions = (stream, overrides = {}) => ({
  servers: [server.url],
  stream,
  subjectPrefix: stream.toLowerCase(),
  replicas: 1,
  capacityPerPartition: 1_000_000,
  maxBytes: 0,
  maxMessages: 0,
  duplicateWindowSeconds: 120,
  ackWaitSeconds: 30,
  leaseSeconds: LEASE_SECONDS,
  discoveryMs: 100,
  // Signed and checked as in production: the MAC's cost is part of what is measured.
  messageKeys: [{ id: 'bench', value: 'a-bench-key-of-more-than-thirty-two-bytes' }],
  allowUnsignedMessages: false,
  ...overrides,
});
const message = (n) => ({
  kind: 'change',
  target: 'live',
  event: {
    identity: { clusterId: 'bench', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'bench', name: `cm-${n}` },
    operation: 'upsert',
    created: false,
    object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${n}`, namespace: 'bench' }, data: { n: String(n), payload: 'x'.repeat(300) } },
    resourceVersion: String(n),
    observedAt: new Date().toISOString(),
    phase: 'live',
    observedBy: 'watch',
  },
  yaml: `n: ${n}\n`,
});

// A child process holding a partition's lease, for the takeover measurement.
if (process.argv[2] === 'holder') {
  const bus = new NatsBus(JSON.parse(process.argv[3]));
  await bus.start({ logger: silentLogger(), metrics: new KernelMetrics() });
  bus.consume((lease) => process.send?.({ holds: lease.partitionKey }));
  await bus.publish('takeover#main', message(1));
  await new Promise(() => undefined);
}

const server = new NatsServer();
await server.start();
const results = [];
try {
  // --- 1. publish throughput -------------------------------------------------------------------------
  {
    const bus = new NatsBus(busOptions('BENCH_PUBLISH'));
    await bus.start({ logger: silentLogger(), metrics: new KernelMetrics() });
    let start = now();
    for (let n = 0; n < EVENTS; n++) await bus.publish('publish#main', message(n));
    const sequential = EVENTS / ((now() - start) / 1000);
    start = now();
    await Promise.all(
      Array.from({ length: 16 }, async (_, w) => {
        for (let n = w; n < EVENTS; n += 16) await bus.publish(`publish-${w % 4}#main`, message(EVENTS + n));
      }),
    );
    const concurrent = EVENTS / ((now() - start) / 1000);
    await bus.stop();
    const summary = { benchmark: 'bus-nats-publish', events: EVENTS, sequentialPerSecond: Math.round(sequential), concurrent16PerSecond: Math.round(concurrent), targetPerSecond: 5000 };
    console.log(`publish -> JetStream ack: ${summary.sequentialPerSecond}/s one awaiting publisher, ${summary.concurrent16PerSecond}/s with 16 (target >= 5,000/s)`);
    console.log(`BENCH_JSON ${JSON.stringify(summary)}`);
    results.push(summary);
  }

  // --- 2. end-to-end latency through the kernel, memory vs NATS --------------------------------------
  {
    const measure = async (bus) => {
      let context;
      const arrived = new Map();
      const source = { start: async (c) => void (context = c), stop: async () => {}, health: () => ({ state: 'ready' }) };
      const sink = {
        batchPolicy: { windowMs: 0, maxBytes: 1 << 20 },
        planTargets: (targets) => ({ partitions: new Map(targets.map((t) => [t.name, { key: 'latency#main' }])), problems: [] }),
        start: async () => {},
        flush: async () => {},
        stop: async () => {},
        health: () => ({ state: 'ready' }),
        apply: async (batch) => {
          for (const item of batch.items) if (item.message.kind === 'change') arrived.set(item.message.event.identity.name, now());
          return batch.items.map(() => ({ status: 'applied' }));
        },
      };
      const runtime = await createRuntime({
        config: { targets: [{ name: 'live' }], rules: [{ target: 'live', resources: ['configmaps'] }] },
        logger: silentLogger(),
        adapters: { sources: [{ cluster: 'bench', instance: source }], sink: { instance: sink }, bus: { instance: bus } },
      });
      await runtime.start();
      const times = [];
      for (let n = 0; n < LATENCY_EVENTS; n++) {
        const name = `lat-${n}`;
        const start = now();
        await context.emit({ ...message(n).event, identity: { ...message(n).event.identity, name }, object: { ...message(n).event.object, metadata: { name, namespace: 'bench' } } });
        while (!arrived.has(name)) await new Promise((r) => setImmediate(r));
        times.push(arrived.get(name) - start);
      }
      await runtime.stop();
      return stats(times);
    };
    const memory = await measure(new MemoryBus({ capacityPerPartition: 10_000 }));
    const nats = await measure(new NatsBus(busOptions('BENCH_LATENCY')));
    const summary = { benchmark: 'bus-nats-latency', events: LATENCY_EVENTS, memoryBus: memory, natsBus: nats };
    console.log(`emit -> sink, ${LATENCY_EVENTS} events: memory bus p50 ${memory.p50} ms p99 ${memory.p99} ms; NATS bus p50 ${nats.p50} ms p99 ${nats.p99} ms`);
    console.log(`BENCH_JSON ${JSON.stringify(summary)}`);
    results.push(summary);
  }

  // --- 3. takeover after kill -9 ----------------------------------------------------------------------
  {
    const options = busOptions('BENCH_TAKEOVER');
    const child = fork(fileURLToPath(import.meta.url), ['holder', JSON.stringify(options)], { stdio: 'ignore' });
    await new Promise((resolve) => child.on('message', (m) => m.holds && resolve()));
    const bus = new NatsBus({ ...options, replicaId: 'bench-survivor' });
    await bus.start({ logger: silentLogger(), metrics: new KernelMetrics() });
    const taken = new Promise((resolve) => bus.consume((_lease) => resolve(now())));
    await new Promise((r) => setTimeout(r, 500)); // the survivor sees the partition held
    const killed = now();
    child.kill('SIGKILL');
    const seconds = ((await taken) - killed) / 1000;
    await bus.stop();
    const summary = { benchmark: 'bus-nats-takeover', leaseSeconds: LEASE_SECONDS, takeoverSeconds: +seconds.toFixed(2) };
    console.log(`takeover after kill -9 of the writing replica: ${summary.takeoverSeconds} s (leaseSeconds ${LEASE_SECONDS})`);
    console.log(`BENCH_JSON ${JSON.stringify(summary)}`);
  }
} finally {
  await server.dispose();
}
