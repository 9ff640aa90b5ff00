/** Counts kept while the runtime runs, read by `Runtime.snapshot()` for its progress and report. */
export class SnapshotCounters {
  /** Objects handed to the kernel by sources, seed and live. */
  objectsReceived = 0;
  /** Objects the sink reported applied or unchanged. */
  objectsWritten = 0;
  /** Per target: who refused how many objects of its snapshots (the snapshots ended partial there). */
  private readonly refusedByTarget = new Map<string, Map<string, number>>();

  refused(target: string, refusals: ReadonlyMap<string, number>): void {
    const known = this.refusedByTarget.get(target) ?? new Map<string, number>();
    for (const [who, count] of refusals) known.set(who, (known.get(who) ?? 0) + count);
    this.refusedByTarget.set(target, known);
  }

  /** Targets whose snapshots ended partial because objects were refused: `{adapter} ({code})` -> count. */
  refusals(): ReadonlyMap<string, ReadonlyMap<string, number>> {
    return this.refusedByTarget;
  }
}
