/**
 * Every error a user can meet carries a stable code, a message that names what is wrong and where,
 * and a fix. Codes are grouped by area; docs/errors.md lists each one and a test keeps both in step.
 */
export const ErrorCodes = {
  /** The config file cannot be read. */
  CONFIG_READ: 'GR_ERR_CONFIG_READ',
  /** The config file is not valid YAML. */
  CONFIG_YAML: 'GR_ERR_CONFIG_YAML',
  /** A key the config does not know. */
  CONFIG_UNKNOWN_KEY: 'GR_ERR_CONFIG_UNKNOWN_KEY',
  /** A required key is missing or a value has the wrong type or form. */
  CONFIG_INVALID: 'GR_ERR_CONFIG_INVALID',
  /** A `${VAR}` reference to an environment variable that is not set. */
  CONFIG_ENV: 'GR_ERR_CONFIG_ENV',
  /** A name that refers to something the config does not define (rule -> target, target -> provider). */
  CONFIG_DANGLING_REF: 'GR_ERR_CONFIG_DANGLING_REF',
  /** A target's branch is not in its provider's allowedBranches. */
  CONFIG_BRANCH_NOT_ALLOWED: 'GR_ERR_CONFIG_BRANCH_NOT_ALLOWED',
  /** A target path that is absolute or leaves the repository. */
  CONFIG_PATH: 'GR_ERR_CONFIG_PATH',
  /** Two targets on one branch whose paths are equal or nested. */
  CONFIG_OVERLAP: 'GR_ERR_CONFIG_OVERLAP',
  /** Two entries with the same name. */
  CONFIG_DUPLICATE: 'GR_ERR_CONFIG_DUPLICATE',
  /** An adapter package or file that cannot be found. */
  PLUGIN_NOT_FOUND: 'GR_ERR_PLUGIN_NOT_FOUND',
  /** An adapter module that failed while being imported. */
  PLUGIN_IMPORT: 'GR_ERR_PLUGIN_IMPORT',
  /** An adapter module whose default export is not an adapter descriptor. */
  PLUGIN_SHAPE: 'GR_ERR_PLUGIN_SHAPE',
  /** An adapter configured in a slot it does not implement. */
  PLUGIN_SLOT: 'GR_ERR_PLUGIN_SLOT',
  /** An adapter built for a kernel version range this kernel is not in. */
  PLUGIN_KERNEL_VERSION: 'GR_ERR_PLUGIN_KERNEL_VERSION',
  /** Adapter options (`with:`) that do not match the adapter's schema. */
  PLUGIN_OPTIONS: 'GR_ERR_PLUGIN_OPTIONS',
  /** An adapter that failed to start or stop. */
  PLUGIN_LIFECYCLE: 'GR_ERR_PLUGIN_LIFECYCLE',
  /** A Kubernetes object that cannot be turned into an event (no kind, no name, ...). */
  EVENT_INVALID_OBJECT: 'GR_ERR_EVENT_INVALID_OBJECT',
  /** A bus that was used after it was stopped. */
  BUS_CLOSED: 'GR_ERR_BUS_CLOSED',
  /** The /healthz /readyz /metrics server cannot listen (port in use, no permission). */
  SERVER_LISTEN: 'GR_ERR_SERVER_LISTEN',
  /** Command line usage error. */
  CLI_USAGE: 'GR_ERR_CLI_USAGE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

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

  /** One line for humans: `CODE: message (fix: ...)`. */
  describe(): string {
    return `${this.code}: ${this.message}${this.fix ? `\n  fix: ${this.fix}` : ''}`;
  }
}

/** The one factory every package uses, so codes, fixes and causes look the same everywhere. */
export function grError(code: string, message: string, options?: GitopsReverserErrorOptions): GitopsReverserError {
  return new GitopsReverserError(code, message, options);
}

export function isGitopsReverserError(value: unknown): value is GitopsReverserError {
  const code = (value as { code?: unknown } | undefined)?.code;
  return value instanceof Error && typeof code === 'string' && code.startsWith('GR_ERR_');
}

/** Text of any thrown value, for logs. */
export function errorText(error: unknown): string {
  if (isGitopsReverserError(error)) return error.describe();
  if (error instanceof Error) return error.message;
  return String(error);
}
