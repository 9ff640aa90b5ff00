/** The bus's `with:` options, defaults filled in by the descriptor's schema (see the README's table). */
export interface NatsBusOptions {
  readonly servers: readonly string[];
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  /** JetStream stream of this installation (its DLQ stream is `<stream>_DLQ`, its lease bucket `<stream>_LEASES`). */
  readonly stream: string;
  readonly subjectPrefix: string;
  /** Stream replicas: 1 for a single server, 3 for a JetStream cluster. */
  readonly replicas: number;
  /** Messages waiting (not yet delivered) per partition before `publish` waits. */
  readonly capacityPerPartition: number;
  /** Stream size limits; a full stream makes `publish` wait, it never drops. 0 = unlimited. */
  readonly maxBytes: number;
  readonly maxMessages: number;
  /** Window in which two publishes with one message id are one message (replicas watching one cluster). */
  readonly duplicateWindowSeconds: number;
  /** How long a delivered message may stay unacked before the server redelivers it (held messages are refreshed). */
  readonly ackWaitSeconds: number;
  /** A writer's lease on a partition lasts this long without a heartbeat: the takeover time after a crash. */
  readonly leaseSeconds: number;
  /** How often partitions (subjects with messages) are looked for. */
  readonly discoveryMs: number;
  /** This replica's name in leases (default: host, pid and a random suffix). */
  readonly replicaId?: string;
}
