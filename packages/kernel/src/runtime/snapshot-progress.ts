/** Counts kept while the runtime runs, read by `Runtime.snapshot()` for its progress and report. */
export class SnapshotCounters {
  /** Objects handed to the kernel by sources, seed and live. */
  objectsReceived = 0;
  /** Objects the sink reported applied or unchanged. */
  objectsWritten = 0;
  /** Per target: objects of a snapshot the kernel refused (the snapshot ended partial there). */
  private readonly refusedByTarget = new Map<string, number>();

  refused(target: string, count: number): void {
    this.refusedByTarget.set(target, (this.refusedByTarget.get(target) ?? 0) + count);
  }

  /** Targets whose snapshots ended partial because objects were refused, with how many. */
  refusals(): ReadonlyMap<string, number> {
    return this.refusedByTarget;
  }
}
