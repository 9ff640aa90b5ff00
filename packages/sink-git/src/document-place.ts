import { CLUSTER_SCOPE_KEY } from '@gitops-reverser/contract';
import type { ObjectHead } from './file-documents.js';
import type { PathLayout } from './path-layout.js';
import { wellKnownKind } from './well-known-kinds.js';

/** What a document's place is read against: the target's folder and layout. */
export interface DocumentPlace {
  /** The target folder (repository path, "" for the root). */
  readonly path: string;
  readonly layout: PathLayout;
}

/**
 * The namespace of a document (ADR 0020): its own `metadata.namespace`; without one, what its place
 * says (`namespaceByPlace`), else the `namespace:` of the nearest kustomization above the file that
 * sets one (`namespaceSetIn` answers per folder, up to the target folder), else cluster-scoped. The
 * writer's index and the stored history both resolve documents with it.
 */
export function documentNamespace(target: DocumentPlace, path: string, head: ObjectHead, namespaceSetIn: (folder: string) => string | undefined): string {
  if (head.namespace !== undefined) return head.namespace;
  const placed = namespaceByPlace(target, path, head);
  if (placed !== undefined) return placed;
  for (const folder of foldersAbove(path, target.path)) {
    const namespace = namespaceSetIn(folder);
    if (namespace) return namespace;
  }
  return '';
}

/**
 * The namespace of a document that leaves out `metadata.namespace`, as far as the document and its
 * file's path tell: "" for a kind Kubernetes serves cluster-scoped; the namespace in the path when the
 * file is at the very path the layout gives this object (where this sink writes it); otherwise
 * undefined. A path that only has the layout's shape (`apps/team-a/all.yaml` for
 * `{namespace}/{resource}/{name}.yaml`) says nothing: its first folder is a person's, not a namespace.
 */
export function namespaceByPlace(target: DocumentPlace, path: string, head: ObjectHead): string | undefined {
  if (wellKnownKind(head.kind, head.group)?.clusterScoped) return '';
  const values = target.layout.valuesAt(relativeTo(target, path) ?? '');
  if (values?.namespace === undefined) return undefined;
  const namespace = values.namespace === CLUSTER_SCOPE_KEY ? '' : values.namespace;
  return isLayoutPathOf(target, path, head, namespace) ? namespace : undefined;
}

/** True when `path` is the file the layout gives the object of `head` in `namespace` (plain or SOPS variant). */
export function isLayoutPathOf(target: DocumentPlace, path: string, head: ObjectHead, namespace: string): boolean {
  const relative = relativeTo(target, path);
  const values = relative === undefined ? undefined : target.layout.valuesAt(relative);
  if (!values) return false;
  const known = wellKnownKind(head.kind, head.group);
  // A resource in the path that is not the kind's own: the path is not this object's.
  if (values.resource !== undefined && known && values.resource !== known.resource) return false;
  const placed = target.layout.pathOf(target.path, {
    clusterId: values.cluster ?? '_',
    group: head.group,
    version: values.version ?? head.version,
    resource: values.resource ?? known?.resource ?? '_',
    kind: head.kind,
    namespace,
    name: head.name,
  });
  return !('problem' in placed) && (placed.path === path || placed.encrypted === path);
}

/** The cluster a document belongs to: "" when the layout has no `{cluster}` (one cluster per target); undefined when the path names none. */
export function clusterByPlace(target: DocumentPlace, path: string): string | undefined {
  if (!target.layout.template.includes('{cluster}')) return '';
  const relative = relativeTo(target, path);
  return relative === undefined ? undefined : target.layout.placeOf(relative).cluster;
}

/** The folders from a file's own up to the target folder, nearest first (repository paths). */
export function foldersAbove(path: string, targetPath: string): string[] {
  const folders: string[] = [];
  let folder = parentOf(path);
  for (;;) {
    folders.push(folder);
    if (folder === targetPath || folder === '') return folders;
    folder = parentOf(folder);
  }
}

/** The folder of a repository path ("" for the root). */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

function relativeTo(target: DocumentPlace, path: string): string | undefined {
  if (target.path === '') return path;
  return path.startsWith(`${target.path}/`) ? path.slice(target.path.length + 1) : undefined;
}
