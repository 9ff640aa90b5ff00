/** Error codes of the NATS bus (see docs/errors.md). */
export const NatsBusErrorCodes = {
  /** The first connection to NATS failed (wrong address, credentials, or no JetStream). */
  CONNECT: 'GR_ERR_NATS_CONNECT',
} as const;
