import type { StoredObjectName } from '@gitops-reverser/contract';
import { clusterByPlace, type DocumentPlace, documentNamespace, isLayoutPathOf, namespaceByPlace } from './document-place.js';
import { type ObjectDocument, sameDocumentText } from './file-documents.js';

/** A stored document with the object it holds resolved (namespace and cluster as the writer reads them). */
export interface ResolvedDocument {
  readonly path: string;
  readonly index: number;
  readonly name: StoredObjectName;
  /** The cluster its path names ("" when the layout has no `{cluster}`; undefined when the path names none). */
  readonly cluster: string | undefined;
  readonly text: string;
  readonly document: ObjectDocument;
}

/**
 * True when a document's namespace depends on a kustomization: no `metadata.namespace`, and its place
 * says nothing. Only then must the kustomizations above its file be read (at the revision read).
 */
export function needsKustomization(place: DocumentPlace, path: string, document: ObjectDocument): boolean {
  return document.head.namespace === undefined && namespaceByPlace(place, path, document.head) === undefined;
}

/** The objects of a file's documents, resolved as document-place.ts does for the writer. */
export function resolveDocuments(place: DocumentPlace, path: string, documents: readonly ObjectDocument[], namespaceSetIn: (folder: string) => string | undefined): ResolvedDocument[] {
  const cluster = clusterByPlace(place, path);
  return documents.map((document) => ({
    path,
    index: document.index,
    name: { group: document.head.group, kind: document.head.kind, namespace: documentNamespace(place, path, document.head, namespaceSetIn), name: document.head.name },
    cluster,
    text: document.text,
    document,
  }));
}

/** One object: its name and, where the layout keeps clusters apart, its cluster. */
export function objectKey(name: StoredObjectName, cluster: string | undefined): string {
  return `${name.group}|${name.kind}|${name.namespace}|${name.name}|${cluster ?? ''}`;
}

/**
 * One document per object, as the writer picks the one it keeps up to date (object-index.ts): the
 * document at the object's layout path, else the first by path, then by position in its file. The
 * result is ordered by path and position.
 */
export function ownedDocuments(place: DocumentPlace, documents: readonly ResolvedDocument[]): ResolvedDocument[] {
  const sorted = [...documents].sort(byPlace);
  const owners = new Map<string, ResolvedDocument>();
  for (const document of sorted) {
    const key = objectKey(document.name, document.cluster);
    const known = owners.get(key);
    if (!known) owners.set(key, document);
    else if (!atLayoutPath(place, known) && atLayoutPath(place, document)) owners.set(key, document);
  }
  return [...owners.values()].sort(byPlace);
}

/** What one commit did to one object's document in one file. */
export interface DocumentChange {
  readonly name: StoredObjectName;
  readonly cluster: string | undefined;
  /** Its document before; absent when the file did not hold it. */
  readonly before?: ResolvedDocument;
  /** Its document after; absent when the file no longer holds it. */
  readonly after?: ResolvedDocument;
}

/**
 * The objects whose documents differ between two versions of one file (a document whose text is the
 * same but for line ends and surrounding blank lines did not change, wherever it moved in the file).
 * An object with two documents in the file is compared by its first.
 */
export function documentChanges(before: readonly ResolvedDocument[], after: readonly ResolvedDocument[]): DocumentChange[] {
  const first = (documents: readonly ResolvedDocument[]) => {
    const byKey = new Map<string, ResolvedDocument>();
    for (const document of documents) {
      const key = objectKey(document.name, document.cluster);
      if (!byKey.has(key)) byKey.set(key, document);
    }
    return byKey;
  };
  const was = first(before);
  const is = first(after);
  const changes: DocumentChange[] = [];
  for (const key of new Set([...was.keys(), ...is.keys()])) {
    const old = was.get(key);
    const now = is.get(key);
    if (old && now && sameDocumentText(old.text, now.text)) continue;
    const { name, cluster } = (now ?? old) as ResolvedDocument;
    changes.push({ name, cluster, ...(old ? { before: old } : {}), ...(now ? { after: now } : {}) });
  }
  return changes;
}

function atLayoutPath(place: DocumentPlace, document: ResolvedDocument): boolean {
  return isLayoutPathOf(place, document.path, document.document.head, document.name.namespace);
}

function byPlace(a: ResolvedDocument, b: ResolvedDocument): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : a.index - b.index;
}
