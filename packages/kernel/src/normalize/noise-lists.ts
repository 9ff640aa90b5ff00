// The default sanitizer's built-in lists: what the API server and controllers write that is not
// anybody's intent. docs/noise.md explains each entry; `gitops-reverser defaults` prints them;
// `sanitizer.defaults`, `sanitizer.keep*` and `sanitizer.remove*` change them per config.

/** metadata fields the API server owns; never part of the desired state. */
export const SERVER_OWNED_METADATA = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
  'ownerReferences',
  'finalizers',
  'generateName',
] as const;

/**
 * What GitOps controllers write onto the objects they apply from a repository, to find them again:
 * bookkeeping, never in the files they apply. Were it kept, their applies would come back as
 * commits (and a tracking id names the Argo CD instance). Annotations a person writes for a
 * controller (`kustomize.toolkit.fluxcd.io/prune`, `/ssa`, `/force`, `/reconcile`,
 * `argocd.argoproj.io/sync-options`, `/sync-wave`, ...) are intent and stay.
 */
export const GITOPS_TOOL_ANNOTATIONS = [
  // Argo CD: annotation tracking (the default from Argo CD 3) and the installation it belongs to.
  'argocd.argoproj.io/tracking-id',
  'argocd.argoproj.io/installation-id',
  // Flux kustomize-controller's checksum of the applied set (garbage collection by labels).
  'kustomize.toolkit.fluxcd.io/checksum',
  // kustomize's own bookkeeping, left on objects by some build pipelines (`buildMetadata`).
  'kustomize.config.k8s.io/*',
  'config.kubernetes.io/origin',
  'internal.config.kubernetes.io/*',
  'alpha.config.kubernetes.io/transformations',
] as const;

/**
 * Labels Flux's kustomize- and helm-controller put on every object they apply (the name and
 * namespace of the Kustomization or HelmRelease that owns it), and kustomize's own.
 */
export const GITOPS_TOOL_LABELS = ['kustomize.toolkit.fluxcd.io/*', 'helm.toolkit.fluxcd.io/*', 'kustomize.config.k8s.io/*'] as const;

/**
 * Annotations written by the server, controllers or kubectl that describe bookkeeping, not intent.
 * A trailing `*` matches a prefix.
 */
export const NOISE_ANNOTATIONS = [
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.daemonset.template.generation',
  'endpoints.kubernetes.io/last-change-trigger-time',
  'control-plane.alpha.kubernetes.io/leader',
  'pv.kubernetes.io/bind-completed',
  'pv.kubernetes.io/bound-by-controller',
  'pv.kubernetes.io/migrated-to',
  'volume.beta.kubernetes.io/storage-provisioner',
  'volume.kubernetes.io/storage-provisioner',
  'volume.kubernetes.io/selected-node',
  'kubernetes.io/service-account.uid',
  'autoscaling.alpha.kubernetes.io/*',
  ...GITOPS_TOOL_ANNOTATIONS,
] as const;

/**
 * Labels the API server or a built-in controller sets to values it allocates (a name it copies, a
 * uid, a hash of a template), and GitOps controllers' bookkeeping. A trailing `*` matches a prefix.
 */
export const NOISE_LABELS = [
  'kubernetes.io/metadata.name',
  'controller-uid',
  'batch.kubernetes.io/controller-uid',
  'pod-template-hash',
  'controller-revision-hash',
  'pod-template-generation',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  ...GITOPS_TOOL_LABELS,
] as const;

/**
 * Service spec fields the API server allocates (`clusterIP` too, unless it is `None`: a headless
 * Service is the user's choice, not an allocation).
 */
export const SERVICE_ALLOCATED_FIELDS = ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy', 'internalTrafficPolicy', 'healthCheckNodePort'] as const;

/** The built-in lists, by the name `sanitizer.defaults` switches them with. */
export const BUILT_IN_LISTS = ['status', 'serverOwnedMetadata', 'annotations', 'labels', 'serviceAllocations'] as const;
export type BuiltInList = (typeof BUILT_IN_LISTS)[number];
