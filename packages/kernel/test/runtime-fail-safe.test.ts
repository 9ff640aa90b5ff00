import { MemoryBus } from '@gitops-reverser/bus-memory/internal';
import { sinkChecks } from '@gitops-reverser/contract/conformance';
import type { AdapterHealth, BatchPolicy, Bus, BusContext, ChangeEvent, PartitionLease, Sink, SinkBatch, Source, SourceContext, TargetConfig, TargetPlan } from '@gitops-reverser/contract';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigValidationError, createRuntime, KernelMetrics, silentLogger, type Runtime } from '../src/index.js';

// Each broken-adapter case: either a named error before anything runs, or writing goes on and
// /readyz says what is wrong. Never a dead worker behind a green probe.

const CONFIG = {
  server: { port: 0, enabled: true },
  shutdown: { timeoutSeconds: 5 },
  startup: { timeoutSeconds: 0.5 },
  targets: [{ name: 'live' }],
  rules: [{ target: 'live', resources: ['configmaps'] }],
};

class HandSource implements Source {
  context: SourceContext | undefined;
  async start(context: SourceContext) {
    this.context = context;
  }
  async stop() {}
  health(): AdapterHealth {
    return { state: 'ready' };
  }
  emit(name: string) {
    const event: ChangeEvent = {
      identity: { clusterId: 'dev', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'default', name },
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

/** A sink whose answers a test scripts; by default it writes everything. */
class ScriptedSink implements Sink {
  batchPolicy: BatchPolicy = { windowMs: 0, maxBytes: 1 << 20 };
  written: string[] = [];
  answers: ((batch: SinkBatch) => unknown)[] = [];
  planTargets(targets: readonly TargetConfig[]): TargetPlan {
    return { partitions: new Map(targets.map((t) => [t.name, { key: 'p' }])), problems: [] };
  }
  async start() {}
  async apply(batch: SinkBatch) {
    const scripted = this.answers.shift();
    if (scripted) return scripted(batch) as never;
    for (const item of batch.items) if (item.message.kind === 'change') this.written.push(item.message.event.identity.name);
    return batch.items.map(() => ({ status: 'applied' as const }));
  }
  stopped = false;
  async flush() {}
  async stop() {
    this.stopped = true;
  }
  health(): AdapterHealth {
    return { state: this.stopped ? 'stopped' : 'ready' };
  }
}

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.stop('test done');
  runtime = undefined;
});

async function start(sink: Sink, options: { bus?: Bus; source?: Source } = {}) {
  const source = (options.source ?? new HandSource()) as HandSource;
  const metrics = new KernelMetrics();
  runtime = await createRuntime({
    config: CONFIG,
    logger: silentLogger(),
    metrics,
    adapters: { sources: [{ cluster: 'dev', instance: source }], sink: { instance: sink }, bus: { instance: options.bus ?? new MemoryBus({ capacityPerPartition: 100 }) } },
  });
  await runtime.start();
  return { source, runtime, metrics };
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const readyz = async (rt: Runtime) => {
  const response = await fetch(`http://127.0.0.1:${rt.port}/readyz`);
  return { status: response.status, body: (await response.json()) as { ready: boolean; partitions?: { partition: string; reason: string }[] } };
};

describe('adapters given in code are checked like loaded ones', () => {
  it('a sink without batchPolicy is refused with a named error before anything starts', async () => {
    const sink = new ScriptedSink() as Partial<ScriptedSink>;
    delete sink.batchPolicy;
    const error = await createRuntime({
      config: CONFIG,
      logger: silentLogger(),
      adapters: { sources: [{ cluster: 'dev', instance: new HandSource() }], sink: { name: 'my-sink', instance: sink as Sink } },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect((error as ConfigValidationError).problems[0]).toMatchObject({
      code: 'GR_ERR_PLUGIN_SHAPE',
      keyPath: 'sink',
      message: expect.stringContaining('sink adapter "my-sink" is incomplete: batchPolicy is missing'),
    });
  });

  it('a normalizer without a phase is refused', async () => {
    const error = await createRuntime({
      config: CONFIG,
      logger: silentLogger(),
      adapters: {
        sources: [{ cluster: 'dev', instance: new HandSource() }],
        sink: { instance: new ScriptedSink() },
        normalizers: [{ instance: { name: 'n', normalize: (o: unknown) => o } as never }],
      },
    }).catch((e: unknown) => e);
    expect((error as ConfigValidationError).problems[0]?.message).toContain('phase is undefined, not "sanitize" or "encode"');
  });
});

describe('a sink that breaks the contract at run time', () => {
  it.each([
    ['returns nothing', () => undefined],
    ['returns too few outcomes', () => []],
    ['returns an unknown status', (batch: SinkBatch) => batch.items.map(() => ({ status: 'done' }))],
    ['throws', () => Promise.reject(new Error('boom'))],
  ])('%s: the items are retried (named in the log and a metric) and written once the sink answers properly', async (_case, answer) => {
    const sink = new ScriptedSink();
    sink.answers.push(answer as (batch: SinkBatch) => unknown);
    const { source, runtime: rt, metrics } = await start(sink);
    await source.emit('a');
    await until(() => sink.written.includes('a'), 'the retried write');
    const errors = (await metrics.registry.getSingleMetric('gitops_reverser_sink_outcome_errors_total')?.get())?.values ?? [];
    expect(errors).toEqual([expect.objectContaining({ labels: { sink: 'ScriptedSink' }, value: 1 })]);
    expect((await readyz(rt)).status).toBe(200);
  });
});

/** A memory bus whose leases fail to fetch a few times: the worker loop breaks, as a bus fault would break it. */
class FlakyBus extends MemoryBus {
  failures: number;
  constructor(failures: number) {
    super({ capacityPerPartition: 100 });
    this.failures = failures;
  }
  override consume(onPartition: (lease: PartitionLease) => void): void {
    super.consume((lease) =>
      onPartition({
        partitionKey: lease.partitionKey,
        revoked: lease.revoked,
        fetch: async (options) => {
          if (this.failures > 0) {
            this.failures--;
            await new Promise((r) => setTimeout(r, 50));
            throw new Error('bus connection lost');
          }
          return lease.fetch(options);
        },
      }),
    );
  }
  override async start(context: BusContext) {
    await super.start(context);
  }
}

describe('a partition worker that dies', () => {
  it('is restarted with backoff; /readyz is 503 naming the partition while it is down; nothing is lost', async () => {
    const sink = new ScriptedSink();
    const bus = new FlakyBus(3);
    const { source, runtime: rt, metrics } = await start(sink, { bus });
    await source.emit('survivor');
    let sawRed: Awaited<ReturnType<typeof readyz>> | undefined;
    await until(async () => {
      const probe = await readyz(rt);
      if (probe.status === 503) sawRed = probe;
      return sink.written.includes('survivor');
    }, 'the write after the worker restarts');
    expect(sawRed?.body.partitions?.[0]).toMatchObject({
      partition: 'p',
      state: 'restarting',
      reason: expect.stringContaining('GR_ERR_WORKER_CRASHED: the worker of p stopped on an error: bus connection lost'),
    });
    expect((await readyz(rt)).status).toBe(200);
    const restarts = (await metrics.registry.getSingleMetric('gitops_reverser_partition_worker_restarts_total')?.get())?.values ?? [];
    expect(restarts[0]?.value).toBe(3);
  });
});

describe('an adapter whose start() never resolves', () => {
  it('fails the start with a timeout that names it', async () => {
    class StuckSource extends HandSource {
      override start(): Promise<void> {
        return new Promise(() => undefined);
      }
    }
    const sink = new ScriptedSink();
    const rt = await createRuntime({ config: CONFIG, logger: silentLogger(), adapters: { sources: [{ cluster: 'dev', name: 'stuck', instance: new StuckSource() }], sink: { instance: sink } } });
    await expect(rt.start()).rejects.toMatchObject({ code: 'GR_ERR_PLUGIN_START_TIMEOUT', message: 'source adapter "stuck" did not finish start() within 0.5s' });
  });
});

describe('the sink conformance suite catches broken sinks', () => {
  const target: TargetConfig = { name: 'live', with: {}, keyPath: 'targets[0]' };
  const run = async (sink: Sink, countWrites?: () => Promise<number>) => {
    const failures: string[] = [];
    for (const check of sinkChecks) {
      await check.run({ setup: async () => ({ sink, target, ...(countWrites ? { countWrites } : {}) }) }).catch((e: Error) => failures.push(`${check.name}: ${e.message}`));
    }
    return failures;
  };

  it('passes a correct sink', async () => {
    const sink = new ScriptedSink();
    sink.start = async () => {
      sink.stopped = false;
    };
    expect(await run(sink)).toEqual([]);
  });

  it('no batchPolicy', async () => {
    const sink = new ScriptedSink() as Partial<ScriptedSink>;
    delete sink.batchPolicy;
    expect((await run(sink as Sink)).join('\n')).toContain('batchPolicy is missing');
  });

  it('duplicate writes on redelivery', async () => {
    const sink = new ScriptedSink();
    expect((await run(sink, async () => sink.written.length)).join('\n')).toMatch(/a redelivered batch was written again \(\d+ writes before, \d+ after\)/);
  });

  it('occasional throws', async () => {
    const sink = new ScriptedSink();
    let calls = 0;
    const apply = sink.apply.bind(sink);
    sink.apply = async (batch) => {
      if (++calls % 7 === 0) throw new Error('flaky');
      return apply(batch);
    };
    expect((await run(sink)).join('\n')).toContain('threw');
  });

  it('a missing flush', async () => {
    const sink = new ScriptedSink() as Partial<ScriptedSink>;
    sink.flush = undefined;
    expect((await run(sink as Sink)).join('\n')).toContain('flush() is missing');
  });
});
