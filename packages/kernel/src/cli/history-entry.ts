import type { StoredObjectChange } from '@gitops-reverser/contract';
import { parse } from 'yaml';
import { type FieldChange, fieldChanges, secretValues } from './field-diff.js';

export type HistoryOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'MOVE';

/** How the author of a change was known, from the commit's trailers (sink-git's commit-message.ts writes them). */
export interface HistoryAttribution {
  /** `audit`, `admission`, `field-manager`, `none`, another source's word, or `git` for a commit without trailers (a person's). */
  readonly by: string;
  /** The id of the write it was learned from: `Audit-ID`, `Admission-UID` or `<Word>-ID`. */
  readonly id?: string;
  readonly fieldManager?: string;
  readonly impersonatedBy?: string;
}

/** One change of `history`, as printed and as `--output json` gives it. */
export interface HistoryEntry {
  readonly revision: string;
  /** When the change was observed (UTC). */
  readonly time: string;
  readonly author: { readonly name: string; readonly email: string };
  readonly operation: HistoryOperation;
  readonly attribution: HistoryAttribution;
  readonly resourceVersion?: string;
  readonly cluster?: string;
  readonly subject: string;
  /** The object whose document changed (absent for a change of a file that changed none of its objects' documents). */
  readonly object?: { readonly group: string; readonly kind: string; readonly namespace: string; readonly name: string };
  readonly path: string;
  readonly previousPath?: string;
  readonly fields: readonly FieldChange[];
}

const OPERATION = /^\[(CREATE|UPDATE|DELETE)\]/;

/**
 * Reads one stored change for people: the operation from the subject (`[UPDATE] ...`, the writer's
 * default template; a grouped commit lists one line per write in its body), else from what happened to
 * the file; a move is a person's `MOVE`; the attribution from the trailers.
 */
export function historyEntryOf(change: StoredObjectChange): HistoryEntry {
  const { revision } = change;
  const first = (key: string) => revision.trailers[key]?.[0];
  const idKey = Object.keys(revision.trailers).find((key) => key === 'Audit-ID' || key === 'Admission-UID' || (key.endsWith('-ID') && key !== 'Resource-ID'));
  const by = first('Attribution') ?? (first('Cluster') ? 'none' : 'git');
  const attribution: HistoryAttribution = {
    by,
    ...(idKey ? { id: first(idKey) as string } : {}),
    ...(first('Field-Manager') ? { fieldManager: first('Field-Manager') as string } : {}),
    ...(first('Impersonated-By') ? { impersonatedBy: first('Impersonated-By') as string } : {}),
  };
  return {
    revision: revision.id,
    time: revision.time,
    author: revision.author,
    operation: operationOf(change),
    attribution,
    ...(first('Resource-Version') ? { resourceVersion: first('Resource-Version') as string } : {}),
    ...(first('Cluster') ? { cluster: first('Cluster') as string } : {}),
    subject: revision.subject,
    ...(change.name ? { object: { group: change.name.group, kind: change.name.kind, namespace: change.name.namespace, name: change.name.name } } : {}),
    path: change.path,
    ...(change.previousPath ? { previousPath: change.previousPath } : {}),
    fields: fieldChanges(parsed(change.before), parsed(change.after), secretValues(parsed(change.before), parsed(change.after))),
  };
}

/**
 * The operation of the cluster write, as the writer recorded it: the subject's `[CREATE]`, `[UPDATE]`,
 * `[DELETE]` (the default template), or the line of this object in a grouped commit's body; a seed or a
 * person's commit records none, so what happened to the file says it. A file a person moved is a MOVE.
 */
function operationOf(change: StoredObjectChange): HistoryOperation {
  if (change.previousPath) return 'MOVE';
  const { subject, body } = change.revision;
  const fromSubject = OPERATION.exec(subject)?.[1];
  if (fromSubject) return fromSubject as HistoryOperation;
  // The object as the sink resolved it: a document without metadata.namespace is in its kustomization's namespace.
  const object = parsed(change.after ?? change.before) as { metadata?: { name?: unknown; namespace?: unknown } } | undefined;
  const name = change.name?.name ?? object?.metadata?.name;
  const namespace = change.name ? change.name.namespace : typeof object?.metadata?.namespace === 'string' ? object.metadata.namespace : '';
  if (typeof name === 'string') {
    const suffix = namespace !== '' ? `/${namespace}/${name}` : `/${name}`;
    const line = body.split('\n').find((l) => OPERATION.test(l) && l.endsWith(suffix));
    const fromBody = line ? OPERATION.exec(line)?.[1] : undefined;
    if (fromBody) return fromBody as HistoryOperation;
  }
  return change.after === undefined ? 'DELETE' : change.before === undefined ? 'CREATE' : 'UPDATE';
}

/** How the author was known, in words: `audit (Audit-ID 3f2c...)`, `field manager kubectl-edit`, `not known: the committer`. */
export function attributionText(attribution: HistoryAttribution): string {
  const impersonated = attribution.impersonatedBy ? `, impersonated by ${attribution.impersonatedBy}` : '';
  switch (attribution.by) {
    case 'git':
      return 'a git commit (no gitops-reverser trailers)';
    case 'none':
      return `not known: the committer${attribution.fieldManager ? ` (last field manager ${attribution.fieldManager})` : ''}`;
    case 'field-manager':
      return `field manager ${attribution.fieldManager ?? '?'}${impersonated}`;
    default:
      return `${attribution.by}${attribution.id ? ` (${attribution.by === 'admission' ? 'Admission-UID' : attribution.by === 'audit' ? 'Audit-ID' : 'ID'} ${attribution.id})` : ''}${impersonated}`;
  }
}

function parsed(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return parse(text);
  } catch {
    return text;
  }
}
