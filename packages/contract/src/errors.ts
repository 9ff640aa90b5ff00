/**
 * Every error a user can meet carries a stable code, a message that names what is wrong and where,
 * and a fix. Packages define their codes as `<Area>ErrorCodes` objects; docs/errors.md lists each one
 * and a test keeps both in step. This is the one factory all packages use.
 */
export const ContractErrorCodes = {
  /** A Kubernetes object that cannot be turned into an event (no kind, no name, ...). */
  EVENT_INVALID_OBJECT: 'GR_ERR_EVENT_INVALID_OBJECT',
  /** A bus that was used after it was stopped. */
  BUS_CLOSED: 'GR_ERR_BUS_CLOSED',
  /**
   * A message the bus can never carry (larger than its limit). `publish` rejects with it at once and
   * never retries; `details` hold `sizeBytes` and `limitBytes`. The kernel refuses the change.
   */
  BUS_MESSAGE_TOO_LARGE: 'GR_ERR_BUS_MESSAGE_TOO_LARGE',
} as const;

export interface GitopsReverserErrorOptions {
  /** What the user can do about it. Shown after the message. */
  fix?: string;
  /** The underlying error (from a dependency: git, NATS, the Kubernetes client, the filesystem). */
  cause?: unknown;
  /** Structured details for logs (file, key path, package name, ...). */
  details?: Record<string, unknown>;
}

export class GitopsReverserError extends Error {
  readonly code: string;
  readonly fix: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: GitopsReverserErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GitopsReverserError';
    this.code = code;
    this.fix = options.fix;
    this.details = options.details ?? {};
  }

  /** For humans: `CODE: message` and the fix on a second line. */
  describe(): string {
    return `${this.code}: ${this.message}${this.fix ? `\n  fix: ${this.fix}` : ''}`;
  }
}

/** The one factory every package uses, so codes, fixes and causes look the same everywhere. */
export function grError(code: string, message: string, options?: GitopsReverserErrorOptions): GitopsReverserError {
  return new GitopsReverserError(code, message, options);
}

/**
 * The form of every error code: capital words joined by `_`, the first naming who reports it, then
 * `ERR`, then what went wrong: `GR_ERR_CONFIG_READ` (this project), `ACME_S3_ERR_BUCKET` (an adapter).
 */
const ERROR_CODE_FORM = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*_ERR(_[A-Z0-9]+)+$/;

/**
 * An error made with `grError` (or shaped like one): an Error with `describe()` and a code of the
 * form above, this project's or an adapter's own. Duck-typed, so an error made by another copy of
 * this package is recognized too.
 */
export function isGitopsReverserError(value: unknown): value is GitopsReverserError {
  const candidate = value as { code?: unknown; describe?: unknown } | undefined;
  return value instanceof Error && typeof candidate?.code === 'string' && ERROR_CODE_FORM.test(candidate.code) && typeof candidate.describe === 'function';
}

/** Text of any thrown value, for logs. */
export function errorText(error: unknown): string {
  if (isGitopsReverserError(error)) return error.describe();
  if (error instanceof Error) return error.message;
  return String(error);
}
