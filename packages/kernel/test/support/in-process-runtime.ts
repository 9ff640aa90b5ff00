import { MemoryBus } from '@gitops-reverser/bus-memory/internal';
import type { AdapterHealth, ChangeEvent, KubeObject, Normalizer, Sink, SinkBatch, SinkChange, SinkOutcome, Source, SourceContext, TargetConfig, TargetPlan } from '@gitops-reverser/contract';
import { KernelMetrics, parseConfig, Runtime, silentLogger } from '../../src/index.js';

/** A source the test drives through its context. */
export class DrivenSource implements Source {
  context: SourceContext | undefined;
  async start(context: SourceContext) {
    this.context = context;
  }
  async stop() {}
  health(): AdapterHealth {
    return { state: 'ready' };
  }
}

/** A sink that keeps every change it is given, per target, in order. */
export class RecordingSink implements Sink {
  readonly batchPolicy = { windowMs: 0, maxBytes: 1 << 20 };
  readonly changes: SinkChange[] = [];
  readonly ends: { target: string; partial: boolean }[] = [];
  planTargets(targets: readonly TargetConfig[]): TargetPlan {
    return { partitions: new Map(targets.map((t) => [t.name, { key: `repo#${t.name}` }])), problems: [] };
  }
  async start() {}
  async apply(batch: SinkBatch) {
    for (const item of batch.items) {
      if (item.message.kind === 'change') this.changes.push(item.message);
      else this.ends.push({ target: item.message.target, partial: item.message.partial === true });
    }
    return batch.items.map((): SinkOutcome => ({ status: 'applied' }));
  }
  async flush() {}
  async stop() {}
  health(): AdapterHealth {
    return { state: 'ready' };
  }
  /** `target operation name` per change, in order. */
  get log(): string[] {
    return this.changes.map((c) => `${c.target} ${c.event.operation} ${c.event.identity.name}`);
  }
}

/** A change of one ConfigMap of namespace `ns`, as a watching source would emit it. */
export function configMapEvent(
  name: string,
  options: {
    ns?: string;
    labels?: Record<string, string>;
    data?: Record<string, string>;
    operation?: 'upsert' | 'delete';
    namespaceLabels?: Record<string, string>;
    phase?: ChangeEvent['phase'];
    withObject?: boolean;
  } = {},
): ChangeEvent {
  const ns = options.ns ?? 'default';
  const object: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, ...(options.labels ? { labels: options.labels } : {}) }, data: options.data ?? { a: '1' } };
  return {
    identity: { clusterId: 'dev', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: ns, name },
    operation: options.operation ?? 'upsert',
    created: false,
    ...(options.withObject === false ? {} : { object }),
    resourceVersion: '1',
    observedAt: new Date().toISOString(),
    phase: options.phase ?? 'live',
    observedBy: 'watch',
    ...(options.namespaceLabels ? { namespaceLabels: options.namespaceLabels } : {}),
  };
}

export async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A runtime on a config's rules (YAML, without apiVersion and sources), with a driven source, the
 * memory bus and a recording sink. `settle()` waits until the bus is empty.
 */
export async function inProcessRuntime(configYaml: string, options: { normalizers?: Normalizer[]; baseDir?: string } = {}) {
  const source = new DrivenSource();
  const sink = new RecordingSink();
  const metrics = new KernelMetrics();
  const bus = new MemoryBus({ capacityPerPartition: 1000 });
  const runtime = await Runtime.create(parseConfig(`apiVersion: gitops-reverser/v1alpha2\nshutdown: { timeoutSeconds: 5 }\n${configYaml}`, `${options.baseDir ?? '/tmp'}/config.yaml`), {
    logger: silentLogger(),
    metrics,
    adapters: {
      sources: [{ cluster: 'dev', instance: source }],
      sink: { instance: sink },
      bus: { instance: bus },
      ...(options.normalizers ? { normalizers: options.normalizers.map((instance) => ({ instance })) } : {}),
    },
  });
  await runtime.start();
  const context = source.context as SourceContext;
  const settle = async () => {
    // Every emit resolves once its messages are on the bus; the worker writes them right after.
    await new Promise((r) => setTimeout(r, 0));
    await until(() => [...bus.depth().values()].every((n) => n === 0), 'the bus to drain');
  };
  const counter = async (name: string, labels: Record<string, string> = {}) => {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
    return (metric?.values ?? []).filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((total, v) => total + Number(v.value), 0);
  };
  return { runtime, context, sink, metrics, settle, counter };
}
