import { ContractErrorCodes, grError } from './errors.js';

/**
 * Which object a change is about. Always complete: cluster, group, version, resource (plural), kind,
 * namespace ("" when cluster-scoped) and name.
 */
export interface ResourceIdentity {
  readonly clusterId: string;
  /** API group; "" for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural resource name as served by discovery, e.g. "configmaps". */
  readonly resource: string;
  readonly kind: string;
  /** "" for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
}

/** Placeholder for the empty core group in the canonical key. No real API group can be named so. */
export const CORE_GROUP_KEY = '_core';
/** Placeholder for "no namespace" in the canonical key and in the default file layout. */
export const CLUSTER_SCOPE_KEY = '_cluster';

/**
 * The canonical string form of an identity: `{cluster}/{group|_core}/{resource}/{namespace|_cluster}/{name}`.
 * It is the one key used for maps, dedupe and log lines.
 *
 * The version is deliberately not part of it: one object served at apps/v1 and apps/v1beta1 is one
 * object, and keying by version would store it twice. Segments cannot contain "/" (Kubernetes names,
 * namespaces, groups and resources never do; cluster ids are validated), so the key is unambiguous.
 */
export function identityKey(identity: ResourceIdentity): string {
  return [identity.clusterId, identity.group === '' ? CORE_GROUP_KEY : identity.group, identity.resource, identity.namespace === '' ? CLUSTER_SCOPE_KEY : identity.namespace, identity.name].join('/');
}

/** `apiVersion` as it appears in an object: "v1" for the core group, "group/version" otherwise. */
export function apiVersionOf(identity: Pick<ResourceIdentity, 'group' | 'version'>): string {
  return identity.group === '' ? identity.version : `${identity.group}/${identity.version}`;
}

/** Splits an `apiVersion` into group and version. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** A Kubernetes object as it arrives from the API: only what every object has is typed. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: KubeObjectMeta;
  [field: string]: unknown;
}

export interface KubeObjectMeta {
  name?: string;
  namespace?: string;
  resourceVersion?: string;
  uid?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

/**
 * Builds the identity of an object. The resource (plural) and scope are not in the object itself,
 * so the caller (who got them from discovery or the audit request URI) passes them.
 */
export function identityOf(object: KubeObject, served: { clusterId: string; resource: string; namespaced: boolean }): ResourceIdentity {
  const where = `${object.kind ?? '?'} ${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? '?'}`;
  if (typeof object.apiVersion !== 'string' || object.apiVersion === '') {
    throw grError(ContractErrorCodes.EVENT_INVALID_OBJECT, `object ${where} has no apiVersion`, {
      fix: 'objects must come from the Kubernetes API with apiVersion and kind set',
    });
  }
  if (typeof object.kind !== 'string' || object.kind === '') {
    throw grError(ContractErrorCodes.EVENT_INVALID_OBJECT, `object ${where} has no kind`, {
      fix: 'objects must come from the Kubernetes API with apiVersion and kind set',
    });
  }
  const name = object.metadata?.name;
  if (typeof name !== 'string' || name === '') {
    throw grError(ContractErrorCodes.EVENT_INVALID_OBJECT, `object ${where} has no metadata.name`, {
      fix: 'only named objects can be written to git',
    });
  }
  const namespace = served.namespaced ? (object.metadata?.namespace ?? '') : '';
  if (served.namespaced && namespace === '') {
    throw grError(ContractErrorCodes.EVENT_INVALID_OBJECT, `namespaced object ${where} has no metadata.namespace`);
  }
  const { group, version } = parseApiVersion(object.apiVersion);
  return { clusterId: served.clusterId, group, version, resource: served.resource, kind: object.kind, namespace, name };
}
