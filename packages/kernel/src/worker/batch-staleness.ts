import type { BusMessage } from '@gitops-reverser/contract';
import { keyOf, type StalenessWatermark, versionOf } from './staleness-watermark.js';

/**
 * Which messages of a batch are stale changes: older than the newest written before the batch (the
 * watermark) or than an earlier change of the same object in the same batch. The batch matters as
 * much as the watermark: a snapshot's seeds are held until its end, so the live changes that another
 * replica sent while a lagging one listed often arrive in the same batch, ahead of the older seeds,
 * and the sink writes them first (ADR 0040).
 */
export function staleChanges(messages: readonly BusMessage[], watermark: StalenessWatermark): boolean[] {
  const newestInBatch = new Map<string, bigint>();
  return messages.map((message) => {
    if (message.kind !== 'change') return false;
    if (watermark.isStale(message)) return true;
    const rv = versionOf(message);
    if (rv === undefined) return false;
    const key = keyOf(message);
    const earlier = newestInBatch.get(key);
    if (earlier !== undefined && rv < earlier) return true;
    newestInBatch.set(key, rv);
    return false;
  });
}
