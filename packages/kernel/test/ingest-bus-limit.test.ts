import { MemoryBus } from '@gitops-reverser/bus-memory/internal';
import {
  type AdapterHealth,
  type BusMessage,
  type ChangeEvent,
  ContractErrorCodes,
  grError,
  type Sink,
  type SinkBatch,
  type SinkOutcome,
  type Source,
  type SourceContext,
  type TargetConfig,
  type TargetPlan,
} from '@gitops-reverser/contract';
import { afterEach, describe, expect, it } from 'vitest';
import { KernelMetrics, parseConfig, Runtime, silentLogger } from '../src/index.js';

// The kernel's side of a bus limit: a message the bus says it can never carry is a refusal in the
// bus's name; the source goes on; a snapshot holding it ends partial. The real bus (bus-nats against
// nats-server's max_payload) is tested in packages/bus-nats/test/trust.cluster.test.ts.

const CONFIG = `
apiVersion: gitops-reverser/v1alpha2
shutdown: { timeoutSeconds: 5 }
targets: [ { name: live, with: {} } ]
rules: [ { target: live, scope: Namespaced, namespaces: [default], apiGroups: [""], resources: [configmaps] } ]
`;

/** The memory bus with a size limit, as a bus with one would behave: over it, `publish` rejects at once. */
class LimitedBus extends MemoryBus {
  otherFailures = 0;
  constructor(private readonly limitBytes: number) {
    super({ capacityPerPartition: 100 });
  }
  override async publish(partitionKey: string, message: BusMessage, options?: { signal?: AbortSignal }): Promise<void> {
    const sizeBytes = Buffer.byteLength(JSON.stringify(message));
    if (sizeBytes > this.limitBytes)
      throw grError(ContractErrorCodes.BUS_MESSAGE_TOO_LARGE, `the message is ${sizeBytes} bytes; this bus carries at most ${this.limitBytes}`, {
        fix: 'raise the limit',
        details: { sizeBytes, limitBytes: this.limitBytes },
      });
    if (message.kind === 'change' && message.event.identity.name === 'unlucky') {
      this.otherFailures++;
      throw grError('GR_ERR_TEST_OTHER', 'a failure that is not about size');
    }
    return super.publish(partitionKey, message, options);
  }
}

class TestSource implements Source {
  context: SourceContext | undefined;
  async start(context: SourceContext) {
    this.context = context;
  }
  async stop() {}
  health(): AdapterHealth {
    return { state: 'ready' };
  }
}

class RecordingSink implements Sink {
  readonly batchPolicy = { windowMs: 0, maxBytes: 1 << 20 };
  batches: SinkBatch[] = [];
  planTargets(targets: readonly TargetConfig[]): TargetPlan {
    return { partitions: new Map(targets.map((t) => [t.name, { key: 'state#main' }])), problems: [] };
  }
  async start() {}
  async apply(batch: SinkBatch) {
    this.batches.push(batch);
    return batch.items.map((): SinkOutcome => ({ status: 'applied' }));
  }
  async flush() {}
  async stop() {}
  health(): AdapterHealth {
    return { state: 'ready' };
  }
  get names(): string[] {
    return this.batches.flatMap((b) => b.items.map((i) => (i.message.kind === 'change' ? i.message.event.identity.name : `end:${i.message.objectCount}:${i.message.partial === true}`)));
  }
}

function configMap(name: string, value: string): ChangeEvent {
  return {
    identity: { clusterId: 'dev', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'default', name },
    operation: 'upsert',
    created: true,
    object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { value } },
    resourceVersion: '1',
    observedAt: new Date().toISOString(),
    phase: 'live',
    observedBy: 'watch',
  };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
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

async function start() {
  const source = new TestSource();
  const sink = new RecordingSink();
  const bus = new LimitedBus(2_000);
  const metrics = new KernelMetrics();
  runtime = await Runtime.create(parseConfig(CONFIG, '/tmp/limit.yaml'), {
    logger: silentLogger(),
    metrics,
    adapters: { sources: [{ cluster: 'dev', instance: source }], sink: { instance: sink }, bus: { instance: bus, name: 'the-bus' } },
  });
  await runtime.start();
  return { context: source.context as SourceContext, sink, bus, metrics };
}

async function refused(metrics: KernelMetrics, labels: Record<string, string>): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'gitops_reverser_events_refused_total');
  return Number(metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0);
}

describe('ingest: a message the bus can never carry', () => {
  it('is refused in the bus name with its code, and the source goes on', async () => {
    const { context, sink, metrics } = await start();
    await context.emit(configMap('huge', 'x'.repeat(5_000)));
    await context.emit(configMap('small', 'y'));
    await until(() => sink.names.includes('small'), 'the next change');
    expect(sink.names).toEqual(['small']);
    expect(await refused(metrics, { adapter: 'the-bus', code: 'GR_ERR_BUS_MESSAGE_TOO_LARGE' })).toBe(1);
    // An equal event later is tried again (the limit may have been raised): it is refused again, not a no-op.
    await context.emit(configMap('huge', 'x'.repeat(5_000)));
    expect(await refused(metrics, { adapter: 'the-bus', code: 'GR_ERR_BUS_MESSAGE_TOO_LARGE' })).toBe(2);
  });

  it('makes a snapshot holding it end partial, so nothing is pruned on its basis', async () => {
    const { context, sink } = await start();
    const snapshot = context.beginSnapshot();
    await snapshot.emit(configMap('huge', 'x'.repeat(5_000)));
    await snapshot.emit(configMap('small', 'y'));
    await snapshot.complete();
    await until(() => sink.names.some((n) => n.startsWith('end:')), 'the snapshot end');
    expect(sink.names).toEqual(['small', 'end:1:true']);
  });

  it('only that error: any other publish failure is not turned into this refusal', async () => {
    const { context, sink, bus, metrics } = await start();
    await context.emit(configMap('unlucky', 'z'));
    await context.emit(configMap('small', 'y'));
    await until(() => sink.names.includes('small'), 'the next change');
    expect(bus.otherFailures).toBe(1);
    expect(await refused(metrics, { code: 'GR_ERR_BUS_MESSAGE_TOO_LARGE' })).toBe(0);
    expect(await refused(metrics, { adapter: 'kernel', code: 'GR_ERR_INGEST_FAILED' })).toBe(1);
  });
});
