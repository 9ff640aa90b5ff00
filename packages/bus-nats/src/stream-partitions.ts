import type { JetStreamManager } from '@nats-io/jetstream';
import { HEADER_PARTITION, partitionToken, type StreamLayout } from './stream-layout.js';

/** A partition as the stream holds it. */
export interface PartitionCount {
  readonly token: string;
  readonly key: string;
  /** Messages of the partition in the stream (a work queue: not yet acked). */
  readonly count: number;
}

/**
 * What the server knows about partitions: which subjects hold messages, how many, how many are not
 * delivered yet. Subjects only carry a partition's token; its key comes from publishes of this
 * process or, for partitions another replica published to, from the header of its last message.
 *
 * Counts go to a callback in the turn the server's answer arrives, not in a returned list: a publish
 * acked in the same read would otherwise be counted first and then overwritten by this older count.
 * (An answer arriving after such an ack still overwrites it, until the next count.)
 */
export class StreamPartitions {
  constructor(
    private readonly jsm: JetStreamManager,
    private readonly layout: StreamLayout,
    /** Partition keys by subject token, shared with the bus (which learns them from its publishes). */
    private readonly keys: Map<string, string>,
  ) {}

  /**
   * Every partition with messages in the stream (learning the keys of new ones), then every other
   * known partition with a count of 0. Throws when the server cannot be asked.
   */
  async discover(found: (partition: PartitionCount) => void): Promise<void> {
    const info = await this.jsm.streams.info(this.layout.stream, { subjects_filter: this.layout.partitionSubjects });
    const subjects = (info.state.subjects ?? {}) as Record<string, number>;
    const seen = new Set<string>();
    for (const [subject, count] of Object.entries(subjects)) {
      const token = this.layout.tokenOfSubject(subject);
      seen.add(token);
      let key = this.keys.get(token);
      if (!key) {
        const last = await this.jsm.streams.getMessage(this.layout.stream, { last_by_subj: subject }).catch(() => undefined);
        key = last?.header.get(HEADER_PARTITION) || undefined;
        // A header naming another partition than its subject is not believed (it would hand the
        // kernel a second lease on that partition); such messages stay unconsumed.
        if (!key || partitionToken(key) !== token) continue;
        this.keys.set(token, key);
      }
      found({ token, key, count });
    }
    for (const [token, key] of this.keys) if (!seen.has(token)) found({ token, key, count: 0 });
  }

  /** The count of every known partition. Throws when the server cannot be asked. */
  async count(found: (partition: PartitionCount) => void): Promise<void> {
    const info = await this.jsm.streams.info(this.layout.stream, { subjects_filter: this.layout.partitionSubjects });
    const subjects = (info.state.subjects ?? {}) as Record<string, number>;
    for (const [token, key] of this.keys) found({ token, key, count: subjects[this.layout.partitionSubject(token)] ?? 0 });
  }

  /** Messages of a partition not delivered yet (its consumer's pending count; the stream's count before it has one); 0 when the server cannot say. */
  async undelivered(token: string): Promise<number> {
    try {
      return (await this.jsm.consumers.info(this.layout.stream, this.layout.consumerName(token))).num_pending;
    } catch {
      try {
        const subject = this.layout.partitionSubject(token);
        const info = await this.jsm.streams.info(this.layout.stream, { subjects_filter: subject });
        return ((info.state.subjects ?? {}) as Record<string, number>)[subject] ?? 0;
      } catch {
        return 0;
      }
    }
  }
}
