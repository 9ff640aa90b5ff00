import { parseApiVersion, type StoredObjectRef } from '@gitops-reverser/contract';
import { parse } from 'yaml';

/** Which object a stored file holds, read from its content (never from its path: a person may have moved it). */
export interface StoredIdentity {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** Plain scalars the fast path takes as they are; anything quoted, flowed or escaped goes to the parser. */
const PLAIN = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;
const TOP_LEVEL = /^(apiVersion|kind|metadata):[ ]?(.*)$/;
const IN_METADATA = /^ {2}(name|namespace): (.*)$/;

/**
 * The object a file's text holds, or undefined when it is not a Kubernetes object (or not YAML). Files
 * the kernel rendered (apiVersion, kind, then metadata with plain name and namespace) are read line by
 * line: a history reads hundreds of them, and a full YAML parse costs ten times as much. Anything else
 * (quotes, flow style, a person's formatting) is parsed.
 */
export function storedIdentityOf(text: string): StoredIdentity | undefined {
  return renderedIdentityOf(text) ?? parsedIdentityOf(text);
}

function renderedIdentityOf(text: string): StoredIdentity | undefined {
  const values: Record<string, string> = {};
  let inMetadata = false;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) return undefined;
    if (!line.startsWith(' ')) {
      const top = TOP_LEVEL.exec(line);
      if (!top) {
        if (values['apiVersion'] && values['kind'] && values['name']) break;
        return undefined;
      }
      inMetadata = top[1] === 'metadata';
      if (inMetadata ? top[2] !== '' : !PLAIN.test(top[2] as string)) return undefined;
      if (!inMetadata) values[top[1] as string] = top[2] as string;
      continue;
    }
    const field = inMetadata ? IN_METADATA.exec(line) : null;
    if (field) {
      if (!PLAIN.test(field[2] as string) || /^[0-9.]+$/.test(field[2] as string)) return undefined;
      values[field[1] as string] = field[2] as string;
    }
  }
  if (!values['apiVersion'] || !values['kind'] || !values['name']) return undefined;
  return { group: parseApiVersion(values['apiVersion']).group, kind: values['kind'], namespace: values['namespace'] ?? '', name: values['name'] };
}

function parsedIdentityOf(text: string): StoredIdentity | undefined {
  let object: unknown;
  try {
    object = parse(text);
  } catch {
    return undefined;
  }
  if (object === null || typeof object !== 'object') return undefined;
  const { apiVersion, kind, metadata } = object as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof metadata?.name !== 'string') return undefined;
  return { group: parseApiVersion(apiVersion).group, kind, namespace: typeof metadata.namespace === 'string' ? metadata.namespace : '', name: metadata.name };
}

/** True when a file's object is the one a person named (any group when the reference names none). */
export function refersTo(ref: StoredObjectRef, identity: StoredIdentity | undefined): boolean {
  return identity !== undefined && identity.kind === ref.kind && identity.name === ref.name && identity.namespace === ref.namespace && (ref.group === undefined || identity.group === ref.group);
}

/** True when two files hold the same object. */
export function sameObject(a: StoredIdentity | undefined, b: StoredIdentity | undefined): boolean {
  return a !== undefined && b !== undefined && a.group === b.group && a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
}
