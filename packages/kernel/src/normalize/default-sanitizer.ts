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
] as const;

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
  const labelMatchers = config.removeLabels.map(keyMatcher);
  const removals = config.removeFields.map((removal) => ({ segments: removal.path.split('.'), kinds: removal.kinds }));

  return {
    name: DEFAULT_SANITIZER_NAME,
    phase: 'sanitize',
    normalize(object: KubeObject): KubeObject {
      const out = structuredClone(object);
      delete out['status'];
      const metadata = out.metadata;
      if (metadata) {
        for (const field of SERVER_OWNED_METADATA) delete metadata[field];
        pruneKeys(metadata, 'annotations', annotationMatchers);
        pruneKeys(metadata, 'labels', labelMatchers);
      }
      if (out.kind === 'Service' && out.apiVersion === 'v1') sanitizeServiceSpec(out);
      for (const removal of removals) {
        if (removal.kinds.length === 0 || removal.kinds.includes(out.kind ?? '')) removePath(out, removal.segments);
      }
      return out;
    },
  };
}

function sanitizeServiceSpec(service: KubeObject): void {
  const spec = service['spec'];
  if (!isRecord(spec)) return;
  if (spec['clusterIP'] !== 'None') delete spec['clusterIP'];
  for (const field of SERVICE_ALLOCATED) delete spec[field];
}

function keyMatcher(pattern: string): (key: string) => boolean {
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    return (key) => key.startsWith(prefix);
  }
  return (key) => key === pattern;
}

function pruneKeys(metadata: Record<string, unknown>, field: 'annotations' | 'labels', matchers: ((key: string) => boolean)[]): void {
  const map = metadata[field];
  if (!isRecord(map)) return;
  for (const key of Object.keys(map)) if (matchers.some((match) => match(key))) delete map[key];
  if (Object.keys(map).length === 0) delete metadata[field];
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
