import type { Actor, AttributionFact, ChangeEvent, KubeObject, ResourceIdentity } from '@gitops-reverser/contract';

/** The fields of an audit.k8s.io/v1 Event this source reads; everything is checked before use. */
export interface AuditEvent {
  auditID?: unknown;
  stage?: unknown;
  verb?: unknown;
  requestURI?: unknown;
  stageTimestamp?: unknown;
  user?: { username?: unknown; uid?: unknown; groups?: unknown; extra?: unknown };
  impersonatedUser?: { username?: unknown; uid?: unknown; groups?: unknown; extra?: unknown } | null;
  objectRef?: { resource?: unknown; namespace?: unknown; name?: unknown; uid?: unknown; apiGroup?: unknown; apiVersion?: unknown; subresource?: unknown } | null;
  responseStatus?: { code?: unknown } | null;
  responseObject?: unknown;
}

export type SkipReason = 'stage' | 'verb' | 'failed' | 'dry_run' | 'status_subresource' | 'no_object' | 'malformed';

/** What one audit event means: writes (as facts, and as changes where the response holds the object), or why it is skipped. */
export type Interpretation = { readonly kind: 'skip'; readonly reason: SkipReason } | { readonly kind: 'write'; readonly facts: AttributionFact[]; readonly changes: ChangeEvent[] };

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export interface ActorMapping {
  /** Display name and email per username. */
  readonly users: Readonly<Record<string, { readonly name?: string; readonly email?: string }>>;
  /** A `user.extra` key whose first value is the user's email (an OIDC claim). */
  readonly emailFromExtra?: string;
}

const isString = (value: unknown): value is string => typeof value === 'string';
const strings = (value: unknown): string[] | undefined => (Array.isArray(value) && value.every(isString) ? value : undefined);
const extraOf = (value: unknown): Record<string, string[]> | undefined => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const out: Record<string, string[]> = {};
  for (const [key, item] of Object.entries(value)) {
    const list = strings(item);
    if (list) out[key] = list;
  }
  return out;
};

/** The actor of an audit event: the impersonated user when there is one (the real user then in `impersonatedBy`). */
export function actorOf(event: AuditEvent, mapping: ActorMapping): Actor | undefined {
  const real = event.user;
  if (!real || !isString(real.username) || real.username === '') return undefined;
  const effective = event.impersonatedUser && isString(event.impersonatedUser.username) && event.impersonatedUser.username !== '' ? event.impersonatedUser : real;
  const username = effective.username as string;
  const groups = strings(effective.groups);
  const extra = extraOf(effective.extra);
  const mapped = mapping.users[username];
  const extraEmail = mapping.emailFromExtra ? extra?.[mapping.emailFromExtra]?.[0] : undefined;
  const email = mapped?.email ?? extraEmail;
  return {
    username,
    ...(isString(effective.uid) ? { uid: effective.uid } : {}),
    ...(groups ? { groups } : {}),
    ...(extra && Object.keys(extra).length > 0 ? { extra } : {}),
    ...(mapped?.name ? { name: mapped.name } : {}),
    ...(email ? { email } : {}),
    ...(effective !== real ? { impersonatedBy: { username: real.username as string, ...(isString(real.uid) ? { uid: real.uid } : {}) } } : {}),
  };
}

function metadataOf(object: unknown): { name?: string; namespace?: string; resourceVersion?: string; uid?: string } {
  const metadata = (object as KubeObject | undefined)?.metadata;
  if (!metadata || typeof metadata !== 'object') return {};
  return {
    ...(isString(metadata.name) ? { name: metadata.name } : {}),
    ...(isString(metadata.namespace) ? { namespace: metadata.namespace } : {}),
    ...(isString(metadata.resourceVersion) ? { resourceVersion: metadata.resourceVersion } : {}),
    ...(isString(metadata.uid) && metadata.uid !== '' ? { uid: metadata.uid } : {}),
  };
}

/**
 * The uid of the object a delete removed: the response is the deleted object (some types) or a
 * Status whose details name it (most types); the objectRef may carry it too.
 */
function deletedUid(response: unknown, ref: NonNullable<AuditEvent['objectRef']>): string | undefined {
  const own = metadataOf(response).uid;
  if (own) return own;
  const details = isObject(response) && response.kind === 'Status' && isObject(response['details']) ? response['details'] : undefined;
  if (details && isString(details['uid']) && details['uid'] !== '') return details['uid'];
  return isString(ref.uid) && ref.uid !== '' ? ref.uid : undefined;
}

const isObject = (value: unknown): value is KubeObject => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Reads one audit event: only completed (`ResponseComplete`), successful, non-dry-run writes count;
 * `status` subresource writes never change content; a create with `generateName` takes its name from
 * the response; a `deletecollection` is one delete per item of the response list.
 */
export function interpret(event: AuditEvent, clusterId: string, mapping: ActorMapping): Interpretation {
  if (event === null || typeof event !== 'object' || !isString(event.auditID) || event.auditID === '') return { kind: 'skip', reason: 'malformed' };
  if (event.stage !== 'ResponseComplete') return { kind: 'skip', reason: 'stage' };
  if (!isString(event.verb) || !WRITE_VERBS.has(event.verb)) return { kind: 'skip', reason: 'verb' };
  const code = event.responseStatus?.code;
  if (typeof code !== 'number' || code < 200 || code > 299) return { kind: 'skip', reason: 'failed' };
  if (isString(event.requestURI) && /[?&]dryRun=/.test(event.requestURI)) return { kind: 'skip', reason: 'dry_run' };
  const ref = event.objectRef;
  if (!ref || !isString(ref.resource) || ref.resource === '' || !isString(ref.apiVersion) || ref.apiVersion === '') return { kind: 'skip', reason: 'malformed' };
  if (ref.subresource === 'status') return { kind: 'skip', reason: 'status_subresource' };
  const actor = actorOf(event, mapping);
  if (!actor) return { kind: 'skip', reason: 'malformed' };
  const at = isString(event.stageTimestamp) ? event.stageTimestamp : new Date().toISOString();
  const response = event.responseObject;
  const base = { clusterId, group: isString(ref.apiGroup) ? ref.apiGroup : '', version: ref.apiVersion, resource: ref.resource };
  const auditId = event.auditID;
  const isSubresource = isString(ref.subresource) && ref.subresource !== '';

  // deletecollection: each item of the response list is one deleted object (its own metadata).
  const items = event.verb === 'deletecollection' && isObject(response) && Array.isArray(response['items']) ? (response['items'] as unknown[]) : undefined;
  // The items of a list response carry no kind of their own: the list's names it (`ConfigMapList`).
  const listKind =
    items && isObject(response) && isString(response.kind) && response.kind.length > 'List'.length && response.kind.endsWith('List') ? response.kind.slice(0, -'List'.length) : undefined;
  const one = (object: unknown, fallbackName: string | undefined, fallbackNamespace: string, operation: 'upsert' | 'delete', created: boolean) => {
    const metadata = metadataOf(object);
    const name = metadata.name ?? fallbackName;
    if (!name) return undefined;
    const kind = isObject(object) && isString(object.kind) && object.kind !== 'Status' && !object.kind.endsWith('List') ? object.kind : (listKind ?? (ref.resource as string));
    const identity: ResourceIdentity = { ...base, kind, namespace: metadata.namespace ?? fallbackNamespace, name };
    const resourceVersion = metadata.resourceVersion ?? '';
    const uid = operation === 'delete' ? (items ? metadata.uid : deletedUid(object, ref)) : undefined;
    const fact: AttributionFact = { identity, operation, resourceVersion, ...(uid ? { uid } : {}), actor, by: 'audit', id: auditId, at };
    const attribution = { by: 'audit', id: auditId };
    // A change needs the whole object (RequestResponse level); a subresource response (scale) is not it.
    const change: ChangeEvent | undefined =
      operation === 'delete'
        ? { identity, operation, created: false, resourceVersion, ...(uid ? { uid } : {}), observedAt: at, phase: 'live', observedBy: 'audit', actor, attribution }
        : !isSubresource && isObject(object) && isString(object.kind) && object.kind === kind
          ? { identity, operation, created, object, resourceVersion, observedAt: at, phase: 'live', observedBy: 'audit', actor, attribution }
          : undefined;
    return { fact, change };
  };

  const namespace = isString(ref.namespace) ? ref.namespace : '';
  const results: ({ fact: AttributionFact; change: ChangeEvent | undefined } | undefined)[] = [];
  if (event.verb === 'deletecollection') {
    if (!items) return { kind: 'skip', reason: 'no_object' };
    for (const item of items) results.push(one(item, undefined, namespace, 'delete', false));
  } else {
    const operation = event.verb === 'delete' ? 'delete' : 'upsert';
    results.push(one(response, isString(ref.name) && ref.name !== '' ? ref.name : undefined, namespace, operation, event.verb === 'create'));
  }
  const written = results.filter((r): r is { fact: AttributionFact; change: ChangeEvent | undefined } => r !== undefined);
  if (written.length === 0) return { kind: 'skip', reason: 'no_object' };
  return { kind: 'write', facts: written.map((r) => r.fact), changes: written.flatMap((r) => (r.change ? [r.change] : [])) };
}
