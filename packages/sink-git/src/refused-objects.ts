import { identityKey, type SinkItem, type SinkOutcome } from '@gitops-reverser/contract';
import { type PlannedCommit, type PlannedRefusal, snapshotComplete } from './commit-plan.js';

/** An object whose newest change a person's file stopped, on one target. */
export interface RefusedObject extends PlannedRefusal {
  readonly target: string;
  /** A fresh snapshot of the target was asked for after the file changed; not asked again for it. */
  snapshotAsked: boolean;
}

/**
 * The objects of one branch that are not written because a person's file stops them (ADR 0039):
 * what keeps the sink degraded, until each is written. When the file that stopped one changes (a
 * person fixed or removed it), the writer asks for a fresh snapshot of its target, which writes the
 * object; nobody has to find the dead-lettered change.
 */
export class RefusedObjects {
  private readonly objects = new Map<string, RefusedObject>();

  get size(): number {
    return this.objects.size;
  }

  list(): readonly RefusedObject[] {
    return [...this.objects.values()];
  }

  /**
   * Sets the final outcomes of the plans' refused items (`rejected`, with the refusal's text) and an
   * item refused by an earlier placement of its plan but written by the last one (a replay on a
   * moved remote) back to `applied`. Returns the refusals new in this batch.
   */
  settle(items: readonly SinkItem[], plans: readonly PlannedCommit[], outcomes: SinkOutcome[], refusedBefore: ReadonlySet<number>): PlannedRefusal[] {
    const fresh: PlannedRefusal[] = [];
    const refusedNow = new Set<number>();
    // A complete snapshot holds every live object of its target: one it refuses again is added back
    // below, and one it does not hold was deleted meanwhile (nothing is left to write).
    const snapshotted = new Set(plans.filter(snapshotComplete).map((plan) => plan.target.name));
    for (const [key, object] of this.objects) if (snapshotted.has(object.target)) this.objects.delete(key);
    for (const plan of plans) {
      for (const [index, refusal] of plan.refused ?? []) {
        refusedNow.add(index);
        outcomes[index] = { status: 'rejected', reason: refusal.reason };
        const target = items[index]?.message.target ?? plan.target.name;
        const key = `${target}|${identityKey(refusal.identity)}`;
        const known = this.objects.get(key);
        if (!known || known.blob !== refusal.blob || known.reason !== refusal.reason) fresh.push(refusal);
        this.objects.set(key, { ...refusal, target, snapshotAsked: known !== undefined && known.blob === refusal.blob && known.snapshotAsked });
      }
    }
    for (const index of refusedBefore) if (!refusedNow.has(index)) outcomes[index] = { status: 'applied' };
    items.forEach((item, index) => {
      const message = item.message;
      if (message.kind !== 'change' || refusedNow.has(index)) return;
      const status = outcomes[index]?.status;
      if (status === 'applied' || status === 'unchanged') this.objects.delete(`${message.target}|${identityKey(message.event.identity)}`);
    });
    return fresh;
  }

  /**
   * The targets to snapshot again: those with a refused object whose file is no longer what stopped
   * it (`current`: the id at that path now, undefined when it is gone). Each change asks once.
   */
  async fixed(current: (path: string) => Promise<string | undefined>): Promise<{ targets: string[]; paths: string[] }> {
    const targets = new Set<string>();
    const paths = new Set<string>();
    for (const object of this.objects.values()) {
      if (object.snapshotAsked || object.path === '') continue;
      if ((await current(object.path)) === object.blob) continue;
      object.snapshotAsked = true;
      targets.add(object.target);
      paths.add(object.path);
    }
    return { targets: [...targets].sort(), paths: [...paths].sort() };
  }
}
