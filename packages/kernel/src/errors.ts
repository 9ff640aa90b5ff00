/**
 * The kernel's error codes (config, plugins, runtime, CLI). The error type and factory live in
 * @gitops-reverser/contract (`grError`), shared with every adapter. docs/errors.md lists each code and
 * a test keeps both in step.
 */
export const ErrorCodes = {
  /** The config file cannot be read. */
  CONFIG_READ: 'GR_ERR_CONFIG_READ',
  /** The config file is not valid YAML. */
  CONFIG_YAML: 'GR_ERR_CONFIG_YAML',
  /** The config has no `apiVersion`, an unknown one, or the shape of an older version. */
  CONFIG_VERSION: 'GR_ERR_CONFIG_VERSION',
  /** A key the config does not know. */
  CONFIG_UNKNOWN_KEY: 'GR_ERR_CONFIG_UNKNOWN_KEY',
  /** A required key is missing or a value has the wrong type or form. */
  CONFIG_INVALID: 'GR_ERR_CONFIG_INVALID',
  /** A `${VAR}` reference to an environment variable that is not set. */
  CONFIG_ENV: 'GR_ERR_CONFIG_ENV',
  /** A name that refers to something the config does not define (rule -> target, rule -> cluster). */
  CONFIG_DANGLING_REF: 'GR_ERR_CONFIG_DANGLING_REF',
  /** Two entries with the same name. */
  CONFIG_DUPLICATE: 'GR_ERR_CONFIG_DUPLICATE',
  /** A target the sink cannot serve (its `planTargets` said why). */
  CONFIG_TARGET: 'GR_ERR_CONFIG_TARGET',
  /** An adapter package or file that cannot be found. */
  PLUGIN_NOT_FOUND: 'GR_ERR_PLUGIN_NOT_FOUND',
  /** An adapter module that failed while being imported. */
  PLUGIN_IMPORT: 'GR_ERR_PLUGIN_IMPORT',
  /** A module whose default export is not an adapter descriptor, or an instance that lacks what its slot needs. */
  PLUGIN_SHAPE: 'GR_ERR_PLUGIN_SHAPE',
  /** An adapter configured in a slot it does not implement. */
  PLUGIN_SLOT: 'GR_ERR_PLUGIN_SLOT',
  /** An adapter built for a kernel version range this kernel is not in. */
  PLUGIN_KERNEL_VERSION: 'GR_ERR_PLUGIN_KERNEL_VERSION',
  /** Adapter options (`with:`) that do not match the adapter's schema. */
  PLUGIN_OPTIONS: 'GR_ERR_PLUGIN_OPTIONS',
  /** An adapter's `create()` threw. */
  PLUGIN_CREATE: 'GR_ERR_PLUGIN_CREATE',
  /** A service an adapter needs that no configured adapter provides, or needs that form a cycle. */
  PLUGIN_SERVICE: 'GR_ERR_PLUGIN_SERVICE',
  /** An adapter failed to start or stop. */
  PLUGIN_LIFECYCLE: 'GR_ERR_PLUGIN_LIFECYCLE',
  /** An adapter's `start()` did not finish within `startup.timeoutSeconds`. */
  PLUGIN_START_TIMEOUT: 'GR_ERR_PLUGIN_START_TIMEOUT',
  /** A sink answered a batch with something that is not one known outcome per item; treated as retry. */
  SINK_OUTCOME: 'GR_ERR_SINK_OUTCOME',
  /** A partition worker stopped on an error; it is restarted with backoff and /readyz is 503 meanwhile. */
  WORKER_CRASHED: 'GR_ERR_WORKER_CRASHED',
  /** A sink's apply() or flush() has run longer than `watchdog.applyWarnSeconds`: logged, shown in /readyz. */
  SINK_SLOW: 'GR_ERR_SINK_SLOW',
  /** A sink's apply() ran longer than `watchdog.applyTimeoutSeconds`: its batch is retried, its late answer ignored. */
  SINK_TIMEOUT: 'GR_ERR_SINK_TIMEOUT',
  /** A message on the bus that is not a valid change, snapshot end or attribution fact: dead-lettered, the partition goes on. */
  BUS_MESSAGE_INVALID: 'GR_ERR_BUS_MESSAGE_INVALID',
  /** A source emitted an event that breaks the contract (no identity, unknown phase, ...): refused, never written. */
  EVENT_INVALID: 'GR_ERR_EVENT_INVALID',
  /** A source emitted an event or fact of another cluster than `sources[].cluster`: refused, never written. */
  EVENT_FOREIGN_CLUSTER: 'GR_ERR_EVENT_FOREIGN_CLUSTER',
  /** A source handed over an attribution fact that breaks the contract: refused, authors nothing. */
  ATTRIBUTION_INVALID: 'GR_ERR_ATTRIBUTION_INVALID',
  /** A normalizer threw for an object: that change is refused (never written, a snapshot holding it prunes nothing). */
  NORMALIZER_FAILED: 'GR_ERR_NORMALIZER_FAILED',
  /** An object nested deeper than the kernel accepts (MAX_OBJECT_DEPTH levels); it is not written. */
  EVENT_TOO_DEEP: 'GR_ERR_EVENT_TOO_DEEP',
  /** A Secret no encoder protects, selected by a rule without `plaintextSecrets: true`: not written. */
  SECRET_PLAINTEXT: 'GR_ERR_SECRET_PLAINTEXT',
  /** The credential gate found a credential in an object a rule with `credentials: refuse` selects for a target: not written there. */
  CREDENTIAL_FOUND: 'GR_ERR_CREDENTIAL_FOUND',
  /** A credential the gate was asked to redact or encrypt would still be readable in what is written (no encoder encrypted it): not written. */
  CREDENTIAL_UNENCRYPTED: 'GR_ERR_CREDENTIAL_UNENCRYPTED',
  /** A rule asks for `credentials: encrypt` but no configured encoder encrypts values by path (`encryptsPaths`). */
  CREDENTIAL_NO_ENCODER: 'GR_ERR_CREDENTIAL_NO_ENCODER',
  /** Processing one event failed unexpectedly; it is logged and counted, and every other event goes on. */
  INGEST_FAILED: 'GR_ERR_INGEST_FAILED',
  /** The /healthz /readyz /metrics server cannot listen (port in use, no permission). */
  SERVER_LISTEN: 'GR_ERR_SERVER_LISTEN',
  /** Command line usage error. */
  CLI_USAGE: 'GR_ERR_CLI_USAGE',
  /** `webhook-certificate` could not read or create the Secret, or patch the webhook configuration's caBundle. */
  WEBHOOK_CERTIFICATE: 'GR_ERR_WEBHOOK_CERTIFICATE',
  /** A selector of `history` or `restore` that names no object, namespace or path. */
  CLI_SELECTOR: 'GR_ERR_CLI_SELECTOR',
  /** A time (`--since`, `--until`, `--at`) that does not parse. */
  CLI_TIME: 'GR_ERR_CLI_TIME',
  /** `--target` names no target of the config, or an object is in several targets and `restore` needs one. */
  CLI_TARGET: 'GR_ERR_CLI_TARGET',
  /** The configured sink keeps no stored history (`sink.stored-history`), which history, diff and restore read. */
  HISTORY_UNSUPPORTED: 'GR_ERR_HISTORY_UNSUPPORTED',
  /** `--at` names no revision of the target: a commit not on its branch, or a time before its first commit. */
  HISTORY_REVISION: 'GR_ERR_HISTORY_REVISION',
  /** Nothing in the stored history matches the selector (no change, or no object at that revision). */
  HISTORY_NOTHING: 'GR_ERR_HISTORY_NOTHING',
  /** `diff` could not compare: a source did not finish listing, or the pipeline refused objects of the seed. */
  DIFF_INCOMPLETE: 'GR_ERR_DIFF_INCOMPLETE',
  /** SOPS files to restore and no usable `--identities` file (missing, unreadable, or not given). */
  RESTORE_IDENTITIES: 'GR_ERR_RESTORE_IDENTITIES',
  /** The `sops` CLI is missing, or could not decrypt a file with the given identities. */
  RESTORE_DECRYPT: 'GR_ERR_RESTORE_DECRYPT',
  /** The files come from another cluster than the one restored into, and `--to-cluster` does not say so. */
  RESTORE_CLUSTER: 'GR_ERR_RESTORE_CLUSTER',
  /** The kubeconfig `restore` uses cannot be loaded, or the API server cannot be reached with it. */
  RESTORE_KUBECONFIG: 'GR_ERR_RESTORE_KUBECONFIG',
  /** The API server refused an object of the restore (the dry run or the apply). */
  RESTORE_APPLY: 'GR_ERR_RESTORE_APPLY',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];
