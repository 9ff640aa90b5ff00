import { identityKey, type BusMessage, type ResourceIdentity, type SnapshotEndMessage } from '@gitops-reverser/contract';
import { type StalenessWatermark, versionOf } from './staleness-watermark.js';

const DECIMAL = /^\d+$/;

/**
 * The objects a snapshot must not prune although it does not hold them: written (before this batch,
 * or earlier in it and not stale) at a resourceVersion newer than the snapshot shows their type as of.
 * Such an object was created or changed after the snapshot's source listed: another replica saw it
 * first and its change was written before this lagging snapshot arrived (ADR 0040). Without the
 * source's `resourceVersions` nothing is known, and nothing is returned.
 */
export function newerThanSnapshot(end: SnapshotEndMessage, batch: readonly BusMessage[], stale: readonly boolean[], watermark: StalenessWatermark): ResourceIdentity[] {
  const asOf = end.resourceVersions;
  if (!asOf) return [];
  const inSnapshot = new Set<string>();
  const newest = new Map<string, { identity: ResourceIdentity; rv: bigint }>();
  const note = (identity: ResourceIdentity, rv: bigint) => {
    const key = identityKey(identity);
    const known = newest.get(key);
    if (!known || known.rv < rv) newest.set(key, { identity, rv });
  };
  for (const written of watermark.of(end.target)) note(written.identity, written.resourceVersion);
  batch.forEach((message, i) => {
    if (message.kind !== 'change' || message.target !== end.target) return;
    if (message.event.snapshotId === end.snapshotId) {
      inSnapshot.add(identityKey(message.event.identity));
      return;
    }
    const rv = versionOf(message);
    if (rv !== undefined && !stale[i]) note(message.event.identity, rv);
  });
  const kept: ResourceIdentity[] = [];
  for (const [key, { identity, rv }] of newest) {
    if (identity.clusterId !== end.clusterId || inSnapshot.has(key)) continue;
    const listed = asOf[`${identity.group}/${identity.resource}`];
    if (listed !== undefined && DECIMAL.test(listed) && rv > BigInt(listed)) kept.push(identity);
  }
  return kept;
}
