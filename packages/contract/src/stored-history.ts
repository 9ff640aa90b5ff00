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

/** A stored object file. */
export interface StoredObjectFile {
  /** Where the sink keeps it (git: the path in the repository). */
  readonly path: string;
  readonly text: string;
  /** The last revision that changed this file, at or before the one read (when asked for with `withRevisions`). */
  readonly revision?: StoredRevision;
}

/** What one revision did to one selected object. */
export interface StoredObjectChange {
  readonly revision: StoredRevision;
  /** The object's file after the change; for a delete, the file that was removed. */
  readonly path: string;
  /** Set when the object came from another file in this revision (a person moved or renamed the file). */
  readonly previousPath?: string;
  /** The file before the change; absent when the object was created. */
  readonly before?: string;
  /** The file after the change; absent when the object was deleted. */
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
 * its file is), the objects of a namespace with the Namespace itself, the files at or under a path, or
 * every object of the target.
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
  /** The selected object files at a revision (the latest when `revision` is omitted: none when nothing was stored yet). */
  objects(target: PlannedTarget, selection: StoredSelection, options?: { readonly revision?: string; readonly withRevisions?: boolean }): Promise<StoredObjectFile[]>;
  /** Every change of the selected objects, newest first; an object is followed across the files it was moved between. */
  history(target: PlannedTarget, selection: StoredSelection, query?: StoredHistoryQuery): Promise<StoredObjectChange[]>;
  /** The file a write of `object` (as the target's encoders left it) goes to, or undefined when it cannot be placed. */
  pathOf(target: PlannedTarget, identity: ResourceIdentity, object?: KubeObject): string | undefined;
  /** True when a complete snapshot removes the files of objects it did not contain (git: `prune: Always`). */
  snapshotRemovesMissing(target: PlannedTarget): boolean;
}

/** The well-known token sinks provide StoredHistory under (sink-git does). */
export const StoredHistoryService = serviceToken<StoredHistory>('sink.stored-history', {
  providedBy: '@gitops-reverser/sink-git',
  description: "a sink's record of past states: history, diff and restore",
});
