import { apiVersionOf, type Actor, type Attribution, type ResourceIdentity } from '@gitops-reverser/contract';

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
 * The trailer that names the write an author was learned from: `Audit-ID` (an audit event),
 * `Admission-UID` (an admission request), `<Word>-ID` for any other kind of source.
 */
export function attributionTrailers(attribution: Attribution | undefined): [string, string][] {
  if (!attribution?.id) return [];
  if (attribution.by === 'audit') return [['Audit-ID', attribution.id]];
  if (attribution.by === 'admission') return [['Admission-UID', attribution.id]];
  const word = attribution.by.replace(/[^A-Za-z0-9-]/g, '');
  return [[`${word.charAt(0).toUpperCase()}${word.slice(1)}-ID`, attribution.id]];
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
