/** Error codes of the informer source (see docs/errors.md). */
export const InformerErrorCodes = {
  /** The kubeconfig cannot be loaded (missing file, bad YAML, unknown context). */
  KUBECONFIG: 'GR_ERR_KUBE_CONFIG',
  /** The API server cannot be reached or answered with a server error. */
  UNREACHABLE: 'GR_ERR_KUBE_UNREACHABLE',
  /** RBAC forbids listing or watching a selected type; it is skipped and reported. */
  FORBIDDEN: 'GR_ERR_KUBE_FORBIDDEN',
} as const;
