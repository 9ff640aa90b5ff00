/**
 * Error codes of the git sink's stored history (what `gitops-reverser history`, `diff` and `restore`
 * read through it). The writer's own codes are GitErrorCodes.
 */
export const GitHistoryErrorCodes = {
  /** The git CLI, which history reads use, is missing or failed on the repository. */
  GIT_CLI: 'GR_ERR_GIT_CLI',
  /** The target's repository or branch does not exist where the config says (nothing was ever written, or a wrong path). */
  NO_HISTORY: 'GR_ERR_GIT_NO_HISTORY',
} as const;
