import { DiscardPolicy, type JetStreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { NatsBusOptions } from './nats-bus-options.js';
import type { StreamLayout } from './stream-layout.js';

/**
 * Creates the work-queue stream and its DLQ stream, or updates them to the options (limits, window).
 * File storage: what JetStream acknowledged survives a restart of NATS.
 */
export async function ensureStreams(jsm: JetStreamManager, layout: StreamLayout, options: NatsBusOptions): Promise<void> {
  const work = {
    name: layout.stream,
    subjects: [layout.partitionSubjects],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: options.replicas,
    // A full stream refuses new messages: publishers wait and retry, nothing stored is dropped.
    discard: DiscardPolicy.New,
    max_bytes: options.maxBytes > 0 ? options.maxBytes : -1,
    max_msgs: options.maxMessages > 0 ? options.maxMessages : -1,
    duplicate_window: options.duplicateWindowSeconds * 1_000_000_000,
  };
  const deadLetters = { name: layout.deadLetterStream, subjects: [layout.deadLetterSubjects], storage: StorageType.File, num_replicas: options.replicas };
  for (const stream of [work, deadLetters]) {
    try {
      await jsm.streams.info(stream.name);
      await jsm.streams.update(stream.name, stream as never);
    } catch {
      await jsm.streams.add(stream as never);
    }
  }
}
