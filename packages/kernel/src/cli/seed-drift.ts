import type { KubeObject, StoredObjectDocument } from '@gitops-reverser/contract';
import type { SeedObject } from './comparing-sink.js';
import { type FieldChange, fieldChanges, secretValues } from './field-diff.js';

/**
 * How a stored object differs from what the next seed would write:
 * - `missing`: in the cluster, not in the store: the seed creates its file;
 * - `different`: the seed would write other content;
 * - `moved`: stored in another file than the layout says (a person moved it): the writer keeps it there
 *   (ADR 0020), so it is drift only when its values differ;
 * - `gone`: stored, no longer in the cluster: a seed removes it only where the target prunes on snapshots.
 */
export type DriftState = 'missing' | 'different' | 'moved' | 'gone';

export interface ObjectName {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export interface Difference {
  readonly state: DriftState;
  /** True when the next seed would change the store for it. */
  readonly drift: boolean;
  readonly object: ObjectName;
  /** Where the seed writes it (missing, different, moved), or the stored file (gone). */
  readonly path: string;
  /** `moved`: where it is now. */
  readonly storedPath?: string;
  readonly fields?: readonly FieldChange[];
  readonly note?: string;
}

export interface SeedComparisonInput {
  readonly seed: readonly SeedObject[];
  /** The stored objects, one document each (as the sink's stored history gives them). */
  readonly stored: readonly StoredObjectDocument[];
  /** Where the sink writes a seed object (undefined: it cannot be placed; such objects are left out). */
  readonly pathOf: (object: SeedObject) => string | undefined;
  /** What the sink stores in an object's document (e.g. without metadata.namespace): compared with the stored document's data. */
  readonly storedFormOf: (object: SeedObject) => KubeObject;
  /** The target removes files of objects a complete snapshot did not contain. */
  readonly removesMissing: boolean;
  /** A snapshot of the target was partial: nothing would be removed. */
  readonly partial: boolean;
}

/**
 * Compares a seed with the store, object by object: each seed object with the stored document of the
 * same object (its namespace as the sink resolves it, so a document without metadata.namespace under a
 * kustomization's `namespace:` is found), by its values.
 */
export function seedDifferences(input: SeedComparisonInput): Difference[] {
  const byName = new Map<string, StoredObjectDocument[]>();
  for (const document of input.stored) {
    const key = nameKey(document.name);
    byName.set(key, [...(byName.get(key) ?? []), document]);
  }
  const claimed = new Set<StoredObjectDocument>();
  const differences: Difference[] = [];
  for (const seed of input.seed) {
    const path = input.pathOf(seed);
    if (path === undefined) continue;
    const name = nameOfSeed(seed);
    // Where the layout keeps clusters apart, a document belongs to the cluster its path names.
    const stored = (byName.get(nameKey(name)) ?? []).find((document) => !claimed.has(document) && (!document.cluster || document.cluster === seed.identity.clusterId));
    if (!stored) {
      differences.push({ state: 'missing', drift: true, object: name, path });
      continue;
    }
    claimed.add(stored);
    const form = input.storedFormOf(seed);
    const fields = stored.text === seed.yaml ? [] : fieldChanges(stored.object, form, secretValues(stored.object, seed.object));
    if (stored.path !== path) {
      differences.push({
        state: 'moved',
        // The writer updates the object where the person put it (ADR 0020): only its values can drift.
        drift: fields.length > 0,
        object: name,
        path,
        storedPath: stored.path,
        fields,
        ...(fields.length === 0 ? { note: 'kept: a person moved it; the writer updates it there' } : {}),
      });
      continue;
    }
    if (stored.text === seed.yaml) continue;
    // Same values, written differently: a person formatted or commented the file, and the writer
    // edits values in place, keeping that (ADR 0020). Encrypted files are compared by their bytes.
    const encrypted = typeof seed.object['sops'] === 'object';
    if (fields.length === 0 && !encrypted) continue;
    differences.push({
      state: 'different',
      drift: true,
      object: name,
      path,
      fields,
      ...(fields.length === 0
        ? { note: 'encrypted values differ: with fingerprintKey or identitiesFile the encoder keeps unchanged Secrets byte for byte, so they changed (without either, every seed encrypts them anew)' }
        : {}),
    });
  }
  const removed = input.removesMissing && !input.partial;
  for (const document of input.stored) {
    if (claimed.has(document)) continue;
    differences.push({
      state: 'gone',
      drift: removed,
      object: document.name,
      path: document.path,
      ...(removed ? {} : { note: input.partial ? 'kept: a snapshot was partial, so nothing is removed' : 'kept: this target removes files only for deletes it sees (prune is not Always)' }),
    });
  }
  return differences;
}

function nameOfSeed(seed: SeedObject): ObjectName {
  const { group, kind, namespace, name } = seed.identity;
  return { group, kind, namespace, name };
}

function nameKey(name: ObjectName): string {
  return `${name.group}|${name.kind}|${name.namespace}|${name.name}`;
}
