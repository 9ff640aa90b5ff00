import { MemoryBus } from '@gitops-reverser/bus-memory/internal';
import type { AdapterHealth, BatchPolicy, ChangeEvent, Sink, SinkBatch, SinkOutcome, Source, SourceContext, TargetConfig, TargetPlan } from '@gitops-reverser/contract';
import { memoryLogger } from '@gitops-reverser/contract/conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, KernelMetrics, type Runtime } from '../src/index.js';

// A sink that hangs or keeps answering against the contract must be visible: in the log (with the
// sink and partition) and in /readyz, within the configured time; and a timed-out apply() must never
// overlap the next one of its partition.

class HandSource implements Source {
  context: SourceContext | undefined;
  async start(context: SourceContext) {
    this.context = context;
  }
  async stop() {}
  health(): AdapterHealth {
    return { state: 'ready' };
  }
  emit(name: string, clusterId = 'dev') {
    const event: ChangeEvent = {
      identity: { clusterId, group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'default', name },
      operation: 'upsert',
      created: true,
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { k: name } },
      resourceVersion: '1',
      observedAt: new Date().toISOString(),
      phase: 'live',
      observedBy: 'watch',
    };
    return (this.context as SourceContext).emit(event);
  }
}

/** A sink whose apply() the test controls: `gate` holds it, `answer` says what it returns. */
class ControlledSink implements Sink {
  batchPolicy: BatchPolicy = { windowMs: 0, maxBytes: 1 << 20 };
  calls = 0;
  /** Calls in progress right now (never above 1 for one partition). */
  running = 0;
  maxRunning = 0;
  written: string[] = [];
  gate: Promise<void> | undefined;
  answer: (batch: SinkBatch) => unknown = (batch) => batch.items.map((): SinkOutcome => ({ status: 'applied' }));
  planTargets(targets: readonly TargetConfig[]): TargetPlan {
    return { partitions: new Map(targets.map((t) => [t.name, { key: 'repo#main' }])), problems: [] };
  }
  async start() {}
  async apply(batch: SinkBatch) {
    this.calls++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await this.gate;
      const answer = this.answer(batch);
      if (Array.isArray(answer) && answer.every((o) => o?.status === 'applied')) {
        for (const item of batch.items) if (item.message.kind === 'change') this.written.push(item.message.event.identity.name);
      }
      return answer as never;
    } finally {
      this.running--;
    }
  }
  async flush() {}
  async stop() {}
  health(): AdapterHealth {
    return { state: 'ready' };
  }
}

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.stop('test done');
  runtime = undefined;
});

async function start(sink: Sink, watchdog: Record<string, number>) {
  const source = new HandSource();
  const metrics = new KernelMetrics();
  const logger = memoryLogger();
  runtime = await createRuntime({
    config: { server: { port: 0, enabled: true }, shutdown: { timeoutSeconds: 3 }, watchdog, targets: [{ name: 'live' }], rules: [{ target: 'live', resources: ['configmaps'] }] },
    logger,
    metrics,
    adapters: { sources: [{ cluster: 'dev', instance: source }], sink: { name: 'controlled', instance: sink }, bus: { instance: new MemoryBus({ capacityPerPartition: 100 }) } },
  });
  await runtime.start();
  return { source, metrics, logger, runtime };
}

async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Readyz {
  ready: boolean;
  status: string;
  adapters: { slot: string; name: string; state: string; reason?: string; details?: Record<string, unknown> }[];
  partitions?: { partition: string; state: string; reason: string; seconds?: number }[];
}

async function readyz(rt: Runtime): Promise<{ status: number; body: Readyz }> {
  const response = await fetch(`http://127.0.0.1:${rt.port}/readyz`);
  return { status: response.status, body: (await response.json()) as Readyz };
}

describe('watchdog over sink calls', () => {
  it('a stuck apply() is logged with the sink and partition and shown in /readyz within watchdog.applyWarnSeconds', async () => {
    const sink = new ControlledSink();
    let release = () => {};
    sink.gate = new Promise((resolve) => {
      release = resolve;
    });
    const { source, logger, runtime: rt } = await start(sink, { applyWarnSeconds: 0.3 });
    await source.emit('stuck');
    const line = await until(() => logger.lines.find((l) => l.message.includes('GR_ERR_SINK_SLOW')), 'the slow-call warning', 3000);
    expect(line).toMatchObject({ level: 'warn', fields: { partition: 'repo#main', sink: 'controlled', code: 'GR_ERR_SINK_SLOW', call: 'apply' } });
    expect(line.message).toContain('sink "controlled" has been in apply() for repo#main');
    const { status, body } = await readyz(rt);
    // Still ready (nothing is lost while it waits), but it says what it waits on.
    expect(status).toBe(200);
    expect(body.partitions).toEqual([expect.objectContaining({ partition: 'repo#main', state: 'sink slow', reason: expect.stringContaining('apply() of 1 item(s) has run for') })]);
    expect(body.adapters.find((a) => a.slot === 'sink')?.details?.['slowCalls']).toEqual([expect.objectContaining({ partition: 'repo#main', call: 'apply', items: 1 })]);
    release();
    await until(() => sink.written.includes('stuck'), 'the write once released');
    await until(async () => (await readyz(rt)).body.partitions === undefined, '/readyz to clear');
    expect(logger.lines.some((l) => l.message.includes('returned from apply() for repo#main after'))).toBe(true);
  });

  it('with watchdog.applyTimeoutSeconds a hung apply() is given up: its batch is retried only after it returned, never two applies at once', async () => {
    const sink = new ControlledSink();
    let release = () => {};
    sink.gate = new Promise((resolve) => {
      release = resolve;
    });
    const { source, logger, metrics, runtime: rt } = await start(sink, { applyWarnSeconds: 0.2, applyTimeoutSeconds: 0.4 });
    await source.emit('hung');
    await until(() => logger.lines.find((l) => l.message.includes('GR_ERR_SINK_TIMEOUT')), 'the timeout', 3000);
    await source.emit('next');
    // Given up but not returned: no second apply() of the partition starts.
    await new Promise((r) => setTimeout(r, 500));
    expect(sink.calls).toBe(1);
    const { body } = await readyz(rt);
    expect(body.partitions?.[0]?.reason).toContain('given up after watchdog.applyTimeoutSeconds');
    // Its late answer is ignored; the batch is retried once it returned.
    sink.gate = undefined;
    release();
    await until(() => sink.written.includes('next'), 'both changes written after the hung call returned');
    expect(sink.maxRunning).toBe(1);
    expect(sink.written.filter((name) => name === 'hung').length).toBeGreaterThanOrEqual(1);
    const timeouts = (await metrics.registry.getSingleMetric('gitops_reverser_sink_apply_timeouts_total')?.get())?.values ?? [];
    expect(timeouts.map((v) => [v.labels['sink'], v.labels['partition'], v.value])).toEqual([['controlled', 'repo#main', 1]]);
  });

  it('a sink whose answers all break the contract is degraded in /readyz after watchdog.refusedAnswersSeconds, with the reason', async () => {
    const sink = new ControlledSink();
    sink.answer = () => null;
    const { source, runtime: rt } = await start(sink, { refusedAnswersSeconds: 0.5 });
    await source.emit('refused');
    await until(async () => (await readyz(rt)).body.partitions?.some((p) => p.state === 'sink refusing'), 'the refusing partition');
    const degraded = await until(
      async () => {
        const { body } = await readyz(rt);
        return body.status === 'degraded' ? body : undefined;
      },
      'the degraded status',
      5000,
    );
    const entry = degraded.adapters.find((a) => a.slot === 'sink');
    expect(entry?.state).toBe('degraded');
    expect(entry?.reason).toContain('sink "controlled" is answering against the contract: repo#main: every answer for');
    expect(entry?.reason).toContain('apply() resolved to null, not an array of outcomes');
    // Once it answers properly again, it is ready.
    sink.answer = (batch) => batch.items.map((): SinkOutcome => ({ status: 'applied' }));
    await until(() => sink.written.includes('refused'), 'the retried write');
    await until(async () => (await readyz(rt)).body.status === 'ready', 'ready again');
  });
});

describe('the kernel enforces the contract at run time', () => {
  it('a source configured for cluster dev that emits identities of cluster other writes nothing; the refusal is named and counted', async () => {
    const sink = new ControlledSink();
    const { source, metrics, logger } = await start(sink, {});
    await source.emit('foreign', 'other');
    await source.emit('own');
    await until(() => sink.written.includes('own'), 'the own cluster change');
    expect(sink.written).toEqual(['own']);
    const refused = (await metrics.registry.getSingleMetric('gitops_reverser_events_refused_total')?.get())?.values ?? [];
    expect(refused.map((v) => [v.labels['code'], v.value])).toEqual([['GR_ERR_EVENT_FOREIGN_CLUSTER', 1]]);
    expect(logger.lines.find((l) => l.fields && (l.fields as { code?: string }).code === 'GR_ERR_EVENT_FOREIGN_CLUSTER')?.message).toContain(
      'source HandSource observes cluster "dev" but emitted other/_core/configmaps/default/foreign of cluster "other"',
    );
  });
});
