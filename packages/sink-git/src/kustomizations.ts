import { editDocument } from './in-place-edit.js';
import { canonicalYaml, dataOf, readDocuments } from './yaml-syntax.js';

/** The file names kustomize reads as a folder's kustomization, in the order it looks for them. */
export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;

/** What this sink keeps of a folder's kustomization. */
export interface Kustomization {
  readonly path: string;
  readonly blob: string;
  /** Its `namespace:`, which kustomize sets on every object it renders. */
  readonly namespace?: string;
  /** Its `resources:` as written. */
  readonly resources: readonly string[];
}

export function isKustomizationFile(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return (KUSTOMIZATION_FILES as readonly string[]).includes(name);
}

/**
 * True when a file at a kustomization's name is one: its (first) document is kustomize's
 * (`apiVersion: kustomize.config.k8s.io/...` or none, `kind: Kustomization` or `Component` or none), or
 * cannot be read as a map at all (kustomize would try it, and this sink leaves it alone). A document
 * of another kind (a ConfigMap named `kustomization`, a Flux `Kustomization`) is an object's file.
 */
export function isKustomizationText(text: string): boolean {
  const document = readDocuments(text)[0];
  const data = document ? dataOf(document) : undefined;
  if (!isRecord(data)) return true;
  const { apiVersion, kind } = data;
  const apiOk = apiVersion === undefined || apiVersion === null || (typeof apiVersion === 'string' && apiVersion.startsWith('kustomize.config.k8s.io/'));
  const kindOk = kind === undefined || kind === null || kind === 'Kustomization' || kind === 'Component';
  return apiOk && kindOk;
}

export function readKustomization(path: string, blob: string, text: string): Kustomization {
  const document = readDocuments(text)[0];
  const data = document ? dataOf(document) : undefined;
  const record = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
  const resources = Array.isArray(record['resources']) ? record['resources'].filter((r): r is string => typeof r === 'string') : [];
  const namespace = typeof record['namespace'] === 'string' && record['namespace'] !== '' ? record['namespace'] : undefined;
  return { path, blob, resources, ...(namespace ? { namespace } : {}) };
}

/** `./a.yaml`, `a.yaml` and `a/` name the same entry. */
export function sameResource(a: string, b: string): boolean {
  const normal = (entry: string) => entry.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  return normal(a) === normal(b);
}

/**
 * A kustomization's text with `entry` added at the end of `resources:` (the list and its comments
 * kept; the key added when missing). Unchanged when it is listed already.
 */
export function withResource(text: string, entry: string): string {
  return editResources(text, (resources) => (resources.some((r) => typeof r === 'string' && sameResource(r, entry)) ? resources : [...resources, entry]));
}

/** A kustomization's text without `entry` in `resources:` (an emptied list stays, as `[]`). */
export function withoutResource(text: string, entry: string): string {
  return editResources(text, (resources) => resources.filter((r) => typeof r !== 'string' || !sameResource(r, entry)));
}

/** True when the kustomization holds nothing but what this sink writes into one it creates. */
export function onlyResources(text: string): boolean {
  const document = readDocuments(text)[0];
  const data = document ? dataOf(document) : undefined;
  return isRecord(data) && Object.keys(data).every((key) => ['apiVersion', 'kind', 'resources', 'namespace'].includes(key));
}

/** A new kustomization listing `resources`, with `namespace:` when given. */
export function newKustomization(resources: readonly string[], namespace?: string): string {
  return canonicalYaml({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', ...(namespace ? { namespace } : {}), resources: [...resources] });
}

function editResources(text: string, change: (resources: unknown[]) => unknown[]): string {
  const documents = readDocuments(text);
  const read = documents[0] ? dataOf(documents[0]) : undefined;
  // A kustomization that cannot be read is left as it is (kustomize would refuse it too).
  if (documents[0] && read === undefined && documents[0].contents !== null) return text;
  const data = (isRecord(read) ? read : {}) as Record<string, unknown>;
  const resources = Array.isArray(data['resources']) ? (data['resources'] as unknown[]) : [];
  const next = change(resources);
  if (next === resources) return text;
  // A kustomization this sink wrote and nobody edited stays in the kernel's rendering.
  if (documents.length === 1 && canonicalYaml(data) === text) return canonicalYaml({ ...data, resources: next });
  return editDocument(text, 0, { ...data, resources: next }, documents);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
