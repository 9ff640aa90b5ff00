import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/**
 * This replica's right to write one partition: an entry (key: the partition's token, value: the
 * replica id) in the installation's lease bucket. It is created only when absent, so one replica
 * holds it; renewed by compare-and-set on its revision, so a renewal fails once another replica took
 * it; and the bucket's TTL removes it `leaseSeconds` after its holder stopped renewing (a crash), so
 * another replica takes the partition over. See ADR 0010.
 */
export class WriterLease {
  private constructor(
    private readonly bucket: KV,
    readonly token: string,
    private readonly replicaId: string,
    private revision: number,
  ) {}

  /** Opens (creating if absent) the bucket whose entries expire `leaseSeconds` after their last write. */
  static async openBucket(nc: NatsConnection, name: string, options: { leaseSeconds: number; replicas: number }): Promise<KV> {
    return new Kvm(nc).create(name, { ttl: options.leaseSeconds * 1000, history: 1, replicas: options.replicas });
  }

  /** The partition's lease when nobody holds it; undefined when another replica does (or NATS is away). */
  static async acquire(bucket: KV, token: string, replicaId: string): Promise<WriterLease | undefined> {
    try {
      return new WriterLease(bucket, token, replicaId, await bucket.create(token, replicaId));
    } catch {
      return undefined;
    }
  }

  /** Extends the lease; throws when it cannot (another replica holds it now, or NATS is away). */
  async renew(): Promise<void> {
    this.revision = await this.bucket.update(this.token, this.replicaId, this.revision);
  }

  /** Gives the lease back at once, so another replica need not wait for it to expire; only if it is still ours. */
  async release(): Promise<void> {
    await this.bucket.delete(this.token, { previousSeq: this.revision }).catch(() => undefined);
  }
}
