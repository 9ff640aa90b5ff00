import { MemoryBus } from '@gitops-reverser/bus-memory/internal';
import { afterEach, describe, expect, it } from 'vitest';
import { KernelMetrics, Runtime, parseConfig, silentLogger } from '../src/index.js';
import type { AdapterHealth, BatchPolicy, ChangeEvent, KubeObject, Normalizer, Sink, SinkBatch, SinkOutcome, Source, SourceContext, TargetConfig, TargetPlan } from '@gitops-reverser/contract';

const CONFIG = `
apiVersion: gitops-reverser/v1alpha2
server: { port: 0, host: 127.0.0.1, enabled: true }
shutdown: { timeoutSeconds: 5 }
targets:
  - { name: live, with: { folder: clusters/dev } }
  - { name: infra, with: { folder: infra } }
rules:
  - { target: live, scope: Namespaced, namespaces: [default], apiGroups: [""], resources: [configmaps] }
  - { target: infra, scope: Cluster, resources: [namespaces] }
`;

/** A source the test drives by hand. */
class TestSource implements Source {
  context: SourceContext | undefined;
  stopped = false;
  updateSelection?: Source['updateSelection'];
  async start(context: SourceContext) {
    this.context = context;
  }
  async stop() {
    this.stopped = true;
  }
  health(): AdapterHealth {
    return this.stopped ? { state: 'stopped' } : { state: 'ready' };
  }
  get ctx(): SourceContext {
    if (!this.context) throw new Error('source not started');
    return this.context;
  }
}

/** A sink that records batches; its behaviour per call can be scripted. */
class RecordingSink implements Sink {
  batches: SinkBatch[] = [];
  script: ((batch: SinkBatch) => SinkOutcome[] | undefined)[] = [];
  delayMs = 0;
  flushed = false;
  constructor(public batchPolicy: BatchPolicy = { windowMs: 0, maxBytes: 1 << 20 }) {}
  /** Both targets write one partition, as two folders of one branch would. */
  planTargets(targets: readonly TargetConfig[]): TargetPlan {
    return { partitions: new Map(targets.map((t) => [t.name, { key: '/repos/state#main' }])), problems: [] };
  }
  async start() {}
  async apply(batch: SinkBatch) {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    this.batches.push(batch);
    const scripted = this.script.shift()?.(batch);
    return scripted ?? batch.items.map((): SinkOutcome => ({ status: 'applied' }));
  }
  async flush() {
    this.flushed = true;
  }
  async stop() {}
  health(): AdapterHealth {
    return { state: 'ready' };
  }
  get items() {
    return this.batches.flatMap((b) => b.items.map((i) => i.message));
  }
}

function configMap(name: string, data: Record<string, string>, extra: Partial<KubeObject> = {}, namespace = 'default'): ChangeEvent {
  const object: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, resourceVersion: '7', uid: 'u-1', managedFields: [] }, data, ...extra };
  return {
    identity: { clusterId: 'dev', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace, name },
    operation: 'upsert',
    created: true,
    object,
    resourceVersion: '7',
    observedAt: new Date().toISOString(),
    phase: 'live',
    observedBy: 'watch',
    actor: { username: 'alice@example.com', groups: ['devs'] },
  };
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.stop('test done');
  runtime = undefined;
});

async function startRuntime(options: { sink?: RecordingSink; normalizers?: Normalizer[]; capacity?: number } = {}) {
  const source = new TestSource();
  const sink = options.sink ?? new RecordingSink();
  const metrics = new KernelMetrics();
  runtime = await Runtime.create(parseConfig(CONFIG, '/tmp/pipeline.yaml'), {
    logger: silentLogger(),
    metrics,
    adapters: {
      sources: [{ cluster: 'dev', instance: source }],
      sink: { instance: sink },
      bus: { instance: new MemoryBus({ capacityPerPartition: options.capacity ?? 100 }) },
      ...(options.normalizers ? { normalizers: options.normalizers.map((instance) => ({ instance })) } : {}),
    },
  });
  await runtime.start();
  return { source, sink, metrics, runtime };
}

async function metricValue(metrics: KernelMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return Number(value?.value ?? 0);
}

describe('pipeline: source -> kernel -> memory bus -> sink', () => {
  it('delivers a sanitized upsert with its actor and its rendered text to the routed target', async () => {
    const { source, sink } = await startRuntime();
    await source.ctx.emit(configMap('settings', { color: 'blue' }, { status: { x: 1 } }));
    await until(() => sink.items.length === 1, 'the change');
    const message = sink.items[0];
    expect(message?.kind).toBe('change');
    if (message?.kind !== 'change') return;
    expect(message.target).toBe('live');
    expect(message.event.object).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'default' }, data: { color: 'blue' } });
    expect(message.event.actor?.username).toBe('alice@example.com');
    expect(message.yaml).toBe('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  color: blue\n');
    expect(sink.batches[0]?.partition.key).toBe('/repos/state#main');
  });

  it('turns a status-only or server-metadata-only change into a no-op', async () => {
    const { source, sink, metrics } = await startRuntime();
    await source.ctx.emit(configMap('a', { k: 'v' }));
    await source.ctx.emit(configMap('a', { k: 'v' }, { status: { phase: 'changed' }, metadata: { name: 'a', namespace: 'default', resourceVersion: '8' } }));
    await source.ctx.emit(configMap('a', { k: 'w' }));
    await until(() => sink.items.length === 2, 'two changes');
    await new Promise((r) => setTimeout(r, 100));
    expect(sink.items).toHaveLength(2);
    expect(await metricValue(metrics, 'gitops_reverser_events_suppressed_total', { reason: 'unchanged' })).toBe(1);
  });

  it('drops what no rule selects and counts it', async () => {
    const { source, sink, metrics } = await startRuntime();
    await source.ctx.emit(configMap('elsewhere', { k: 'v' }, {}, 'kube-system'));
    await source.ctx.emit(configMap('here', { k: 'v' }));
    await until(() => sink.items.length === 1, 'the routed change');
    expect(await metricValue(metrics, 'gitops_reverser_events_suppressed_total', { reason: 'unrouted' })).toBe(1);
  });

  it('sends deletes without the object, and a re-create after a delete is not a no-op', async () => {
    const { source, sink } = await startRuntime();
    const created = configMap('gone', { k: 'v' });
    await source.ctx.emit(created);
    await source.ctx.emit({ ...created, operation: 'delete', created: false });
    await source.ctx.emit(created);
    await until(() => sink.items.length === 3, 'create, delete, create');
    const ops = sink.items.map((m) => (m.kind === 'change' ? [m.event.operation, m.event.object === undefined] : []));
    expect(ops).toEqual([
      ['upsert', false],
      ['delete', true],
      ['upsert', false],
    ]);
  });

  it('hands a snapshot to the sink as one batch: its seed events plus the marker, per target', async () => {
    const { source, sink } = await startRuntime();
    const snapshot = source.ctx.beginSnapshot();
    await snapshot.emit(configMap('s1', { n: '1' }));
    await new Promise((r) => setTimeout(r, 700)); // longer than the worker's idle wait: it must hold, not apply
    await snapshot.emit(configMap('s2', { n: '2' }));
    await snapshot.emit({
      ...configMap('shop', {}),
      identity: { clusterId: 'dev', group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespace: '', name: 'shop' },
      object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    });
    await snapshot.complete();
    await until(() => sink.items.filter((m) => m.kind === 'snapshot-end').length === 2, 'both markers');
    expect(sink.batches).toHaveLength(1);
    const batch = sink.batches[0]?.items.map((i) => i.message) ?? [];
    expect(batch.map((m) => (m.kind === 'snapshot-end' ? `marker:${m.target}:${m.objectCount}` : `${m.target}:${m.event.identity.name}:${m.event.phase}`))).toEqual([
      'live:s1:seed',
      'live:s2:seed',
      'infra:shop:seed',
      'marker:live:2',
      'marker:infra:1',
    ]);
  });

  it('routes a snapshot only to the targets it covers, and marks partial targets', async () => {
    const { source, sink } = await startRuntime();
    const snapshot = source.ctx.beginSnapshot(['infra']);
    await snapshot.emit(configMap('not-for-infra', { k: 'v' }));
    await snapshot.emit({
      ...configMap('ns1', {}),
      identity: { clusterId: 'dev', group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespace: '', name: 'ns1' },
      object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns1' } },
    });
    await snapshot.complete({ partialTargets: ['infra'] });
    await until(() => sink.items.some((m) => m.kind === 'snapshot-end'), 'the marker');
    expect(sink.items.map((m) => (m.kind === 'snapshot-end' ? `marker:${m.target}:${m.objectCount}:${m.partial}` : `${m.target}:${m.event.identity.name}`))).toEqual([
      'infra:ns1',
      'marker:infra:1:true',
    ]);
  });

  it('lets seeds through even when the content is unchanged (they are the reference state)', async () => {
    const { source, sink } = await startRuntime();
    await source.ctx.emit(configMap('same', { k: 'v' }));
    const snapshot = source.ctx.beginSnapshot(['live']);
    await snapshot.emit(configMap('same', { k: 'v' }));
    await snapshot.complete();
    await until(() => sink.items.length === 3, 'change, seed and marker');
  });

  it('groups changes that arrive within the sink commit window into one batch', async () => {
    const { source, sink } = await startRuntime({ sink: new RecordingSink({ windowMs: 1500, maxBytes: 1 << 20 }) });
    for (const name of ['w1', 'w2', 'w3']) {
      await source.ctx.emit(configMap(name, { k: name }));
      await new Promise((r) => setTimeout(r, 50));
    }
    await until(() => sink.items.length === 3, 'three changes');
    expect(sink.batches).toHaveLength(1);
  });

  it('closes the window early at the byte limit', async () => {
    const { source, sink } = await startRuntime({ sink: new RecordingSink({ windowMs: 60_000, maxBytes: 10 }) });
    await source.ctx.emit(configMap('big', { k: 'x'.repeat(100) }));
    await until(() => sink.items.length === 1, 'the change despite a long window');
  });

  it('retries what the sink could not write, in order, with attempt numbers', async () => {
    const sink = new RecordingSink();
    sink.script.push((batch) => batch.items.map((): SinkOutcome => ({ status: 'retry', reason: 'remote down', delayMs: 50 })));
    const { source } = await startRuntime({ sink });
    await source.ctx.emit(configMap('r1', { k: '1' }));
    await until(() => sink.batches.length === 2, 'the redelivery');
    await source.ctx.emit(configMap('r2', { k: '2' }));
    await until(() => sink.items.filter((m) => m.kind === 'change' && m.event.identity.name === 'r2').length === 1, 'the later change');
    expect(sink.batches[0]?.items.map((i) => i.attempt)).toEqual([1]);
    expect(sink.batches[1]?.items.map((i) => i.attempt)).toEqual([2]);
    const names = sink.items.map((m) => (m.kind === 'change' ? m.event.identity.name : ''));
    expect(names).toEqual(['r1', 'r1', 'r2']);
  });

  it('retries everything after a retried item so one partition stays in order', async () => {
    const sink = new RecordingSink({ windowMs: 300, maxBytes: 1 << 20 });
    sink.script.push((batch) => batch.items.map((_, i): SinkOutcome => (i === 0 ? { status: 'applied' } : i === 1 ? { status: 'retry', reason: 'conflict', delayMs: 10 } : { status: 'applied' })));
    const { source } = await startRuntime({ sink });
    for (const name of ['o1', 'o2', 'o3']) await source.ctx.emit(configMap(name, { k: name }));
    await until(() => sink.batches.length === 2, 'the retry batch');
    expect(sink.batches[1]?.items.map((i) => (i.message.kind === 'change' ? `${i.message.event.identity.name}#${i.attempt}` : ''))).toEqual(['o2#2', 'o3#2']);
  });

  it('reports a rejected item and goes on', async () => {
    const sink = new RecordingSink();
    sink.script.push((batch) => batch.items.map((): SinkOutcome => ({ status: 'rejected', reason: 'path escapes the target' })));
    const { source, metrics } = await startRuntime({ sink });
    await source.ctx.emit(configMap('bad', { k: '1' }));
    await source.ctx.emit(configMap('good', { k: '1' }));
    await until(() => sink.items.length === 2, 'both');
    expect(await metricValue(metrics, 'gitops_reverser_sink_outcomes_total', { status: 'rejected' })).toBe(1);
  });

  it('refuses an invalid event from a source without stopping the pipeline', async () => {
    const { source, sink, metrics } = await startRuntime();
    const broken = { ...configMap('x', {}), identity: { ...configMap('x', {}).identity, name: '' } };
    await source.ctx.emit(broken);
    await source.ctx.emit({ ...configMap('y', {}), object: undefined });
    await source.ctx.emit(configMap('z', { ok: 'yes' }));
    await until(() => sink.items.length === 1, 'the valid change');
    expect(await metricValue(metrics, 'gitops_reverser_events_refused_total', { code: 'GR_ERR_EVENT_INVALID', adapter: 'TestSource' })).toBe(2);
  });

  it('refuses an object nested deeper than the limit with a code, and a snapshot containing one still completes', async () => {
    const { source, sink, metrics } = await startRuntime();
    let nested: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 5000; i++) nested = { a: nested }; // deep enough to exhaust the stack when rendered
    const snapshot = source.ctx.beginSnapshot(['live']);
    await snapshot.emit({ ...configMap('deep', {}), object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'deep', namespace: 'default' }, data: nested } });
    await snapshot.emit(configMap('shallow', { ok: 'yes' }));
    await snapshot.complete();
    await until(() => sink.items.length === 2, 'the shallow seed event and the marker');
    expect(sink.items.map((m) => (m.kind === 'change' ? m.event.identity.name : `end${m.partial ? ' (partial)' : ''}`))).toEqual(['shallow', 'end (partial)']);
    expect(await metricValue(metrics, 'gitops_reverser_events_refused_total', { code: 'GR_ERR_EVENT_TOO_DEEP', adapter: 'kernel' })).toBe(1);
  });

  it('fails closed for Secrets: refused without an encoder or a plaintext opt-in, written with either', async () => {
    const secret = (name: string): ChangeEvent => ({
      ...configMap(name, {}),
      identity: { clusterId: 'dev', group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespace: 'default', name },
      object: { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, data: { password: 'aHVudGVyMg==' } },
    });
    const rules =
      'rules:\n  - { target: live, scope: Namespaced, namespaces: [default], resources: [secrets] }\n  - { target: infra, scope: Namespaced, namespaces: [default], resources: [secrets], plaintextSecrets: true }\n';
    const config = parseConfig(CONFIG.replace(/rules:[\s\S]*$/, rules), '/tmp/pipeline.yaml');
    const source = new TestSource();
    const sink = new RecordingSink();
    const metrics = new KernelMetrics();
    runtime = await Runtime.create(config, {
      logger: silentLogger(),
      metrics,
      adapters: { sources: [{ cluster: 'dev', instance: source }], sink: { instance: sink }, bus: { instance: new MemoryBus({ capacityPerPartition: 10 }) } },
    });
    await runtime.start();
    await source.ctx.emit(secret('db'));
    await until(() => sink.items.length === 1, 'the opted-in target');
    expect(sink.items.map((m) => m.target)).toEqual(['infra']);
    expect(await metricValue(metrics, 'gitops_reverser_events_refused_total', { code: 'GR_ERR_SECRET_PLAINTEXT', adapter: 'secret-guard' })).toBe(1);
    await runtime.stop();
    // An encoder that protects Secrets lets them through to every target.
    const protector: Normalizer = { name: 'fake-encrypt', phase: 'encode', normalize: (o) => ({ ...o, data: { password: 'ENC[...]' } }), protects: (id) => id.resource === 'secrets' };
    const sink2 = new RecordingSink();
    const source2 = new TestSource();
    runtime = await Runtime.create(config, {
      logger: silentLogger(),
      metrics: new KernelMetrics(),
      adapters: { sources: [{ cluster: 'dev', instance: source2 }], sink: { instance: sink2 }, normalizers: [{ instance: protector }], bus: { instance: new MemoryBus({ capacityPerPartition: 10 }) } },
    });
    await runtime.start();
    await source2.ctx.emit(secret('db'));
    await until(() => sink2.items.length === 2, 'both targets');
    expect(sink2.items.map((m) => m.target).sort()).toEqual(['infra', 'live']);
  });

  it('authors a watch change with the actor of its audit fact, whichever arrives first; without one it waits attribution.waitMs, then the committer', async () => {
    const config = parseConfig(CONFIG.replace('shutdown: { timeoutSeconds: 5 }', 'shutdown: { timeoutSeconds: 5 }\nattribution: { waitMs: 400 }'), '/tmp/pipeline.yaml');
    const source = Object.assign(new TestSource(), { attributes: true });
    const sink = new RecordingSink();
    const metrics = new KernelMetrics();
    runtime = await Runtime.create(config, {
      logger: silentLogger(),
      metrics,
      adapters: { sources: [{ cluster: 'dev', instance: source }], sink: { instance: sink }, bus: { instance: new MemoryBus({ capacityPerPartition: 100 }) } },
    });
    await runtime.start();
    const watch = (name: string, rv: string): ChangeEvent => {
      const { actor: _none, ...event } = configMap(name, { k: name });
      return { ...event, resourceVersion: rv };
    };
    const fact = (name: string, rv: string, username: string) => ({
      identity: watch(name, rv).identity,
      operation: 'upsert' as const,
      resourceVersion: rv,
      actor: { username, impersonatedBy: { username: 'admin' } },
      by: 'audit',
      id: `audit-${name}`,
      at: new Date().toISOString(),
    });
    const actorOf = (name: string) => {
      const message = sink.items.find((m) => m.kind === 'change' && m.event.identity.name === name);
      return message?.kind === 'change' ? message.event.actor : undefined;
    };
    // Watch first, fact a little later.
    await source.ctx.emit(watch('late-fact', '11'));
    await new Promise((r) => setTimeout(r, 100));
    await source.ctx.attribute(fact('late-fact', '11', 'jane'));
    // Fact first, watch later.
    await source.ctx.attribute(fact('early-fact', '12', 'bob'));
    await source.ctx.emit(watch('early-fact', '12'));
    // No fact at all.
    const started = Date.now();
    await source.ctx.emit(watch('no-fact', '13'));
    await until(() => sink.items.length === 3, 'three changes', 5000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(actorOf('late-fact')).toEqual({ username: 'jane', impersonatedBy: { username: 'admin' } });
    expect(actorOf('early-fact')?.username).toBe('bob');
    expect(actorOf('no-fact')).toBeUndefined();
    expect(sink.items.every((m) => m.kind === 'change')).toBe(true);
    expect(await metricValue(metrics, 'gitops_reverser_attribution_total', { result: 'hit' })).toBe(2);
    expect(await metricValue(metrics, 'gitops_reverser_attribution_total', { result: 'miss' })).toBe(1);
  });

  it('never writes an older state over a newer one: a lagging seed event arrives superseded, a lagging live one is dropped', async () => {
    const { source, sink } = await startRuntime();
    await source.ctx.emit({ ...configMap('fresh', { v: 'new' }), resourceVersion: '20' });
    await until(() => sink.items.length === 1, 'the live change');
    // Another replica's snapshot, taken before that change, comes later.
    const snapshot = source.ctx.beginSnapshot(['live']);
    await snapshot.emit({ ...configMap('fresh', { v: 'old' }), resourceVersion: '10' });
    await snapshot.complete();
    await source.ctx.emit({ ...configMap('fresh', { v: 'older' }), resourceVersion: '15' });
    await source.ctx.emit({ ...configMap('fresh', { v: 'newest' }), resourceVersion: '30' });
    await until(() => sink.items.some((m) => m.kind === 'change' && m.event.resourceVersion === '30'), 'the newest change');
    const seen = sink.items.map((m) => (m.kind === 'change' ? `${m.event.resourceVersion}${m.superseded ? ' superseded' : ''}` : 'marker'));
    expect(seen).toEqual(['20', '10 superseded', 'marker', '30']);
  });

  it('judges staleness within a batch too: a lagging seed behind a newer live change in the same batch arrives superseded, a lagging live change behind a newer seed is dropped', async () => {
    // A window long enough that the live change, the lagging snapshot and its end form one batch,
    // as they do when another replica's seeds follow the live burst closely (ADR 0040).
    const { source, sink } = await startRuntime({ sink: new RecordingSink({ windowMs: 400, maxBytes: 1 << 20 }) });
    await source.ctx.emit({ ...configMap('fresh', { v: 'new' }), resourceVersion: '20' });
    const snapshot = source.ctx.beginSnapshot(['live']);
    await snapshot.emit({ ...configMap('fresh', { v: 'old' }), resourceVersion: '10' });
    await snapshot.emit({ ...configMap('other', { v: 'seeded' }), resourceVersion: '25' });
    await source.ctx.emit({ ...configMap('other', { v: 'lagging' }), resourceVersion: '22' });
    await snapshot.complete({ resourceVersions: { '/configmaps': '25' } });
    await until(() => sink.items.some((m) => m.kind === 'snapshot-end'), 'the marker');
    expect(sink.batches).toHaveLength(1);
    const seen = sink.items.map((m) => (m.kind === 'change' ? `${m.event.identity.name} ${m.event.resourceVersion}${m.superseded ? ' superseded' : ''}` : 'marker'));
    expect(seen).toEqual(['fresh 20', 'fresh 10 superseded', 'other 25', 'marker']);
  });

  it('tells the sink which objects a lagging snapshot must not prune: written after its source listed their type, in an earlier batch or the same one', async () => {
    const { source, sink } = await startRuntime({ sink: new RecordingSink({ windowMs: 300, maxBytes: 1 << 20 }) });
    // Written in an earlier batch: one created after the snapshot's list (rv 30 > 25), one before it (rv 5).
    await source.ctx.emit({ ...configMap('created-after-list', { v: '1' }), resourceVersion: '30' });
    await source.ctx.emit({ ...configMap('deleted-before-list', { v: '1' }), resourceVersion: '5' });
    await until(() => sink.items.length === 2, 'the first batch');
    await new Promise((r) => setTimeout(r, 50));
    // Same batch as the snapshot: created after its list, ahead of its seeds.
    await source.ctx.emit({ ...configMap('created-in-batch', { v: '1' }), resourceVersion: '31' });
    const snapshot = source.ctx.beginSnapshot(['live']);
    await snapshot.emit({ ...configMap('listed', { v: '1' }), resourceVersion: '12' });
    await snapshot.complete({ resourceVersions: { '/configmaps': '25' } });
    await until(() => sink.items.some((m) => m.kind === 'snapshot-end'), 'the marker');
    const end = sink.items.find((m) => m.kind === 'snapshot-end');
    expect(end?.kind === 'snapshot-end' && end.resourceVersions).toEqual({ '/configmaps': '25' });
    expect(end?.kind === 'snapshot-end' ? (end.newerWritten ?? []).map((identity) => identity.name).sort() : []).toEqual(['created-after-list', 'created-in-batch']);
  });

  it('tells the sink nothing to keep when the snapshot does not say what its types are as of', async () => {
    const { source, sink } = await startRuntime();
    await source.ctx.emit({ ...configMap('created-after-list', { v: '1' }), resourceVersion: '30' });
    await until(() => sink.items.length === 1, 'the live change');
    const snapshot = source.ctx.beginSnapshot(['live']);
    await snapshot.emit({ ...configMap('listed', { v: '1' }), resourceVersion: '12' });
    await snapshot.complete();
    await until(() => sink.items.some((m) => m.kind === 'snapshot-end'), 'the marker');
    const end = sink.items.find((m) => m.kind === 'snapshot-end');
    expect(end?.kind === 'snapshot-end' && end.newerWritten).toBeUndefined();
  });

  it('runs encode-phase normalizers after the hash, so random output does not defeat no-op detection', async () => {
    const encoder: Normalizer = { name: 'random-encoder', phase: 'encode', normalize: (object) => ({ ...object, nonce: Math.random() }) };
    const dropper: Normalizer = { name: 'drop-secret-named', phase: 'sanitize', normalize: (object) => (object.metadata?.name === 'drop-me' ? null : object) };
    const { source, sink } = await startRuntime({ normalizers: [encoder, dropper] });
    await source.ctx.emit(configMap('enc', { k: 'v' }));
    await source.ctx.emit(configMap('enc', { k: 'v' }));
    await source.ctx.emit(configMap('drop-me', { k: 'v' }));
    await source.ctx.emit(configMap('last', { k: 'v' }));
    await until(() => sink.items.length === 2, 'two messages');
    const first = sink.items[0];
    expect(first?.kind === 'change' && typeof first.event.object?.['nonce']).toBe('number');
    expect(sink.items.map((m) => (m.kind === 'change' ? m.event.identity.name : ''))).toEqual(['enc', 'last']);
  });

  it('waits instead of dropping when the bus is full', async () => {
    const sink = new RecordingSink();
    sink.delayMs = 30;
    const { source } = await startRuntime({ sink, capacity: 2 });
    for (let i = 0; i < 20; i++) await source.ctx.emit(configMap(`bp${i}`, { i: String(i) }));
    await until(() => sink.items.length === 20, 'all twenty');
    expect(sink.items.map((m) => (m.kind === 'change' ? m.event.identity.name : ''))).toEqual(Array.from({ length: 20 }, (_, i) => `bp${i}`));
  });
});

describe('runtime lifecycle and operations endpoints', () => {
  it('serves /healthz, /readyz and /metrics', async () => {
    const { source, runtime: rt } = await startRuntime();
    await source.ctx.emit(configMap('m', { k: 'v' }));
    const base = `http://127.0.0.1:${rt.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, status: 'ready' });
    const scrape = await fetch(`${base}/metrics`);
    expect(scrape.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const metrics = await scrape.text();
    expect(metrics).toContain(
      '# HELP gitops_reverser_events_received_total Change events handed to the kernel by sources, by source and phase (seed, live, sweep).\n# TYPE gitops_reverser_events_received_total counter\n',
    );
    expect(metrics).toContain('gitops_reverser_events_received_total{source="TestSource",phase="live"} 1');
    expect(metrics).toContain('gitops_reverser_events_suppressed_total');
    expect(metrics).toContain('gitops_reverser_queue_depth');
    expect(metrics).toMatch(/gitops_reverser_sink_outcomes_total\{partition="\/repos\/state#main",status="applied"\} 1/);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('names a busy port as the reason it cannot start', async () => {
    const { runtime: first } = await startRuntime();
    const second = await Runtime.create(parseConfig(CONFIG.replace('port: 0', `port: ${first.port}`), '/tmp/pipeline.yaml'), {
      logger: silentLogger(),
      metrics: new KernelMetrics(),
      adapters: { sources: [{ cluster: 'dev', instance: new TestSource() }], sink: { instance: new RecordingSink() }, bus: { instance: new MemoryBus({ capacityPerPartition: 10 }) } },
    });
    await expect(second.start()).rejects.toMatchObject({ code: 'GR_ERR_SERVER_LISTEN', message: expect.stringContaining('the port is already in use'), fix: expect.stringContaining('server.port') });
  });

  it('is not ready while an adapter is failed, and says which', async () => {
    const sink = new RecordingSink();
    sink.health = () => ({ state: 'failed', reason: 'cannot open repository' });
    const { runtime: rt } = await startRuntime({ sink });
    const response = await fetch(`http://127.0.0.1:${rt.port}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ ready: false, adapters: expect.arrayContaining([{ slot: 'sink', name: 'RecordingSink', state: 'failed', reason: 'cannot open repository' }]) });
  });

  it('stops in order: sources first, then drains the bus into the sink, then flushes', async () => {
    const sink = new RecordingSink();
    sink.delayMs = 20;
    const { source, runtime: rt } = await startRuntime({ sink });
    for (let i = 0; i < 10; i++) await source.ctx.emit(configMap(`d${i}`, { i: String(i) }));
    const clean = await rt.stop('test');
    runtime = undefined;
    expect(clean).toBe(true);
    expect(source.stopped).toBe(true);
    expect(sink.items).toHaveLength(10);
    expect(sink.flushed).toBe(true);
    expect(rt.health()).toMatchObject({ ready: false, status: 'stopped' });
  });

  it('reloads rules at run time: new routing applies and sources learn the changed targets', async () => {
    const { source, sink, runtime: rt } = await startRuntime();
    const changes: string[][] = [];
    source.updateSelection = async (_selection, changed) => {
      changes.push([...changed]);
    };
    await source.ctx.emit(configMap('before', { k: 'v' }, {}, 'team-a'));
    const next = parseConfig(CONFIG.replace('namespaces: [default]', 'namespaces: [default, team-a]'), '/tmp/pipeline.yaml');
    const result = await rt.reload(next);
    expect(result).toEqual({ changedTargets: ['live'], needsRestart: [] });
    expect(changes).toEqual([['live']]);
    await source.ctx.emit(configMap('after', { k: 'v' }, {}, 'team-a'));
    await until(() => sink.items.length === 1, 'the change routed by the new rule');
    expect(sink.items[0]?.kind === 'change' && sink.items[0].event.identity.name).toBe('after');
  });

  it('reload: changed adapter options (e.g. new git credentials) are reported as needing a restart, not silently kept', async () => {
    const { runtime: rt } = await startRuntime();
    const next = parseConfig(`${CONFIG}sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: o, url: ./r, auth: { password: new } } ] } }\n`, '/tmp/pipeline.yaml');
    expect(await rt.reload(next)).toEqual({ changedTargets: [], needsRestart: ['sink'] });
  });
});
