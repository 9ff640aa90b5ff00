import { serviceToken } from './adapter.js';
import type { KubeObject, ResourceIdentity } from './identity.js';
import type { PlannedTarget } from './sink.js';

/**
 * One recorded change of a target's stored content (git: a commit of the target's branch): who made
 * it, when, and how the author was known, as the writer recorded it.
 */
export interface StoredRevision {
  /** The sink's id of the revision (git: the commit id). */
  readonly id: string;
  /** When the change was observed, ISO 8601 (git: the author date). */
  readonly time: string;
  /** When it was recorded, ISO 8601 (git: the committer date): what "the state at a time" goes by. */
  readonly recordedAt: string;
  readonly author: { readonly name: string; readonly email: string };
  /** The first line of the record (git: the commit subject). */
  readonly subject: string;
  /** The lines after the subject, without the trailers (git: a grouped commit lists its writes here). */
  readonly body: string;
  /**
   * `Key: value` lines the writer added (git trailers: `Cluster`, `Resource-Version`, `Attribution`,
   * `Audit-ID`, `Admission-UID`, `Field-Manager`, `Impersonated-By`), each key's values in order.
   */
  readonly trailers: Readonly<Record<string, readonly string[]>>;
}

/** Which object a stored document holds: `namespace` "" for cluster-scoped objects. */
export interface StoredObjectName {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/**
 * One stored object: the YAML document that holds it, wherever it is (a person may have moved it, or
 * put several objects in one file). Files that hold no object (a kustomization, a README, YAML that is
 * not a Kubernetes object) are never read as one.
 */
export interface StoredObjectDocument {
  /** The file that holds it (git: the path in the repository). */
  readonly path: string;
  /** Its position among the documents of the file (0 for a file of one). */
  readonly document: number;
  /**
   * Which object, as the sink resolves it: a document without `metadata.namespace` is in the namespace
   * the sink gives it (git: the governing kustomization's `namespace:`, or its layout path; see
   * docs/sharing-the-repository.md).
   */
  readonly name: StoredObjectName;
  /** The cluster the document belongs to, where the target keeps clusters apart (git: `{cluster}` in the layout). */
  readonly cluster?: string;
  /** The document's text as stored (for a file of one document, the whole file). */
  readonly text: string;
  /** The document's data as stored, read as kubectl reads YAML: without `metadata.namespace` where the document leaves it out. */
  readonly object: KubeObject;
  /** The last revision that changed its file, at or before the one read (when asked for with `withRevisions`). */
  readonly revision?: StoredRevision;
}

/** What one revision did to one selected object. */
export interface StoredObjectChange {
  readonly revision: StoredRevision;
  /** The object's file after the change; for a delete, the file it was removed from. */
  readonly path: string;
  /** Set when the object came from another file in this revision (a person moved or renamed the file, or put it into another). */
  readonly previousPath?: string;
  /**
   * The object whose document changed (namespace resolved as in `StoredObjectDocument.name`). Absent
   * for a change of a file a `path` selection names that changed none of its objects' documents (a
   * comment between them, their order): `before` and `after` are then the whole file.
   */
  readonly name?: StoredObjectName;
  /** The object's document before the change; absent when the object was created. */
  readonly before?: string;
  /** The object's document after the change; absent when the object was deleted. */
  readonly after?: string;
}

/** An object as a person names it: `group` undefined means any group; `namespace` "" for cluster-scoped objects. */
export interface StoredObjectRef {
  readonly group?: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/**
 * Which stored objects: one object (recognized by its content's apiVersion, kind and metadata, wherever
 * its document is), the objects of a namespace (as the sink resolves a document's namespace) with the
 * Namespace itself, the objects in the files at or under a path, or every object of the target.
 */
export type StoredSelection =
  | { readonly kind: 'object'; readonly object: StoredObjectRef }
  | { readonly kind: 'namespace'; readonly namespace: string }
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'all' };

/** Narrows `history()`; an object is still followed across files outside the window. */
export interface StoredHistoryQuery {
  /** Only changes observed at or after this time. */
  readonly since?: Date;
  /** Only changes observed at or before this time. */
  readonly until?: Date;
  /** Only changes whose author's name or email contains this (case-insensitive). */
  readonly author?: string;
}

/**
 * A sink's record of past states, for the `history`, `diff` and `restore` commands: every change of
 * an object with who made it, the objects as they were at a revision, and where a write would go.
 * Reads only; `refresh` is the one call that may use the network (git: fetch a remote into the local
 * copy). Targets are passed as the sink planned them.
 */
export interface StoredHistory {
  /** Brings the local copy of the target's content up to date with its remote (no-op without one). */
  refresh(target: PlannedTarget): Promise<void>;
  /** Where the target's content is, for people (git: `clusters/dev on /srv/state.git#main`). */
  describe(target: PlannedTarget): string;
  /**
   * A revision of the target: for a Date, the last one recorded at or before it; for a string, the
   * revision it names (git: a commit id or anything `git rev-parse` resolves) when it belongs to the
   * target's history. Undefined when there is none.
   */
  revisionAt(target: PlannedTarget, at: Date | string): Promise<StoredRevision | undefined>;
  /**
   * The selected objects at a revision (the latest when `revision` is omitted: none when nothing was
   * stored yet), one document each: where two documents claim one object, the one the sink keeps up
   * to date (a copy a person made is left out, as the sink leaves it alone).
   */
  objects(target: PlannedTarget, selection: StoredSelection, options?: { readonly revision?: string; readonly withRevisions?: boolean }): Promise<StoredObjectDocument[]>;
  /**
   * Every change of the selected objects, newest first, one per revision and object whose document
   * changed (a revision that changed only other documents of its file is not one of its changes); an
   * object is followed across the files it was moved between. A `path` selection of one file gives the
   * history of each object it holds, and every other revision that changed the file.
   */
  history(target: PlannedTarget, selection: StoredSelection, query?: StoredHistoryQuery): Promise<StoredObjectChange[]>;
  /** The file a new object goes to (as the target's encoders left it), or undefined when it cannot be placed. */
  pathOf(target: PlannedTarget, identity: ResourceIdentity, object?: KubeObject): string | undefined;
  /**
   * The data a write of `object` (as the target's encoders left it) stores in its document, to compare
   * with `StoredObjectDocument.object` (git: without `metadata.namespace` on targets that leave it out,
   * except in SOPS files).
   */
  storedFormOf(target: PlannedTarget, object: KubeObject): KubeObject;
  /** True when a complete snapshot removes the files of objects it did not contain (git: `prune: Always`). */
  snapshotRemovesMissing(target: PlannedTarget): boolean;
}

/** The well-known token sinks provide StoredHistory under (sink-git does). */
export const StoredHistoryService = serviceToken<StoredHistory>('sink.stored-history', {
  providedBy: '@gitops-reverser/sink-git',
  description: "a sink's record of past states: history, diff and restore",
});
