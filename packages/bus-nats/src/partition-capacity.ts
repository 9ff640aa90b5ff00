/**
 * Back-pressure per partition: `publish` waits while a partition has `capacity` undelivered messages.
 * The server is asked only when its last answer plus what this process published since reaches the
 * capacity, so a publish into a partition with room costs no extra round trip.
 */
export class PartitionCapacity {
  /** Per partition token: the server's undelivered count when last asked, and what was published since. */
  private readonly estimates = new Map<string, { server: number; since: number }>();

  constructor(
    private readonly capacity: number,
    /** The server's count of a partition's undelivered messages. */
    private readonly undelivered: (token: string) => Promise<number>,
  ) {}

  /**
   * Resolves when the partition has room; also when `stopped()` or the signal says to give up
   * waiting. True when it had to ask the server (time passed), false when there was room at once.
   */
  async waitForRoom(token: string, options: { signal: AbortSignal | undefined; stopped: () => boolean; onFull: (undelivered: number) => void }): Promise<boolean> {
    let estimate = this.estimates.get(token);
    if (!estimate) {
      estimate = { server: 0, since: 0 };
      this.estimates.set(token, estimate);
    }
    if (estimate.server + estimate.since < this.capacity) return false;
    for (let attempt = 1; ; attempt++) {
      if (options.stopped() || options.signal?.aborted) return true;
      estimate.server = await this.undelivered(token);
      estimate.since = 0;
      if (estimate.server < this.capacity) return true;
      if (attempt === 1) options.onFull(estimate.server);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** A new message (not a duplicate) was stored in the partition. */
  published(token: string): void {
    const estimate = this.estimates.get(token);
    if (estimate) estimate.since++;
  }
}
