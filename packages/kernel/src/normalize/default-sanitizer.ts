import { grError, type KubeObject, type Normalizer } from '@gitops-reverser/contract';
import type { SanitizerConfig } from '../config/config-types.js';
import { ErrorCodes } from '../errors.js';
import { FieldPathError, parseFieldPath, removeAtPath, type FieldPath } from './field-path.js';
import { NOISE_ANNOTATIONS, NOISE_LABELS, SERVER_OWNED_METADATA, SERVICE_ALLOCATED_FIELDS, type BuiltInList } from './noise-lists.js';

/** Every built-in list on, nothing kept back from them, nothing extra removed: what a config without `sanitizer:` means. */
export const DEFAULT_SANITIZER_CONFIG: SanitizerConfig = {
  removeFields: [],
  removeAnnotations: [],
  removeLabels: [],
  defaults: { status: true, serverOwnedMetadata: true, annotations: true, labels: true, serviceAllocations: true },
  keepAnnotations: [],
  keepLabels: [],
  keepMetadata: [],
};

export const DEFAULT_SANITIZER_NAME = 'default-sanitizer';

/**
 * The first normalizer, always present: removes what the API server owns and keeps every other
 * field (a StorageClass keeps `provisioner`, a Secret keeps `stringData`). Config `sanitizer:`
 * switches built-in lists off (`defaults`), keeps entries of them (`keep*`) and removes more
 * (`remove*`); see docs/noise.md. It runs once per event, before the content hash, so whatever it
 * removes can never make a commit; that is why field excludes live here, per kind, and not per rule
 * (ADR 0023).
 */
export function createDefaultSanitizer(config: Partial<SanitizerConfig> = DEFAULT_SANITIZER_CONFIG): Normalizer {
  const defaults = { ...DEFAULT_SANITIZER_CONFIG.defaults, ...config.defaults };
  const on = (list: BuiltInList) => defaults[list];
  const removedKey = (list: 'annotations' | 'labels', builtIn: readonly string[], keep: readonly string[] | undefined, extra: readonly string[] | undefined): Matcher => {
    const noise = on(list) ? builtIn.map(keyMatcher) : [];
    const kept = (keep ?? []).map(keyMatcher);
    const more = (extra ?? []).map(keyMatcher);
    // `keep*` exempts keys from the built-in list only: what the config removes itself stays removed.
    return (key) => more.some((match) => match(key)) || (noise.some((match) => match(key)) && !kept.some((match) => match(key)));
  };
  const annotationRemoved = removedKey('annotations', NOISE_ANNOTATIONS, config.keepAnnotations, config.removeAnnotations);
  const labelRemoved = removedKey('labels', NOISE_LABELS, config.keepLabels, config.removeLabels);
  const serverOwned: ReadonlySet<string> = new Set(on('serverOwnedMetadata') ? SERVER_OWNED_METADATA.filter((field) => !(config.keepMetadata ?? []).includes(field)) : []);
  const dropStatus = on('status');
  const serviceFields = on('serviceAllocations');
  const removals = (config.removeFields ?? []).map((removal, index) => ({ path: compiledPath(removal.path, index), kinds: removal.kinds }));

  return {
    name: DEFAULT_SANITIZER_NAME,
    phase: 'sanitize',
    normalize(object: KubeObject): KubeObject {
      // A copy that leaves out what is removed, rather than a clone followed by deletes: a seed
      // normalizes every object, and deleting keys turns objects into slow dictionaries.
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(object)) {
        if (key === 'status' && dropStatus) continue;
        const value = object[key];
        out[key] = key === 'metadata' && isRecord(value) ? sanitizedMetadata(value, serverOwned, annotationRemoved, labelRemoved) : copyPlain(value);
      }
      const sanitized = out as KubeObject;
      if (serviceFields && sanitized.kind === 'Service' && sanitized.apiVersion === 'v1') sanitizeServiceSpec(sanitized);
      for (const removal of removals) {
        if (removal.kinds.length === 0 || kindMatches(removal.kinds, sanitized)) removeAtPath(sanitized, removal.path);
      }
      return sanitized;
    },
  };
}

/** `kinds` entries: `Kind` (any group) or `Kind.group` (`Deployment.apps`; `Service.` is the core group's). */
function kindMatches(kinds: readonly string[], object: KubeObject): boolean {
  const kind = object.kind ?? '';
  const apiVersion = object.apiVersion ?? '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return kinds.some((entry) => entry === kind || entry === `${kind}.${group}`);
}

/** A path as `removeFields` holds it; the config loader has checked it, so this throws only for configs built around it. */
function compiledPath(path: string, index: number): FieldPath {
  try {
    return parseFieldPath(path);
  } catch (error) {
    if (!(error instanceof FieldPathError)) throw error;
    throw grError(ErrorCodes.CONFIG_INVALID, `sanitizer.removeFields[${index}]: ${error.message}`, { fix: 'see the path syntax in the kernel README (sanitizer.removeFields)' });
  }
}

function sanitizedMetadata(metadata: Record<string, unknown>, serverOwned: ReadonlySet<string>, annotationRemoved: Matcher, labelRemoved: Matcher): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(metadata)) {
    if (serverOwned.has(key)) continue;
    const value = metadata[key];
    if ((key === 'annotations' || key === 'labels') && isRecord(value)) {
      const kept = keptKeys(value, key === 'annotations' ? annotationRemoved : labelRemoved);
      if (kept) out[key] = kept;
      continue;
    }
    out[key] = copyPlain(value);
  }
  return out;
}

/** The map without removed keys; undefined when nothing is left (an emptied map is dropped). */
function keptKeys(map: Record<string, unknown>, removed: Matcher): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const key of Object.keys(map)) {
    if (removed(key)) continue;
    out[key] = copyPlain(map[key]);
    kept++;
  }
  return kept > 0 ? out : undefined;
}

/**
 * A deep copy of JSON data (objects are plain data by contract; anything else is cloned the
 * structured way). Strings are shared, not copied. Recursive: the kernel refuses objects nested
 * more than MAX_OBJECT_DEPTH levels before any normalizer runs.
 */
function copyPlain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyPlain);
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copyPlain((value as Record<string, unknown>)[key]);
  return out;
}

function sanitizeServiceSpec(service: KubeObject): void {
  const spec = service['spec'];
  if (!isRecord(spec)) return;
  for (const field of SERVICE_ALLOCATED_FIELDS) if (field !== 'clusterIP' || spec[field] !== 'None') delete spec[field];
}

type Matcher = (key: string) => boolean;

function keyMatcher(pattern: string): Matcher {
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    return (key) => key.startsWith(prefix);
  }
  return (key) => key === pattern;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
