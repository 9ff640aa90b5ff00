import { apiVersionOf, type Actor, type ChangeEvent, type ResourceIdentity } from '@gitops-reverser/contract';

export type FileOperation = 'CREATE' | 'UPDATE' | 'DELETE';

export interface MessageTemplates {
  /** One event per commit. */
  readonly event: string;
  /** Several events of one author on one target (commit window > 0). */
  readonly group: string;
  /** A snapshot (seed) of a target. */
  readonly seed: string;
}

export const DEFAULT_MESSAGES: MessageTemplates = {
  event: '[{operation}] {apiVersion}/{resource}/{namespace/}{name}',
  group: '{author} on {target}: {count} resource(s)',
  seed: 'reconciled {count} resources',
};

export interface MessageValues {
  readonly operation?: FileOperation;
  readonly identity?: ResourceIdentity;
  readonly author?: string;
  readonly target?: string;
  readonly count?: number;
}

/**
 * Fills a template. Placeholders: {operation} {apiVersion} {group} {version} {resource} {kind}
 * {namespace} {namespace/} ("ns/" or "" when cluster-scoped) {name} {cluster} {author} {target} {count}.
 */
export function renderMessage(template: string, values: MessageValues): string {
  const id = values.identity;
  const table: Record<string, string> = {
    operation: values.operation ?? '',
    apiVersion: id ? apiVersionOf(id) : '',
    group: id?.group ?? '',
    version: id?.version ?? '',
    resource: id?.resource ?? '',
    kind: id?.kind ?? '',
    namespace: id?.namespace ?? '',
    'namespace/': id && id.namespace !== '' ? `${id.namespace}/` : '',
    name: id?.name ?? '',
    cluster: id?.clusterId ?? '',
    author: values.author ?? '',
    target: values.target ?? '',
    count: values.count === undefined ? '' : String(values.count),
  };
  return template.replace(/\{([A-Za-z/]+)\}/g, (match, key: string) => (key in table ? oneLine(table[key] as string) : match));
}

/** A value on one line: CR/LF (and other line breaks) become a visible "\\n", so no value can forge a trailer or a body line. */
export function oneLine(value: string): string {
  return value.replace(/\r\n|[\r\n\u2028\u2029]/g, '\\n');
}

/** Git trailers: `Key: value` lines after a blank line, omitted when there is nothing to say. */
export function withTrailers(subject: string, body: readonly string[], trailers: readonly [string, string | undefined][]): string {
  const lines = trailers.filter(([, value]) => value !== undefined && value !== '').map(([key, value]) => `${key}: ${oneLine(value as string)}`);
  const parts = [subject];
  if (body.length > 0) parts.push(body.join('\n'));
  if (lines.length > 0) parts.push(lines.join('\n'));
  return `${parts.join('\n\n')}\n`;
}

/**
 * How the author of a change is known, as trailers: `Attribution: audit|admission|field-manager|none`
 * (or another source's word), then the id of the write it was learned from (`Audit-ID`,
 * `Admission-UID`, `<Word>-ID`), and for `none` or `field-manager` the field manager of the latest
 * write (`Field-Manager:`), shown beside the committer and never taken for the author.
 */
export function attributionTrailers(event: Pick<ChangeEvent, 'attribution' | 'fieldManager' | 'actor' | 'observedBy'>): [string, string][] {
  const attribution = event.attribution;
  // An actor without `attribution` was named by the source that saw the change itself.
  const trailers: [string, string][] = [['Attribution', attribution?.by ?? (event.actor ? event.observedBy : 'none')]];
  if (attribution?.id && attribution.by !== 'field-manager') {
    if (attribution.by === 'audit') trailers.push(['Audit-ID', attribution.id]);
    else if (attribution.by === 'admission') trailers.push(['Admission-UID', attribution.id]);
    else {
      const word = attribution.by.replace(/[^A-Za-z0-9-]/g, '');
      trailers.push([`${word.charAt(0).toUpperCase()}${word.slice(1)}-ID`, attribution.id]);
    }
  }
  if (((!attribution && !event.actor) || attribution?.by === 'field-manager') && event.fieldManager) trailers.push(['Field-Manager', event.fieldManager]);
  return trailers;
}

export interface Identity {
  readonly name: string;
  readonly email: string;
}

const EMAIL = /^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/;

/**
 * The commit author for an actor: the username as name; as email the username when it is one,
 * otherwise one derived from it (`system:serviceaccount:ns:sa` -> `system-serviceaccount-ns-sa@{domain}`).
 * No actor known: the committer.
 */
export function authorOf(actor: Actor | undefined, committer: Identity, emailDomain: string): Identity {
  if (!actor?.username) return committer;
  const username = actor.username;
  const name = actor.name ?? username;
  // A source that knows the user's name or email (a mapping, an OIDC claim) wins over derivation.
  if (actor.email) return { name, email: actor.email };
  if (EMAIL.test(username)) return { name, email: username };
  const local = username.replace(/[^A-Za-z0-9._+-]+/g, '-').replace(/^-+|-+$/g, '') || 'unknown';
  return { name, email: `${local}@${emailDomain}` };
}
