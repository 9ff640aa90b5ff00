import { type BusMessage, identityKey } from '@gitops-reverser/contract';

/** The message id that makes replicas' publishes of one observation one message (JetStream deduplicates on it). */
export function messageId(message: BusMessage): string {
  if (message.kind === 'snapshot-end') return `snapshot-end|${message.target}|${message.snapshotId}`;
  if (message.kind === 'attribution') return `attribution|${message.target}|${message.fact.by}|${message.fact.id}|${identityKey(message.fact.identity)}`;
  const { event } = message;
  // Seeds carry their snapshot: each snapshot stays complete (its marker counts its own events).
  return `change|${message.target}|${identityKey(event.identity)}|${event.resourceVersion}|${event.operation}|${event.snapshotId ?? ''}`;
}
