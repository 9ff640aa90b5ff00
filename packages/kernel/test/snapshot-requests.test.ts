import { MemoryBus } from '@gitops-reverser/bus-memory/internal';
import type { AdapterHealth, Selection, Sink, SinkContext, SinkOutcome, Source, SourceContext, TargetConfig, TargetPlan } from '@gitops-reverser/contract';
import { memoryLogger } from '@gitops-reverser/contract/conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, KernelMetrics, type Runtime } from '../src/index.js';

// SinkContext.requestSnapshot: a sink that lost what it wrote (a git remote rewritten or re-created)
// asks for the targets again, and the sources covering them seed them again.

/** A source that records what the kernel asks of it; `reseeding` false: it has no updateSelection (the kernel restarts it). */
class RecordingSource implements Source {
  starts = 0;
  stops = 0;
  reseeds: string[][] = [];
  updateSelection?: (selection: Selection, changedTargets: readonly string[]) => Promise<void>;
  constructor(reseeding: boolean) {
    if (reseeding)
      this.updateSelection = async (_selection, changedTargets) => {
        this.reseeds.push([...changedTargets]);
      };
  }
  async start(_context: SourceContext) {
    this.starts++;
  }
  async stop() {
    this.stops++;
  }
  health(): AdapterHealth {
    return { state: 'ready' };
  }
}

/** A sink that keeps its context, so the test can ask for a snapshot the way a sink does; `askAtStart` asks during start(). */
class AskingSink implements Sink {
  readonly batchPolicy = { windowMs: 0, maxBytes: 1 << 20 };
  context: SinkContext | undefined;
  constructor(private readonly askAtStart?: readonly string[]) {}
  planTargets(targets: readonly TargetConfig[]): TargetPlan {
    return { partitions: new Map(targets.map((t) => [t.name, { key: `repo#${t.name}` }])), problems: [] };
  }
  async start(context: SinkContext) {
    this.context = context;
    if (this.askAtStart) context.requestSnapshot(this.askAtStart, 'asked while the runtime was starting');
  }
  async apply(batch: { items: readonly unknown[] }): Promise<SinkOutcome[]> {
    return batch.items.map(() => ({ status: 'applied' }));
  }
  async flush() {}
  async stop() {}
  health(): AdapterHealth {
    return { state: 'ready' };
  }
}

async function until<T>(check: () => T | undefined | false, what: string, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.stop('test done');
  runtime = undefined;
});

/** Cluster a (a source with updateSelection) feeds `live` and `shared`; cluster b (one without) feeds `infra` and `shared`. */
async function start(sink = new AskingSink()) {
  const reseeding = new RecordingSource(true);
  const restarting = new RecordingSource(false);
  const logger = memoryLogger();
  const metrics = new KernelMetrics();
  runtime = await createRuntime({
    config: {
      // The clusters the rules name; the instances below replace these entries.
      sources: [
        { use: '@gitops-reverser/source-informer', cluster: 'a' },
        { use: '@gitops-reverser/source-informer', cluster: 'b' },
      ],
      targets: [{ name: 'live' }, { name: 'infra' }, { name: 'shared' }],
      rules: [
        { target: 'live', clusters: ['a'], resources: ['configmaps'] },
        { target: 'infra', clusters: ['b'], resources: ['configmaps'] },
        { target: 'shared', resources: ['secrets'], plaintextSecrets: true },
      ],
    },
    logger,
    metrics,
    adapters: {
      sources: [
        { cluster: 'a', name: 'reseeding', instance: reseeding },
        { cluster: 'b', name: 'restarting', instance: restarting },
      ],
      sink: { name: 'asking', instance: sink },
      bus: { instance: new MemoryBus({ capacityPerPartition: 10 }) },
    },
  });
  await runtime.start();
  return { sink, reseeding, restarting, logger, metrics, context: sink.context as SinkContext };
}

async function requestsCounted(metrics: KernelMetrics, target: string): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'gitops_reverser_snapshot_requests_total');
  return Number(metric?.values.find((v) => v.labels['target'] === target)?.value ?? 0);
}

describe('SinkContext.requestSnapshot', () => {
  it('the source covering the targets reseeds exactly those; requests made together are asked once, their reasons logged once', async () => {
    const { reseeding, restarting, logger, metrics, context } = await start();
    context.requestSnapshot(['live'], 'the remote history of repo#main was rewritten');
    context.requestSnapshot(['live'], 'the remote history of repo#main was rewritten');
    context.requestSnapshot(['unknown-target'], 'the remote branch was deleted');
    await until(() => reseeding.reseeds.length > 0 && logger.lines.some((l) => l.message.includes('seed these targets again')), 'the reseed');
    expect(reseeding.reseeds).toEqual([['live']]);
    // The other cluster's source does not feed `live`: it is left alone.
    expect({ starts: restarting.starts, stops: restarting.stops }).toEqual({ starts: 1, stops: 0 });
    const told = logger.lines.filter((l) => l.message.includes('seed these targets again'));
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ level: 'warn', fields: { adapter: 'asking', targets: ['live', 'unknown-target'] } });
    expect(told[0]?.message).toContain('the remote history of repo#main was rewritten; the remote branch was deleted');
    expect(await requestsCounted(metrics, 'live')).toBe(2);
  });

  it('a source without updateSelection is restarted (its start seeds its targets); a target both clusters feed goes to both', async () => {
    const { reseeding, restarting, context } = await start();
    context.requestSnapshot(['shared', 'infra'], 'the repository was re-created');
    await until(() => restarting.starts === 2 && reseeding.reseeds.length === 1, 'both sources asked');
    expect(restarting.stops).toBe(1);
    expect(reseeding.reseeds).toEqual([['shared']]);
  });

  it('a request made while the runtime starts is served once it runs', async () => {
    const { reseeding } = await start(new AskingSink(['live']));
    await until(() => reseeding.reseeds.length === 1, 'the reseed after start');
    expect(reseeding.reseeds).toEqual([['live']]);
  });

  it('after stop, requests are ignored', async () => {
    const { reseeding, context } = await start();
    await runtime?.stop('test');
    runtime = undefined;
    expect(() => context.requestSnapshot(['live'], 'late')).not.toThrow();
    expect(reseeding.reseeds).toEqual([]);
  });
});
