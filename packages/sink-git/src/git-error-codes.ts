/** Error codes of the git sink (see docs/errors.md). */
export const GitErrorCodes = {
  /** The remote refused the credentials (HTTP 401/403). */
  AUTH: 'GR_ERR_GIT_AUTH',
  /** The remote cannot be reached (connection refused, DNS, timeout, 5xx). */
  REMOTE_UNREACHABLE: 'GR_ERR_GIT_REMOTE_UNREACHABLE',
  /** The remote kept rejecting the push after rebuilding on its new head. */
  PUSH_REJECTED: 'GR_ERR_GIT_PUSH_REJECTED',
  /** A name, namespace or layout template would put a file outside its target folder. */
  PATH_ESCAPE: 'GR_ERR_GIT_PATH_ESCAPE',
  /** A layout template with an unknown placeholder or an unsafe shape. */
  LAYOUT: 'GR_ERR_GIT_LAYOUT',
  /** A target fed by more than one cluster whose layout has no `{cluster}`: their objects would share files. */
  LAYOUT_CLUSTERS: 'GR_ERR_GIT_LAYOUT_CLUSTERS',
  /** `omitNamespace` with `kustomizations: Create` on a layout without `{namespace}`: a folder's kustomization could not set one namespace. */
  LAYOUT_NAMESPACE: 'GR_ERR_GIT_LAYOUT_NAMESPACE',
  /** The local repository cannot be created, opened or written. */
  REPO: 'GR_ERR_GIT_REPO',
  /** The server's SSH host key is not in known_hosts, changed, or is revoked: nothing is sent. */
  HOST_KEY: 'GR_ERR_GIT_HOST_KEY',
  /** The selected engine (nodegit) is not installed or cannot load; the error gives the install command. */
  ENGINE: 'GR_ERR_GIT_ENGINE',
  /** A provider URL the engine cannot use (e.g. ssh:// without the nodegit engine installed). */
  UNSUPPORTED_URL: 'GR_ERR_GIT_UNSUPPORTED_URL',
  /** A target names a provider that `sink.with.providers` does not define. */
  PROVIDER: 'GR_ERR_GIT_PROVIDER',
  /** A provider URL that does not parse (e.g. an unencoded "#" in its password). */
  PROVIDER_URL: 'GR_ERR_GIT_PROVIDER_URL',
  /** A target's branch is not in its provider's allowedBranches. */
  BRANCH_NOT_ALLOWED: 'GR_ERR_GIT_BRANCH_NOT_ALLOWED',
  /** A target folder that is absolute, leaves the repository or points into `.git`. */
  TARGET_PATH: 'GR_ERR_GIT_TARGET_PATH',
  /** Two targets on one repository branch whose folders are equal or nested. */
  TARGET_OVERLAP: 'GR_ERR_GIT_TARGET_OVERLAP',
  /** An object's document is in a file that cannot be read (syntax error, alias to no anchor): the object is not written (ADR 0039). */
  FILE_UNREADABLE: 'GR_ERR_GIT_FILE_UNREADABLE',
  /** The in-place editor could not make an object's document hold the object: the object is not written (ADR 0039). */
  FILE_UNEDITABLE: 'GR_ERR_GIT_FILE_UNEDITABLE',
  /** An object's file cannot be created: a folder is at its path, or a file where a folder of its path must be (ADR 0039). */
  PATH_BLOCKED: 'GR_ERR_GIT_PATH_BLOCKED',
  /** An object's document is in a SOPS file that holds other documents too: sops encrypts the file as a whole (one MAC), so the object is not written (ADR 0039). */
  SOPS_FILE_SHARED: 'GR_ERR_GIT_SOPS_FILE_SHARED',
  /** A YAML document in a target folder uses aliases more than 10,000 times (an alias bomb): it is not read (logged once per version of the file). */
  YAML_ALIASES: 'GR_ERR_GIT_YAML_ALIASES',
} as const;
