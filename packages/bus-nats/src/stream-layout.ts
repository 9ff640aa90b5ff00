import { createHash } from 'node:crypto';

/** Subject-safe token of a partition key (keys hold "/", ":", "#"...). */
export function partitionToken(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}

/** Header naming a message's partition key: subjects only carry its token. */
export const HEADER_PARTITION = 'Gr-Partition';
/** Header of a dead-lettered message: why the sink rejected it. */
export const HEADER_REASON = 'Gr-Reject-Reason';

/**
 * The names one installation (one `stream`, one `subjectPrefix`) uses in NATS: every partition is a
 * subject of one work-queue stream with its own durable consumer; rejected messages go to a DLQ
 * stream; writer leases live in a KV bucket beside them.
 */
export class StreamLayout {
  constructor(
    readonly stream: string,
    private readonly subjectPrefix: string,
  ) {}

  /** Subjects of all partitions (the work-queue stream's subjects). */
  get partitionSubjects(): string {
    return `${this.subjectPrefix}.p.>`;
  }

  get deadLetterStream(): string {
    return `${this.stream}_DLQ`;
  }

  get deadLetterSubjects(): string {
    return `${this.subjectPrefix}.dlq.>`;
  }

  get leaseBucket(): string {
    return `${this.stream}_LEASES`;
  }

  partitionSubject(token: string): string {
    return `${this.subjectPrefix}.p.${token}`;
  }

  deadLetterSubject(token: string): string {
    return `${this.subjectPrefix}.dlq.${token}`;
  }

  /** The durable consumer of a partition: one per partition, whichever replica holds its lease. */
  consumerName(token: string): string {
    return `p-${token}`;
  }

  tokenOfSubject(subject: string): string {
    return subject.slice(subject.lastIndexOf('.') + 1);
  }
}
