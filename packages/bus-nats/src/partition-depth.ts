/**
 * Messages not yet acked per partition (the bus's `depth()`, the kernel's `queue_depth`): the
 * server's count when last asked, adjusted by what this process published and settled since.
 */
export class PartitionDepth {
  private readonly counts = new Map<string, number>();
  /** Partitions this process published to: what `drain` waits for. */
  private readonly publishedTo = new Set<string>();

  get byPartition(): ReadonlyMap<string, number> {
    return this.counts;
  }

  /** The server's count of a partition's messages in the stream. */
  set(partitionKey: string, count: number): void {
    this.counts.set(partitionKey, count);
  }

  /** A publish JetStream accepted; a duplicate (same message id) is not one more message. */
  published(partitionKey: string, duplicate: boolean): void {
    if (!duplicate) this.counts.set(partitionKey, (this.counts.get(partitionKey) ?? 0) + 1);
    this.publishedTo.add(partitionKey);
  }

  /** A delivery was settled: acked or rejected removes it, a nack keeps it. */
  settled(partitionKey: string, removed: boolean): void {
    if (removed) this.counts.set(partitionKey, Math.max(0, (this.counts.get(partitionKey) ?? 0) - 1));
  }

  /** Nothing this process published waits any more. */
  drained(): boolean {
    return [...this.publishedTo].every((key) => (this.counts.get(key) ?? 0) === 0);
  }
}
