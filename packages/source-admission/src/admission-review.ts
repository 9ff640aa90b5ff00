import type { Actor, AttributionFact, KubeObject, ResourceIdentity } from '@gitops-reverser/contract';

/** The fields of an admission.k8s.io/v1 AdmissionReview this source reads; everything is checked before use. */
export interface AdmissionReview {
  apiVersion?: unknown;
  kind?: unknown;
  request?: {
    uid?: unknown;
    kind?: { group?: unknown; version?: unknown; kind?: unknown } | null;
    resource?: { group?: unknown; version?: unknown; resource?: unknown } | null;
    subResource?: unknown;
    name?: unknown;
    namespace?: unknown;
    operation?: unknown;
    userInfo?: { username?: unknown; uid?: unknown; groups?: unknown; extra?: unknown } | null;
    object?: unknown;
    oldObject?: unknown;
    dryRun?: unknown;
  } | null;
}

export type SkipReason = 'operation' | 'dry_run' | 'status_subresource' | 'subresource' | 'no_user' | 'no_object';

/** What one review means: a fact, a write that attributes nothing (and why), or a body that is not a review. */
export type AdmissionReading =
  | { readonly kind: 'fact'; readonly uid: string; readonly fact: AttributionFact }
  | { readonly kind: 'skip'; readonly uid: string; readonly reason: SkipReason }
  | { readonly kind: 'malformed'; readonly problem: string };

/** The kinds of the objects whose `scale` subresource the API server serves (a Scale request does not name its parent's kind). */
const SCALE_PARENTS: Readonly<Record<string, string>> = {
  'apps/deployments': 'Deployment',
  'apps/replicasets': 'ReplicaSet',
  'apps/statefulsets': 'StatefulSet',
  '/replicationcontrollers': 'ReplicationController',
};

const isText = (value: unknown): value is string => typeof value === 'string';
const isObject = (value: unknown): value is KubeObject => value !== null && typeof value === 'object' && !Array.isArray(value);
const strings = (value: unknown): string[] | undefined => (Array.isArray(value) && value.every(isText) ? value : undefined);

function extraOf(value: unknown): Record<string, string[]> | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, string[]> = {};
  for (const [key, item] of Object.entries(value)) {
    const list = strings(item);
    if (list) out[key] = list;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Reads one AdmissionReview: CREATE, UPDATE and DELETE of an object, not dry runs, become a fact about
 * who made the write. The API server calls validating webhooks after mutation and defaulting, so
 * `object` is what it will store: the kernel hashes it to find the change the write makes (the write
 * has no resourceVersion yet). A delete names the uid of `oldObject`; a `scale` write attributes the
 * parent by the resourceVersion it replaces (its Scale carries no content of the parent); `status`
 * writes are skipped (they never change content). With impersonation, `userInfo` is already the
 * impersonated user (the API server does not tell a webhook who impersonated).
 */
export function interpretReview(body: unknown, clusterId: string): AdmissionReading {
  if (!isObject(body)) return { kind: 'malformed', problem: 'the body is not an object' };
  const review = body as AdmissionReview;
  if (review.kind !== 'AdmissionReview' || review.apiVersion !== 'admission.k8s.io/v1') return { kind: 'malformed', problem: 'expected an admission.k8s.io/v1 AdmissionReview' };
  const request = review.request;
  if (!isObject(request) || !isText(request.uid) || request.uid === '') return { kind: 'malformed', problem: 'request.uid is missing' };
  const uid = request.uid;
  const resource = request.resource;
  if (!isObject(resource) || !isText(resource.resource) || resource.resource === '' || !isText(resource.version) || !isText(resource.group)) {
    return { kind: 'malformed', problem: 'request.resource is missing' };
  }
  const operation = request.operation;
  if (operation !== 'CREATE' && operation !== 'UPDATE' && operation !== 'DELETE') return { kind: 'skip', uid, reason: 'operation' };
  if (request.dryRun === true) return { kind: 'skip', uid, reason: 'dry_run' };
  const subResource = isText(request.subResource) ? request.subResource : '';
  if (subResource === 'status') return { kind: 'skip', uid, reason: 'status_subresource' };
  if (subResource !== '' && subResource !== 'scale') return { kind: 'skip', uid, reason: 'subresource' };
  const actor = actorOf(request.userInfo);
  if (!actor) return { kind: 'skip', uid, reason: 'no_user' };

  const object = operation === 'DELETE' ? request.oldObject : request.object;
  if (!isObject(object)) return { kind: 'skip', uid, reason: 'no_object' };
  const name = isText(object.metadata?.name) && object.metadata.name !== '' ? object.metadata.name : isText(request.name) ? request.name : '';
  if (name === '') return { kind: 'skip', uid, reason: 'no_object' };
  const namespace = isText(request.namespace) ? request.namespace : isText(object.metadata?.namespace) ? object.metadata.namespace : '';
  const requestKind = isObject(request.kind) && isText(request.kind.kind) ? request.kind.kind : '';
  const kind = subResource === 'scale' ? (SCALE_PARENTS[`${resource.group}/${resource.resource}`] ?? requestKind) : isText(object.kind) && object.kind !== '' ? object.kind : requestKind;
  if (kind === '') return { kind: 'malformed', problem: 'request.kind is missing' };
  const identity: ResourceIdentity = { clusterId, group: resource.group, version: resource.version, resource: resource.resource, kind, namespace, name };
  const base = { identity, actor, by: 'admission', id: uid, at: new Date().toISOString() } as const;

  if (operation === 'DELETE') {
    const deleted = isText(object.metadata?.uid) && object.metadata.uid !== '' ? object.metadata.uid : undefined;
    return { kind: 'fact', uid, fact: { ...base, operation: 'delete', resourceVersion: '', ...(deleted ? { uid: deleted } : {}) } };
  }
  if (subResource === 'scale') {
    // The Scale says which version of the parent the write replaced, not what the parent becomes.
    const replaced = isText(object.metadata?.resourceVersion) ? object.metadata.resourceVersion : '';
    return { kind: 'fact', uid, fact: { ...base, operation: 'upsert', resourceVersion: '', ...(replaced ? { baseResourceVersion: replaced } : {}) } };
  }
  return { kind: 'fact', uid, fact: { ...base, operation: 'upsert', resourceVersion: '', object } };
}

/** The author: the user the API server acted for (after impersonation), with groups and extra. */
function actorOf(userInfo: unknown): Actor | undefined {
  if (!isObject(userInfo)) return undefined;
  const info = userInfo as { username?: unknown; uid?: unknown; groups?: unknown; extra?: unknown };
  if (!isText(info.username) || info.username === '') return undefined;
  const groups = strings(info.groups);
  const extra = extraOf(info.extra);
  return { username: info.username, ...(isText(info.uid) && info.uid !== '' ? { uid: info.uid } : {}), ...(groups ? { groups } : {}), ...(extra ? { extra } : {}) };
}
