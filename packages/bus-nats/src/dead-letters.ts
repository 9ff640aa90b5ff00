import type { CounterMetric, Logger } from '@gitops-reverser/contract';
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders, type Msg } from '@nats-io/transport-node';
import { messageBytes } from './payload-limit.js';
import { HEADER_PARTITION, HEADER_REASON, type StreamLayout } from './stream-layout.js';

/** Why a message went to the dead-letter stream: the bus's own checks, or the kernel's `reject`. */
export type DeadLetterLabel = 'unsigned' | 'unknown_key' | 'bad_mac' | 'replayed' | 'unreadable' | 'rejected';

/** Header of a dead-letter copy whose body did not fit `max_payload` beside the reason: the body's size. */
export const HEADER_BODY_DROPPED = 'Gr-Body-Dropped';

/** The same reason is logged at most once in this time (a flood of forgeries is one line plus counts). */
const LOG_EVERY_MS = 10_000;

export interface DeadLettersOptions {
  readonly layout: StreamLayout;
  readonly js: () => JetStreamClient | undefined;
  /** The connected server's max_payload. */
  readonly maxPayload: () => number | undefined;
  readonly logger: () => Logger | undefined;
  /** `gitops_reverser_nats_dead_letters_total{reason}`. */
  readonly counter: CounterMetric<'reason'>;
}

/**
 * The dead-letter stream (`<stream>_DLQ`, subject `<prefix>.dlq.<partition>`): where messages that can
 * never be handled go, with their reason (`Gr-Reject-Reason`) and their original headers (the MAC
 * ones included, for forensics). Counted by reason; the bus's own refusals (forged, unreadable) are
 * logged with their code, at most once per reason every 10 s.
 */
export class DeadLetters {
  private readonly counts = new Map<DeadLetterLabel, number>();
  private readonly logged = new Map<DeadLetterLabel, { at: number; since: number }>();

  constructor(private readonly options: DeadLettersOptions) {}

  /** Stores a copy of `msg` with its reason; throws when JetStream did not take it (the caller keeps the original). */
  async put(msg: Msg, partition: { token: string; key: string }, label: DeadLetterLabel, reason: string): Promise<void> {
    const js = this.options.js();
    if (!js) throw new Error('the NATS bus is not connected');
    const headers = natsHeaders();
    for (const [name, values] of msg.headers ?? []) {
      // JetStream's own headers stay behind: a copy must not be deduplicated or checked like a publish.
      if (name.toLowerCase().startsWith('nats-')) continue;
      for (const value of values) headers.append(name, value);
    }
    headers.set(HEADER_PARTITION, partition.key);
    // A header value cannot hold a line break (a sink's reason may): one line, bounded.
    headers.set(HEADER_REASON, reason.replace(/[\r\n]+/g, ' ').slice(0, 1000));
    let data = msg.data;
    const limit = this.options.maxPayload();
    if (limit !== undefined && messageBytes(headers, data) > limit) {
      headers.set(HEADER_BODY_DROPPED, String(data.length));
      data = new Uint8Array();
    }
    await js.publish(this.options.layout.deadLetterSubject(partition.token), data, { headers });
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
    this.options.counter.inc({ reason: label });
  }

  /** Logs a refusal of the bus's own (not the kernel's reject, which the kernel logs), throttled per reason. */
  report(code: string, partitionKey: string, label: DeadLetterLabel, reason: string): void {
    const now = Date.now();
    const last = this.logged.get(label);
    if (last && now - last.at < LOG_EVERY_MS) {
      last.since++;
      return;
    }
    this.logged.set(label, { at: now, since: 0 });
    this.options
      .logger()
      ?.error(
        { code, partition: partitionKey, reason: label, ...(last?.since ? { alsoSinceLastLine: last.since } : {}) },
        `${code}: a message on ${partitionKey} is not written and goes to the dead-letter stream: ${reason}`,
      );
  }

  /** Dead-lettered by this process since it started, by reason (for /readyz). */
  get byReason(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.counts);
  }
}
