/** Error codes of the webhook listener the webhook sources share (see docs/errors.md). */
export const WebhookErrorCodes = {
  /** A webhook listener cannot start: TLS files unreadable, port in use, or two sources on one address with different TLS files. */
  LISTEN: 'GR_ERR_WEBHOOK_LISTEN',
  /** A webhook source would accept anyone, or its credentials are unusable: no token and no client certificate, a short or blank token, a token file that cannot be used. */
  AUTH_CONFIG: 'GR_ERR_WEBHOOK_AUTH_CONFIG',
} as const;
