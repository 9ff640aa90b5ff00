/** TLS to the NATS server. Any of it set means TLS is required (a plain connection is refused). */
export interface NatsTlsOptions {
  /** CA certificate(s) (PEM) the server's certificate must chain to; default: Node's trusted CAs. */
  readonly caFile?: string;
  /** Client certificate (PEM) for servers that verify clients (mTLS); needs `keyFile`. */
  readonly certFile?: string;
  readonly keyFile?: string;
}

/** A key that authenticates bus messages; every replica of an installation has the same ones. */
export interface NatsMessageKey {
  /** Names the key in each message's `Gr-Mac-Key` header, so keys can be rotated. */
  readonly id: string;
  /** A file holding the key (32+ bytes, e.g. `openssl rand -base64 48`), e.g. a mounted Secret. */
  readonly file?: string;
  /** The key itself (32+ characters), e.g. `"${NATS_MESSAGE_KEY}"`; prefer `file`. */
  readonly value?: string;
}

/** The bus's `with:` options, defaults filled in by the descriptor's schema (see the README's table). */
export interface NatsBusOptions {
  readonly servers: readonly string[];
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  /** An nkey seed file (`SU...`): the server knows the user by its public key. Read at each connect. */
  readonly nkeySeedFile?: string;
  /** A `.creds` file (user JWT and nkey seed) for servers in operator mode. Read at each connect. */
  readonly credsFile?: string;
  readonly tls?: NatsTlsOptions;
  /**
   * Keys of the HMAC each message carries; the first signs, all verify (rotation). A delivery without
   * a valid MAC is dead-lettered, never written. See ADR 0014.
   */
  readonly messageKeys: readonly NatsMessageKey[];
  /** Accept (and publish) messages without a MAC: anyone who can publish to NATS can then write. */
  readonly allowUnsignedMessages: boolean;
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
  /**
   * Window in which two publishes with one message id are one message (replicas watching one
   * cluster). Also the replay window: a signed message stored more than half of it before or after
   * it was signed is refused, so clocks of replicas and NATS must agree within half of it.
   */
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
