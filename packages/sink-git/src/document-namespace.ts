import { CLUSTER_SCOPE_KEY } from '@gitops-reverser/contract';
import type { ObjectHead } from './file-documents.js';
import type { PathLayout } from './path-layout.js';
import { wellKnownKind } from './well-known-kinds.js';

/** What a document's place says: the target's folder and layout. */
export interface DocumentPlace {
  /** The target folder (repository path, "" for the root). */
  readonly path: string;
  readonly layout: PathLayout;
}

/**
 * The namespace of a document that leaves out `metadata.namespace`, as far as the document and its
 * file's path tell (ADR 0020): "" for a kind Kubernetes serves cluster-scoped; the namespace in the
 * path when the file is at the very path the layout gives this object (where this sink writes it);
 * otherwise undefined, and the caller takes the `namespace:` of the kustomization governing the file,
 * else cluster-scoped. A path that only has the layout's shape (`apps/team-a/all.yaml` for
 * `{namespace}/{resource}/{name}.yaml`) says nothing: its first folder is a person's, not a namespace.
 */
export function namespaceByPlace(target: DocumentPlace, path: string, head: ObjectHead): string | undefined {
  const known = wellKnownKind(head.kind, head.group);
  if (known?.clusterScoped) return '';
  const relative = target.path === '' ? path : path.startsWith(`${target.path}/`) ? path.slice(target.path.length + 1) : undefined;
  if (relative === undefined) return undefined;
  const values = target.layout.valuesAt(relative);
  if (values?.namespace === undefined) return undefined;
  // A resource in the path that is not the kind's own: the path is not this object's.
  if (values.resource !== undefined && known && values.resource !== known.resource) return undefined;
  const namespace = values.namespace === CLUSTER_SCOPE_KEY ? '' : values.namespace;
  const placed = target.layout.pathOf(target.path, {
    clusterId: values.cluster ?? '_',
    group: head.group,
    version: values.version ?? head.version,
    resource: values.resource ?? known?.resource ?? '_',
    kind: head.kind,
    namespace,
    name: head.name,
  });
  if ('problem' in placed) return undefined;
  return placed.path === path || placed.encrypted === path ? namespace : undefined;
}
