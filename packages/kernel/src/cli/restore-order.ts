import { parseApiVersion } from '@gitops-reverser/contract';

/** Namespaced kinds others refer to by name (a Pod's ServiceAccount, a volume's Secret): written first. */
const REFERENCED_FIRST = ['ServiceAccount', 'Secret', 'ConfigMap', 'PersistentVolumeClaim', 'Role', 'RoleBinding', 'Service'];

/**
 * The order restore writes objects in: Namespaces (everything else may live in one), then
 * CustomResourceDefinitions (custom objects need their type served), then the other cluster-scoped
 * objects, then namespaced ones, those others refer to first. Within a rank, by kind, namespace, name.
 */
export function restoreRank(object: { apiVersion: string; kind: string; namespace: string }): number {
  const { group } = parseApiVersion(object.apiVersion);
  if (group === '' && object.kind === 'Namespace') return 0;
  if (group === 'apiextensions.k8s.io' && object.kind === 'CustomResourceDefinition') return 1;
  if (object.namespace === '') return 2;
  const referenced = REFERENCED_FIRST.indexOf(object.kind);
  return referenced >= 0 ? 3 + referenced : 3 + REFERENCED_FIRST.length;
}

export function inRestoreOrder<T extends { apiVersion: string; kind: string; namespace: string; name: string }>(objects: readonly T[]): T[] {
  return [...objects].sort((a, b) => restoreRank(a) - restoreRank(b) || a.kind.localeCompare(b.kind) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}
