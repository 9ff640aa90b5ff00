/** Error codes of the NATS bus (see docs/errors.md). */
export const NatsBusErrorCodes = {
  /** The first connection to NATS failed (wrong address, credentials, TLS, or no JetStream). */
  CONNECT: 'GR_ERR_NATS_CONNECT',
  /** Two ways to log in at once, a password without a user, a client certificate without its key, or a credentials file that cannot be read. */
  AUTH_CONFIG: 'GR_ERR_NATS_AUTH_CONFIG',
  /** No message key (and unsigned messages not allowed), a key file that cannot be read, a key too short, or an id used twice. */
  MESSAGE_KEY: 'GR_ERR_NATS_MESSAGE_KEY',
  /** A delivery without a valid MAC (unsigned, an unknown key, altered or forged, replayed): dead-lettered, never written. */
  MESSAGE_UNAUTHENTICATED: 'GR_ERR_NATS_MESSAGE_UNAUTHENTICATED',
  /** An authenticated delivery whose body is not JSON (a bug of a key holder): dead-lettered. */
  MESSAGE_UNREADABLE: 'GR_ERR_NATS_MESSAGE_UNREADABLE',
} as const;
