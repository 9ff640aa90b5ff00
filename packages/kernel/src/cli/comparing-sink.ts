import type {
  AdapterDescriptor,
  AdapterHealth,
  BatchPolicy,
  KubeObject,
  PlannedTarget,
  ResourceIdentity,
  Sink,
  SinkBatch,
  SinkContext,
  SinkOutcome,
  SinkPartition,
  SnapshotEndMessage,
  TargetConfig,
  TargetPlan,
} from '@gitops-reverser/contract';

/** One object of a seed as the kernel handed it to the sink: exactly what a seed would write. */
export interface SeedObject {
  readonly identity: ResourceIdentity;
  /** The object after sanitizing and encoding for the target. */
  readonly object: KubeObject;
  /** The file text the sink would write. */
  readonly yaml: string;
}

/**
 * The configured sink with its writes taken away: it plans targets and provides its services (stored
 * content for encoders, stored history) as configured, and is started so those work, but `apply` only
 * records what the seeds would write. What `diff` runs instead of the sink.
 */
export class ComparingSink implements Sink {
  readonly batchPolicy: BatchPolicy;
  private readonly seeds = new Map<string, Map<string, SeedObject>>();
  private readonly ends = new Map<string, SnapshotEndMessage[]>();
  private planned: PlannedTarget[] = [];

  constructor(private readonly real: Sink) {
    this.batchPolicy = real.batchPolicy;
  }

  planTargets(targets: readonly TargetConfig[]): TargetPlan {
    const plan = this.real.planTargets(targets);
    this.planned = targets.flatMap((target) => {
      const partition: SinkPartition | undefined = plan.partitions?.get(target.name);
      return partition ? [{ target, partition }] : [];
    });
    return plan;
  }

  /** The targets as the sink planned them. */
  plannedTargets(): readonly PlannedTarget[] {
    return this.planned;
  }

  start(context: SinkContext): Promise<void> {
    return this.real.start(context);
  }

  async apply(batch: SinkBatch): Promise<readonly SinkOutcome[]> {
    for (const { message } of batch.items) {
      if (message.kind === 'snapshot-end') this.ends.set(message.target, [...(this.ends.get(message.target) ?? []), message]);
      else if (message.event.snapshotId && message.event.operation === 'upsert' && message.event.object && typeof message.yaml === 'string') {
        let objects = this.seeds.get(message.target);
        if (!objects) {
          objects = new Map();
          this.seeds.set(message.target, objects);
        }
        const { identity } = message.event;
        objects.set(`${identity.clusterId}/${identity.group}/${identity.kind}/${identity.namespace}/${identity.name}`, { identity, object: message.event.object, yaml: message.yaml });
      }
    }
    return batch.items.map(() => ({ status: 'applied' }));
  }

  /** What the seeds of a target would write, one entry per object. */
  seedOf(target: string): SeedObject[] {
    return [...(this.seeds.get(target)?.values() ?? [])];
  }

  /** The snapshot ends a target received (one per source that seeded it). */
  endsOf(target: string): readonly SnapshotEndMessage[] {
    return this.ends.get(target) ?? [];
  }

  async flush(): Promise<void> {}

  stop(): Promise<void> {
    return this.real.stop();
  }

  health(): AdapterHealth {
    return { state: 'ready' };
  }
}

/**
 * The sink's descriptor, creating a ComparingSink around what it creates: same options, same
 * services (they are the real sink's, so encoders read what the target really holds).
 */
export function comparingDescriptor(real: AdapterDescriptor<'sink'>, created: (sink: ComparingSink, provided: ReadonlyMap<string, unknown>) => void): AdapterDescriptor<'sink'> {
  return {
    ...real,
    create: (context) => {
      const provided = new Map<string, unknown>();
      const sink = new ComparingSink(
        real.create({
          ...context,
          provide: (token, value) => {
            provided.set(token.id, value);
            context.provide(token, value);
          },
        }),
      );
      created(sink, provided);
      return sink;
    },
  };
}
