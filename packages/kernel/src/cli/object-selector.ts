import { grError, type StoredSelection } from '@gitops-reverser/contract';
import { ErrorCodes } from '../errors.js';

/** The forms `history` and `restore` accept, for messages and `--help`. */
export const SELECTOR_FORMS = [
  'Kind/namespace/name            ConfigMap/team-a/settings',
  'group/Kind/namespace/name      apps/Deployment/team-a/web',
  'Kind/name                      Namespace/team-a (cluster-scoped)',
  'group/Kind/name                rbac.authorization.k8s.io/ClusterRole/view',
  'namespace                      team-a (every object in it, and the Namespace)',
  'path:<path in the repository>  path:clusters/dev/team-a/configmaps',
] as const;

const KIND = /^[A-Z][A-Za-z0-9]*$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const GROUP = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * Reads a selector. A Kind starts with a capital letter and namespaces and groups never do, which is
 * what tells `ConfigMap/team-a/app` (kind, namespace, name) from `apps/Deployment/web` (group, kind,
 * cluster-scoped name) and both from a path. The core group may be written `core`.
 */
export function parseSelector(text: string): StoredSelection {
  const given = text.trim();
  if (given === '') throw selectorError(text, 'it is empty');
  if (given.startsWith('path:')) return { kind: 'path', path: pathOf(given.slice(5), text) };
  for (const prefix of ['namespace:', 'ns:']) if (given.startsWith(prefix)) return { kind: 'namespace', namespace: namespaceOf(given.slice(prefix.length), text) };
  if (given.endsWith('.yaml') || given.startsWith('./')) return { kind: 'path', path: pathOf(given, text) };
  const parts = given.split('/');
  const upper = parts.map((part) => /^[A-Z]/.test(part));
  if (parts.length === 1) {
    if (upper[0]) throw selectorError(text, `"${given}" looks like a kind without a name`, `name the object too, e.g. ${given}/<namespace>/<name>, or ${given}/<name> when it is cluster-scoped`);
    return { kind: 'namespace', namespace: namespaceOf(given, text) };
  }
  if (upper[0] && parts.length <= 3) return objectOf(undefined, parts[0] as string, parts.length === 3 ? (parts[1] as string) : '', parts[parts.length - 1] as string, text);
  if (upper[1] && parts.length >= 3 && parts.length <= 4) {
    return objectOf(parts[0] as string, parts[1] as string, parts.length === 4 ? (parts[2] as string) : '', parts[parts.length - 1] as string, text);
  }
  if (upper.some(Boolean)) {
    throw selectorError(text, 'a Kind (capitalized) must be the first part, or the second after a group, and be followed by [namespace/]name');
  }
  return { kind: 'path', path: pathOf(given, text) };
}

/** The object a selector names, in words, for output: `ConfigMap team-a/settings`, `apps/Deployment team-a/web`. */
export function describeSelection(selection: StoredSelection): string {
  if (selection.kind === 'namespace') return `namespace ${selection.namespace}`;
  if (selection.kind === 'path') return `path ${selection.path}`;
  if (selection.kind === 'all') return 'every object';
  const { group, kind, namespace, name } = selection.object;
  return `${group ? `${group}/` : ''}${kind} ${namespace ? `${namespace}/` : ''}${name}`;
}

function objectOf(group: string | undefined, kind: string, namespace: string, name: string, text: string): StoredSelection {
  if (!KIND.test(kind)) throw selectorError(text, `"${kind}" is not a kind (letters and digits, starting with a capital)`);
  const coreOrGroup = group === 'core' || group === '' ? '' : group;
  if (coreOrGroup !== undefined && coreOrGroup !== '' && !GROUP.test(coreOrGroup)) throw selectorError(text, `"${group}" is not an API group`);
  if (namespace !== '' && !NAMESPACE.test(namespace)) throw selectorError(text, `"${namespace}" is not a namespace (a DNS label: lowercase letters, digits and "-")`);
  if (name === '' || name === '.' || name === '..') throw selectorError(text, 'the name is missing');
  return { kind: 'object', object: { ...(coreOrGroup !== undefined ? { group: coreOrGroup } : {}), kind, namespace, name } };
}

function namespaceOf(value: string, text: string): string {
  if (!NAMESPACE.test(value) || value.length > 63) throw selectorError(text, `"${value}" is not a namespace (a DNS label: lowercase letters, digits and "-")`);
  return value;
}

function pathOf(value: string, text: string): string {
  const path = value
    .replace(/^\.\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\/{2,}/g, '/');
  if (path === '' || path.startsWith('/') || path.split('/').includes('..')) throw selectorError(text, 'a path must be relative to the repository root, without ".."');
  return path;
}

function selectorError(text: string, why: string, fix?: string): Error {
  return grError(ErrorCodes.CLI_SELECTOR, `"${text}" is not a selector: ${why}`, {
    fix: fix ?? `use one of:\n${SELECTOR_FORMS.map((form) => `    ${form}`).join('\n')}`,
  });
}
