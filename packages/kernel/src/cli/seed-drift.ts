import { parseApiVersion, type StoredObjectFile } from '@gitops-reverser/contract';
import { parse } from 'yaml';
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
  readonly stored: readonly StoredObjectFile[];
  /** Where the sink writes a seed object (undefined: it cannot be placed; such objects are left out). */
  readonly pathOf: (object: SeedObject) => string | undefined;
  /** The target removes files of objects a complete snapshot did not contain. */
  readonly removesMissing: boolean;
  /** A snapshot of the target was partial: nothing would be removed. */
  readonly partial: boolean;
}

/** Compares a seed with the store: each object by the file the layout gives it, then by content for files a person moved. */
export function seedDifferences(input: SeedComparisonInput): Difference[] {
  const byPath = new Map(input.stored.map((file) => [file.path, file]));
  const claimed = new Set<string>();
  const differences: Difference[] = [];
  const unplaced: { seed: SeedObject; path: string }[] = [];
  for (const seed of input.seed) {
    const path = input.pathOf(seed);
    if (path === undefined) continue;
    const stored = byPath.get(path);
    if (!stored) {
      unplaced.push({ seed, path });
      continue;
    }
    claimed.add(path);
    if (stored.text !== seed.yaml) {
      const difference = different(seed, path, stored.text);
      // Same values, written differently: a person formatted or commented the file, and the writer
      // edits values in place, keeping that (ADR 0020). Encrypted files are compared by their bytes.
      if (difference.fields?.length === 0 && difference.note === SAME_FIELDS_NOTE) continue;
      differences.push(difference);
    }
  }
  const looseFiles = input.stored.filter((file) => !claimed.has(file.path)).map((file) => ({ file, name: nameOf(file.text) }));
  for (const { seed, path } of unplaced) {
    const name = nameOfSeed(seed);
    const elsewhere = looseFiles.find((loose) => !claimed.has(loose.file.path) && loose.name !== undefined && sameName(loose.name, name));
    if (elsewhere) {
      claimed.add(elsewhere.file.path);
      const fields = fieldChanges(parsed(elsewhere.file.text), parsed(seed.yaml), secretValues(parsed(elsewhere.file.text), seed.object));
      differences.push({
        state: 'moved',
        // The writer updates the object where the person put it (ADR 0020): only its values can drift.
        drift: fields.length > 0,
        object: name,
        path,
        storedPath: elsewhere.file.path,
        fields,
        ...(fields.length === 0 ? { note: 'kept: a person moved the file; the writer updates it there' } : {}),
      });
    } else differences.push({ state: 'missing', drift: true, object: name, path });
  }
  const removed = input.removesMissing && !input.partial;
  for (const { file, name } of looseFiles) {
    if (claimed.has(file.path) || name === undefined) continue;
    differences.push({
      state: 'gone',
      drift: removed,
      object: name,
      path: file.path,
      ...(removed ? {} : { note: input.partial ? 'kept: a snapshot was partial, so nothing is removed' : 'kept: this target removes files only for deletes it sees (prune is not Always)' }),
    });
  }
  return differences;
}

const SAME_FIELDS_NOTE = 'the same fields, written differently (formatting or key order)';

function different(seed: SeedObject, path: string, stored: string): Difference {
  const fields = fieldChanges(parsed(stored), parsed(seed.yaml), secretValues(parsed(stored), seed.object));
  const encrypted = fields.length === 0 && typeof seed.object['sops'] === 'object';
  return {
    state: 'different',
    drift: true,
    object: nameOfSeed(seed),
    path,
    fields,
    ...(encrypted
      ? { note: 'encrypted values differ: with fingerprintKey or identitiesFile the encoder keeps unchanged Secrets byte for byte, so they changed (without either, every seed encrypts them anew)' }
      : fields.length === 0
        ? { note: SAME_FIELDS_NOTE }
        : {}),
  };
}

function nameOfSeed(seed: SeedObject): ObjectName {
  const { group, kind, namespace, name } = seed.identity;
  return { group, kind, namespace, name };
}

function nameOf(text: string): ObjectName | undefined {
  const object = parsed(text) as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | undefined;
  if (!object || typeof object !== 'object' || typeof object.apiVersion !== 'string' || typeof object.kind !== 'string' || typeof object.metadata?.name !== 'string') return undefined;
  return {
    group: parseApiVersion(object.apiVersion).group,
    kind: object.kind,
    namespace: typeof object.metadata.namespace === 'string' ? object.metadata.namespace : '',
    name: object.metadata.name,
  };
}

function sameName(a: ObjectName, b: ObjectName): boolean {
  return a.group === b.group && a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
}

function parsed(text: string): unknown {
  try {
    return parse(text);
  } catch {
    return undefined;
  }
}
