/** Error codes of the audit source (see docs/errors.md). */
export const AuditErrorCodes = {
  /** The audit listener cannot start: TLS files unreadable, port in use, or two clusters on one port with different TLS. */
  LISTEN: 'GR_ERR_AUDIT_LISTEN',
  /** A cluster's audit source has no way to authenticate the API server (no token, no client certificate). */
  AUTH_CONFIG: 'GR_ERR_AUDIT_AUTH_CONFIG',
} as const;
