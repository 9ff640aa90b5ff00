import type { SanitizerConfig } from '../config/config-types.js';
import type { KubeObject, Normalizer } from '@gitops-reverser/contract';

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
  // Flux kustomize-controller before v0.x garbage collection by labels: a checksum of the applied set.
  'kustomize.toolkit.fluxcd.io/checksum',
  // kustomize's own bookkeeping, left on objects by some build pipelines (`buildMetadata`).
  'kustomize.config.k8s.io/*',
  'config.kubernetes.io/origin',
  'internal.config.kubernetes.io/*',
  'alpha.config.kubernetes.io/transformations',
] as const;

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
 * Labels written by the server or by GitOps controllers, removed like NOISE_ANNOTATIONS (a trailing
 * `*` matches a prefix): Flux's kustomize- and helm-controller label every object they apply with
 * the name and namespace of the Kustomization or HelmRelease that owns it.
 */
export const NOISE_LABELS = ['kustomize.toolkit.fluxcd.io/*', 'helm.toolkit.fluxcd.io/*', 'kustomize.config.k8s.io/*'] as const;

/**
 * Service spec fields the API server allocates. `clusterIP: None` (a headless Service) is the user's
 * choice, not an allocation, so it is kept.
 */
const SERVICE_ALLOCATED = ['clusterIPs', 'ipFamilies', 'ipFamilyPolicy', 'internalTrafficPolicy', 'healthCheckNodePort'] as const;

export const DEFAULT_SANITIZER_NAME = 'default-sanitizer';

/**
 * The first normalizer, always present: removes what the API server owns and keeps every other
 * field (a StorageClass keeps `provisioner`, a Secret keeps `stringData`). Extra removals come from
 * config `sanitizer:`.
 */
export function createDefaultSanitizer(config: SanitizerConfig = { removeFields: [], removeAnnotations: [], removeLabels: [] }): Normalizer {
  const annotationMatchers = [...NOISE_ANNOTATIONS, ...config.removeAnnotations].map(keyMatcher);
  const labelMatchers = [...NOISE_LABELS, ...config.removeLabels].map(keyMatcher);
  const removals = config.removeFields.map((removal) => ({ segments: removal.path.split('.'), kinds: removal.kinds }));

  return {
    name: DEFAULT_SANITIZER_NAME,
    phase: 'sanitize',
    normalize(object: KubeObject): KubeObject {
      // A copy that leaves out what is removed, rather than a clone followed by deletes: a seed
      // normalizes every object, and deleting keys turns objects into slow dictionaries.
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(object)) {
        if (key === 'status') continue;
        const value = object[key];
        out[key] = key === 'metadata' && isRecord(value) ? sanitizedMetadata(value, annotationMatchers, labelMatchers) : copyPlain(value);
      }
      const sanitized = out as KubeObject;
      if (sanitized.kind === 'Service' && sanitized.apiVersion === 'v1') sanitizeServiceSpec(sanitized);
      for (const removal of removals) {
        if (removal.kinds.length === 0 || removal.kinds.includes(sanitized.kind ?? '')) removePath(sanitized, removal.segments);
      }
      return sanitized;
    },
  };
}

const SERVER_OWNED: ReadonlySet<string> = new Set(SERVER_OWNED_METADATA);

function sanitizedMetadata(metadata: Record<string, unknown>, annotationMatchers: Matcher[], labelMatchers: Matcher[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(metadata)) {
    if (SERVER_OWNED.has(key)) continue;
    const value = metadata[key];
    if ((key === 'annotations' || key === 'labels') && isRecord(value)) {
      const kept = keptKeys(value, key === 'annotations' ? annotationMatchers : labelMatchers);
      if (kept) out[key] = kept;
      continue;
    }
    out[key] = copyPlain(value);
  }
  return out;
}

/** The map without matching keys; undefined when nothing is left (an emptied map is dropped). */
function keptKeys(map: Record<string, unknown>, matchers: Matcher[]): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const key of Object.keys(map)) {
    if (matchers.some((match) => match(key))) continue;
    out[key] = copyPlain(map[key]);
    kept++;
  }
  return kept > 0 ? out : undefined;
}

/**
 * A deep copy of JSON data (objects are plain data by contract; anything else is cloned the
 * structured way). Strings are shared, not copied. Recursive: the kernel refuses objects nested
 * more than MAX_OBJECT_DEPTH levels before any normalizer runs.
 */
function copyPlain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyPlain);
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copyPlain((value as Record<string, unknown>)[key]);
  return out;
}

function sanitizeServiceSpec(service: KubeObject): void {
  const spec = service['spec'];
  if (!isRecord(spec)) return;
  if (spec['clusterIP'] !== 'None') delete spec['clusterIP'];
  for (const field of SERVICE_ALLOCATED) delete spec[field];
}

type Matcher = (key: string) => boolean;

function keyMatcher(pattern: string): Matcher {
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    return (key) => key.startsWith(prefix);
  }
  return (key) => key === pattern;
}

function removePath(object: Record<string, unknown>, segments: readonly string[]): void {
  let current: unknown = object;
  for (const segment of segments.slice(0, -1)) {
    if (!isRecord(current)) return;
    current = current[segment];
  }
  if (isRecord(current)) delete current[segments[segments.length - 1] as string];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
