/** Error codes of the SOPS encoder (see docs/errors.md). */
export const SopsErrorCodes = {
  /** No usable age recipient: none configured, one malformed, or a keys file that cannot be read. */
  KEYS: 'GR_ERR_SOPS_KEYS',
  /** Encrypting one object failed; it is not written (logged with the object's key). */
  ENCRYPT: 'GR_ERR_SOPS_ENCRYPT',
} as const;
