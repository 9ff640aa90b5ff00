import type { BusMessage } from '@gitops-reverser/contract';

/**
 * Which snapshots in a worker's buffer still lack their end. A snapshot is open while its target's
 * newest seed events have no snapshot end yet (older snapshots of a target are superseded), until the
 * buffer has waited `waitMs`: then what arrived is applied (and, lacking its end, prunes nothing).
 */
export class OpenSnapshots {
  private readonly latest = new Map<string, string>();
  private readonly completed = new Set<string>();

  constructor(
    private readonly waitMs: number,
    private readonly onTimeout: (target: string, snapshotId: string) => void,
  ) {}

  add(message: BusMessage): void {
    if (message.kind === 'snapshot-end') this.completed.add(`${message.target}|${message.snapshotId}`);
    else if (message.kind === 'change' && message.event.snapshotId) this.latest.set(message.target, message.event.snapshotId);
  }

  clear(): void {
    this.latest.clear();
    this.completed.clear();
  }

  /** True while one is open; past the wait, says so once and lets the buffer go. */
  open(since: number): boolean {
    for (const [target, snapshotId] of this.latest) {
      if (this.completed.has(`${target}|${snapshotId}`)) continue;
      if (Date.now() - since > this.waitMs) {
        this.onTimeout(target, snapshotId);
        return false;
      }
      return true;
    }
    return false;
  }
}
