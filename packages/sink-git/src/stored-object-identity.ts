import type { StoredObjectName, StoredObjectRef } from '@gitops-reverser/contract';

/** True when a stored document's object (its namespace as resolved) is the one a person named (any group when the reference names none). */
export function refersTo(ref: StoredObjectRef, name: StoredObjectName | undefined): boolean {
  return name !== undefined && name.kind === ref.kind && name.name === ref.name && name.namespace === ref.namespace && (ref.group === undefined || name.group === ref.group);
}
