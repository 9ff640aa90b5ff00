import { parseApiVersion, type StoredObjectRef } from '@gitops-reverser/contract';
import { parse } from 'yaml';

/** Which object a stored file holds, read from its content (never from its path: a person may have moved it). */
export interface StoredIdentity {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** The object a file's text holds, or undefined when it is not a Kubernetes object (or not YAML). */
export function storedIdentityOf(text: string): StoredIdentity | undefined {
  let object: unknown;
  try {
    object = parse(text);
  } catch {
    return undefined;
  }
  if (object === null || typeof object !== 'object') return undefined;
  const { apiVersion, kind, metadata } = object as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof metadata?.name !== 'string') return undefined;
  return { group: parseApiVersion(apiVersion).group, kind, namespace: typeof metadata.namespace === 'string' ? metadata.namespace : '', name: metadata.name };
}

/** True when a file's object is the one a person named (any group when the reference names none). */
export function refersTo(ref: StoredObjectRef, identity: StoredIdentity | undefined): boolean {
  return identity !== undefined && identity.kind === ref.kind && identity.name === ref.name && identity.namespace === ref.namespace && (ref.group === undefined || identity.group === ref.group);
}

/** True when two files hold the same object. */
export function sameObject(a: StoredIdentity | undefined, b: StoredIdentity | undefined): boolean {
  return a !== undefined && b !== undefined && a.group === b.group && a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
}
