import { CLUSTER_SCOPE_KEY, grError, type ResourceIdentity } from '@gitops-reverser/contract';
import { GitErrorCodes } from './git-error-codes.js';

/** The default file layout inside a target folder. `{groupPath}` is "group/" or "" for the core group. */
export const DEFAULT_LAYOUT = '{namespace}/{groupPath}{resource}/{name}.yaml';

const PLACEHOLDERS = ['cluster', 'group', 'groupPath', 'version', 'resource', 'kind', 'namespace', 'name'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

/**
 * Where an object's file lives: `{target.path}/{layout}`. Every segment a name or namespace
 * produces is checked, so no object can write outside its target folder.
 */
export class PathLayout {
  private readonly parts: (string | { placeholder: Placeholder })[];

  constructor(readonly template: string = DEFAULT_LAYOUT) {
    this.parts = [];
    const pattern = /\{([A-Za-z]+)\}/g;
    let last = 0;
    for (const match of template.matchAll(pattern)) {
      const name = match[1] as string;
      if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
        throw grError(GitErrorCodes.LAYOUT, `layout "${template}" has an unknown placeholder {${name}}`, {
          fix: `use only ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
        });
      }
      this.parts.push(template.slice(last, match.index), { placeholder: name as Placeholder });
      last = (match.index ?? 0) + match[0].length;
    }
    this.parts.push(template.slice(last));
    if (template.startsWith('/') || template.split('/').some((s) => s === '..' || s === '.')) {
      throw grError(GitErrorCodes.LAYOUT, `layout "${template}" must be a relative path without "." or ".." segments`, { fix: `start from the default "${DEFAULT_LAYOUT}"` });
    }
    if (!template.includes('{name}')) {
      throw grError(GitErrorCodes.LAYOUT, `layout "${template}" does not contain {name}: every object would write the same file`, { fix: `include {name}, as in "${DEFAULT_LAYOUT}"` });
    }
  }

  /** The repository path of an object's file, or a reason it is unsafe. */
  pathOf(targetPath: string, identity: ResourceIdentity): { path: string } | { problem: string } {
    const values: Record<Placeholder, string> = {
      cluster: identity.clusterId,
      group: identity.group,
      groupPath: identity.group === '' ? '' : `${identity.group}/`,
      version: identity.version,
      resource: identity.resource,
      kind: identity.kind,
      namespace: identity.namespace === '' ? CLUSTER_SCOPE_KEY : identity.namespace,
      name: identity.name,
    };
    for (const key of ['namespace', 'name', 'resource', 'group', 'kind', 'cluster'] as const) {
      const problem = unsafeValue(values[key]);
      if (problem && !(key === 'group' && values.group === '')) return { problem: `${key} "${values[key]}" ${problem}` };
    }
    const relative = this.parts.map((part) => (typeof part === 'string' ? part : values[part.placeholder])).join('');
    const segments = relative.split('/');
    if (segments.some((s) => s === '' || s === '.' || s === '..' || s === '.git')) return { problem: `layout produced an unsafe path "${relative}"` };
    return { path: targetPath === '' ? relative : `${targetPath}/${relative}` };
  }
}

function unsafeValue(value: string): string | undefined {
  if (value === '') return 'is empty';
  if (value === '.' || value === '..') return 'is a relative path segment';
  if (value.includes('/') || value.includes('\\')) return 'contains a path separator';
  if (value.includes('\0')) return 'contains a NUL byte';
  if (value.toLowerCase() === '.git') return 'is ".git"';
  return undefined;
}
