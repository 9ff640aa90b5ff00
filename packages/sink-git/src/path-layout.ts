import { createHash } from 'node:crypto';
import { CLUSTER_SCOPE_KEY, grError, type ResourceIdentity } from '@gitops-reverser/contract';
import { GitErrorCodes } from './git-error-codes.js';
import { KUSTOMIZATION_FILES } from './kustomizations.js';
import { isSopsFileName, objectFileNames } from './sops-files.js';
import { isGitDirName } from './target-path.js';

/** The default file layout inside a target folder. `{groupPath}` is "group/" or "" for the core group. */
export const DEFAULT_LAYOUT = '{namespace}/{groupPath}{resource}/{name}.yaml';

const PLACEHOLDERS = ['cluster', 'group', 'groupPath', 'version', 'resource', 'kind', 'namespace', 'name', 'shard'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

/**
 * Where an object's file lives: `{target.path}/{layout}`. Every segment a name or namespace
 * produces is checked, so no object can write outside its target folder.
 */
export class PathLayout {
  private readonly parts: (string | { placeholder: Placeholder })[];
  private pattern: RegExp | undefined;
  private readonly usesShard: boolean;
  private readonly folders = new Map<string, string | null>();

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
    this.usesShard = this.parts.some((part) => typeof part !== 'string' && part.placeholder === 'shard');
    if (template.startsWith('/') || template.split('/').some((s) => s === '..' || s === '.')) {
      throw grError(GitErrorCodes.LAYOUT, `layout "${template}" must be a relative path without "." or ".." segments`, { fix: `start from the default "${DEFAULT_LAYOUT}"` });
    }
    if (!template.includes('{name}')) {
      throw grError(GitErrorCodes.LAYOUT, `layout "${template}" does not contain {name}: every object would write the same file`, { fix: `include {name}, as in "${DEFAULT_LAYOUT}"` });
    }
  }

  /**
   * What a file's path (relative to the target folder) says of the objects in it: the cluster, when
   * the layout's first folder is `{cluster}` (a file a person moved stays in its cluster's folder),
   * and the namespace, when the path is one the whole layout produces. Used for documents that do
   * not say it themselves.
   */
  placeOf(relativePath: string): PathPlace {
    const segments = relativePath.split('/');
    const first = this.parts[1];
    const leadingCluster = this.parts[0] === '' && typeof first === 'object' && first.placeholder === 'cluster' && (this.parts[2] as string).startsWith('/');
    const cluster = leadingCluster && segments.length > 1 ? segments[0] : this.valuesAt(relativePath)?.cluster;
    const value = this.valuesAt(relativePath)?.namespace;
    const namespace = value === undefined ? undefined : value === CLUSTER_SCOPE_KEY ? '' : value;
    return { ...(cluster !== undefined ? { cluster } : {}), ...(namespace !== undefined ? { namespace } : {}) };
  }

  /** The placeholder values of a path (relative to the target folder) the whole layout matches; undefined otherwise. */
  valuesAt(relativePath: string): Partial<Record<Placeholder, string>> | undefined {
    this.pattern ??= new RegExp(`^${this.parts.map((part) => (typeof part === 'string' ? escapeRegExp(part) : part.placeholder === 'groupPath' ? '((?:[^/]+/)?)' : '([^/]+)')).join('')}$`);
    const match = this.pattern.exec(relativePath);
    if (!match) return undefined;
    const values: Partial<Record<Placeholder, string>> = {};
    this.parts
      .filter((part): part is { placeholder: Placeholder } => typeof part !== 'string')
      .forEach((part, i) => {
        values[part.placeholder] ??= match[i + 1] as string;
      });
    return values;
  }

  /**
   * The repository paths of an object's file: `path` (plain) and, for a layout ending in `.yaml`,
   * `encrypted` (its SOPS variant, see sops-files.ts); or a reason the object cannot be placed safely.
   */
  pathOf(targetPath: string, identity: ResourceIdentity): { path: string; encrypted?: string } | { problem: string } {
    const values: Record<Placeholder, string> = {
      cluster: identity.clusterId,
      group: identity.group,
      groupPath: identity.group === '' ? '' : `${identity.group}/`,
      version: identity.version,
      resource: identity.resource,
      kind: identity.kind,
      namespace: identity.namespace === '' ? CLUSTER_SCOPE_KEY : identity.namespace,
      name: identity.name,
      // 256 folders by the name's hash: keeps each folder's tree small when a namespace holds
      // tens of thousands of objects of one kind (every commit rewrites its folder's tree). Hashed
      // only for a layout that uses it: a seed asks for 10,000 paths and more.
      shard: this.usesShard ? createHash('sha256').update(identity.name).digest('hex').slice(0, 2) : '',
    };
    for (const key of CHECKED_VALUES) {
      const problem = unsafeValue(values[key]);
      if (problem && !(key === 'group' && values.group === '')) return { problem: `${key} "${values[key]}" ${problem}` };
    }
    let produced = '';
    for (const part of this.parts) produced += typeof part === 'string' ? part : values[part.placeholder];
    const slash = produced.lastIndexOf('/');
    const name = produced.slice(slash + 1);
    const folder = this.folderOf(targetPath, slash < 0 ? undefined : produced.slice(0, slash));
    if (folder === null || unsafeSegment(name)) return { problem: `layout produced an unsafe path "${produced}"` };
    const names = objectFileNames(name);
    const plain = notAKustomizationName(names.plain);
    const path = placedIn(folder, plain);
    return names.encrypted ? { path, encrypted: placedIn(folder, names.encrypted) } : { path };
  }

  /**
   * The repository folder of a produced folder path (`{target.path}/` and each segment fitted), or null
   * when a segment is unsafe. Remembered: a seed asks for the same few folders thousands of times.
   */
  private folderOf(targetPath: string, produced: string | undefined): string | null {
    const key = `${targetPath}\0${produced ?? ''}`;
    const known = this.folders.get(key);
    if (known !== undefined) return known;
    const segments = produced === undefined ? [] : produced.split('/');
    const folder = segments.some(unsafeSegment) ? null : [...(targetPath === '' ? [] : [targetPath]), ...segments.map(fitSegment)].join('/');
    if (this.folders.size >= MAX_REMEMBERED_FOLDERS) this.folders.clear();
    this.folders.set(key, folder);
    return folder;
  }
}

/** `{cluster}` and `{namespace}` as a file's path shows them (see `PathLayout.placeOf`). */
export interface PathPlace {
  /** The cluster of the folder the file is in, for a layout that starts with `{cluster}/`. */
  readonly cluster?: string;
  /** The namespace ("" for `_cluster`), for a file at a path the whole layout produces. */
  readonly namespace?: string;
}

/** The placeholder values checked for unsafe path segments, in the order a problem names the first. */
const CHECKED_VALUES = ['namespace', 'name', 'resource', 'group', 'kind', 'cluster'] as const;

/** A file's repository path in a fitted folder ('' for the repository's root). */
function placedIn(folder: string, file: string): string {
  return folder === '' ? fitSegment(file) : `${folder}/${fitSegment(file)}`;
}

/** Folders a layout remembers (see `folderOf`); past this many it starts over. */
const MAX_REMEMBERED_FOLDERS = 4096;

/** ".git" is unsafe as a segment in any spelling a checkout may take for it (case, trailing dots or spaces, git~1). */
function unsafeSegment(segment: string): boolean {
  return segment === '' || segment === '.' || segment === '..' || isGitDirName(segment);
}

function unsafeValue(value: string): string | undefined {
  if (value === '') return 'is empty';
  if (value === '.' || value === '..') return 'is a relative path segment';
  if (value.includes('/') || value.includes('\\')) return 'contains a path separator';
  if (value.includes('\0')) return 'contains a NUL byte';
  return undefined;
}

/**
 * An object's file name that kustomize would read as the folder's kustomization (`kustomization.yaml`,
 * `kustomization.yml`, `Kustomization`; any case, for case-insensitive checkouts), as an object named
 * `kustomization` gets under the default layout: its first letter is written as `%XX` (`%6Bustomization.yaml`).
 * No Kubernetes name or kind contains `%`, so no other object's file can have that name, and the
 * folder's kustomization is never an object's file (or the other way round).
 */
export function notAKustomizationName(name: string): string {
  // Every object's file name is asked about: only one of a kustomization's lengths is lowercased.
  if (!KUSTOMIZATION_NAME_LENGTHS.has(name.length) || !KUSTOMIZATION_NAMES_LOWER.has(name.toLowerCase())) return name;
  return `%${name.charCodeAt(0).toString(16).toUpperCase()}${name.slice(1)}`;
}

const KUSTOMIZATION_NAMES_LOWER: ReadonlySet<string> = new Set(KUSTOMIZATION_FILES.map((file) => file.toLowerCase()));
const KUSTOMIZATION_NAME_LENGTHS: ReadonlySet<number> = new Set(KUSTOMIZATION_FILES.map((file) => file.length));

/** File systems refuse names over 255 bytes (git itself does not, so a clone would fail to check out). */
export const MAX_SEGMENT_BYTES = 255;

/**
 * A path segment that fits `MAX_SEGMENT_BYTES`: unchanged when it does; otherwise a readable prefix,
 * "~", 12 hex digits of the sha256 of the whole segment, and the extension. Deterministic, so the
 * same object always lands in the same file.
 */
export function fitSegment(segment: string): string {
  if (Buffer.byteLength(segment) <= MAX_SEGMENT_BYTES) return segment;
  const dot = segment.lastIndexOf('.');
  // `.sops.yaml` stays whole: tools find encrypted files by it.
  const extension = isSopsFileName(segment) ? '.sops.yaml' : dot > 0 && segment.length - dot <= 16 ? segment.slice(dot) : '';
  const suffix = `~${createHash('sha256').update(segment).digest('hex').slice(0, 12)}${extension}`;
  let prefix = segment.slice(0, segment.length - extension.length);
  while (Buffer.byteLength(prefix) + Buffer.byteLength(suffix) > MAX_SEGMENT_BYTES) prefix = prefix.slice(0, -1);
  return `${prefix}${suffix}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
