import { randomUUID } from 'node:crypto';
import type { Bus, SnapshotEndMessage, SnapshotWriter } from '@gitops-reverser/contract';
import type { RouteTable } from '../routing/route-table.js';
import type { EventOrigin, Ingest } from './ingest.js';
import type { KernelMetrics } from '../runtime/metrics.js';

export interface SnapshotWriterOptions {
  readonly ingest: Ingest;
  readonly bus: Bus;
  /** Read when the snapshot completes (a reload may have changed the routes). */
  readonly routes: () => RouteTable;
  readonly metrics: KernelMetrics;
  readonly origin: EventOrigin;
  /** The targets the snapshot covers. */
  readonly targets: readonly string[];
  /** Told when a target's snapshot ends partial because objects were refused, with who refused how many (for `Runtime.snapshot()`). */
  readonly onRefused?: (target: string, refusals: ReadonlyMap<string, number>) => void;
}

/**
 * One running snapshot: counts the seed events routed to each covered target and, on completion,
 * publishes each target's snapshot end. A target is marked partial when the source says so or when
 * the kernel refused any of its objects: its writer then prunes nothing on the basis of this snapshot
 * (a refused object's file must survive, whatever refused it).
 */
export function beginSnapshot(options: SnapshotWriterOptions): SnapshotWriter {
  const snapshotId = randomUUID();
  const counts = new Map<string, number>(options.targets.map((target) => [target, 0]));
  /** Per target: `{adapter} ({code})` -> how many objects it refused. */
  const refused = new Map<string, Map<string, number>>();
  const covered: ReadonlySet<string> = new Set(options.targets);
  let completed = false;
  return {
    snapshotId,
    emit: async (event) => {
      if (completed) throw new Error(`snapshot ${snapshotId} is already complete`);
      const result = await options.ingest.accept({ ...event, phase: 'seed', snapshotId }, options.origin, covered);
      for (const target of result.published) counts.set(target, (counts.get(target) ?? 0) + 1);
      for (const refusal of result.refused) {
        for (const target of refusal.target === '*' ? covered : [refusal.target]) {
          const who = refused.get(target) ?? new Map<string, number>();
          const name = `${refusal.adapter} (${refusal.code})`;
          who.set(name, (who.get(name) ?? 0) + 1);
          refused.set(target, who);
        }
      }
    },
    complete: async (completion = {}) => {
      if (completed) return;
      completed = true;
      const partial = new Set(completion.partialTargets ?? []);
      for (const [target, objectCount] of counts) {
        const route = options.routes().route(target);
        if (!route) continue;
        const who = refused.get(target);
        if (who) options.onRefused?.(target, who);
        const end: SnapshotEndMessage = {
          kind: 'snapshot-end',
          target,
          snapshotId,
          objectCount,
          clusterId: options.origin.cluster,
          completedAt: new Date().toISOString(),
          ...(partial.has(target) || who ? { partial: true } : {}),
          ...(completion.resourceVersions && Object.keys(completion.resourceVersions).length > 0 ? { resourceVersions: { ...completion.resourceVersions } } : {}),
        };
        await options.bus.publish(route.partition.key, end);
        options.metrics.messagesPublished.inc({ target, kind: 'snapshot-end' });
      }
    },
  };
}
