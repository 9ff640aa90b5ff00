import type { ResourceIdentity, StoredObjectRef } from '@gitops-reverser/contract';
import type { PathLayout } from './path-layout.js';
import { wellKnownKind } from './well-known-kinds.js';

/**
 * Where the files of a selection can be, as patterns over repository paths: the layout filled in with
 * what is known (a namespace, a name, a kind) and a wildcard for what is not (the resource of a kind
 * Kubernetes does not serve itself, the version). Placeholders are filled through PathLayout itself, so
 * the patterns follow whatever the writer does with a value (long names, SOPS variants).
 */
export interface FilePattern {
  /** The path, with U+E000..U+E007 standing for values not known. */
  readonly text: string;
  /** The SOPS variant of an object's file (`.sops.yaml`). */
  readonly encrypted?: boolean;
}

const UNKNOWN = {
  cluster: '\uE001',
  group: '\uE002',
  version: '\uE003',
  resource: '\uE004',
  kind: '\uE005',
  namespace: '\uE006',
  name: '\uE007',
} as const;
const ANY_VALUE = /[\uE001-\uE007]/;

/** The files an object can be in: one pattern per cluster feeding the target, plain and SOPS variant. */
export function objectPatterns(layout: PathLayout, targetPath: string, clusters: readonly string[], ref: StoredObjectRef): FilePattern[] {
  const known = wellKnownKind(ref.kind, ref.group);
  return patternsFor(layout, targetPath, clusters, {
    group: ref.group ?? known?.group ?? UNKNOWN.group,
    resource: known?.resource ?? UNKNOWN.resource,
    kind: ref.kind,
    namespace: ref.namespace,
    name: ref.name,
  });
}

/**
 * The file an object is written to, and its SOPS variant, as PathLayout names them (ADR 0016).
 */
export function objectFilePaths(layout: PathLayout, targetPath: string, identity: ResourceIdentity): { plain: string; encrypted?: string } | undefined {
  const placed = layout.pathOf(targetPath, identity);
  if ('problem' in placed) return undefined;
  return placed.encrypted !== undefined ? { plain: placed.path, encrypted: placed.encrypted } : { plain: placed.path };
}

function patternsFor(layout: PathLayout, targetPath: string, clusters: readonly string[], values: Pick<ResourceIdentity, 'group' | 'resource' | 'kind' | 'namespace' | 'name'>): FilePattern[] {
  const patterns: FilePattern[] = [];
  for (const clusterId of clusters.length > 0 ? clusters : [UNKNOWN.cluster]) {
    const paths = objectFilePaths(layout, targetPath, { clusterId, version: UNKNOWN.version, ...values });
    if (!paths) continue;
    if (!patterns.some((p) => p.text === paths.plain)) patterns.push({ text: paths.plain });
    if (paths.encrypted !== undefined && !patterns.some((p) => p.text === paths.encrypted)) patterns.push({ text: paths.encrypted, encrypted: true });
  }
  return patterns;
}

/** True when every value of the pattern is known: it names one file. */
export function isLiteral(pattern: FilePattern): boolean {
  return !ANY_VALUE.test(pattern.text);
}

/**
 * The longest folder of the pattern without a wildcard (`clusters/dev/team-a` for a namespace in the
 * default layout): a literal pathspec git answers from its path index, covering every file of the pattern.
 */
export function literalFolder(pattern: FilePattern): string {
  const segments = pattern.text.split('/');
  const first = segments.findIndex((segment) => ANY_VALUE.test(segment));
  return (first < 0 ? segments.slice(0, -1) : segments.slice(0, first)).join('/');
}

/** A regular expression matching exactly the repository paths the pattern stands for. */
export function patternRegExp(pattern: FilePattern): RegExp {
  let source = '';
  const text = pattern.text;
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    // A group folder may be absent (the core group): "{groupPath}" is "group/" or "".
    if (char === UNKNOWN.group && text.charAt(i + 1) === '/') {
      source += '(?:[^/]+/)?';
      i++;
    } else if (ANY_VALUE.test(char)) source += '[^/]*';
    else source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
