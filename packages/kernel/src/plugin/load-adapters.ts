import { Ajv } from 'ajv';
import semver from 'semver';
import type { ConfigProblem } from '../config/config-problem.js';
import { ConfigValidationError } from '../config/config-problem.js';
import type { AdapterRef, GitopsReverserConfig } from '../config/config-types.js';
import { locateProblems } from '../config/load-config.js';
import { schemaProblems } from '../config/schema-problems.js';
import { ErrorCodes } from '../errors.js';
import { ADAPTER_SLOTS, type AdapterDescriptor, type AdapterSlot } from './adapter-descriptor.js';
import { KERNEL_VERSION } from './kernel-version.js';
import { resolveAdapter, type ResolvedAdapterModule } from './resolve-adapter.js';

/** An adapter found, imported and checked; nothing of it has run yet. */
export interface LoadedAdapter<S extends AdapterSlot = AdapterSlot> {
  readonly ref: AdapterRef;
  readonly slot: S;
  readonly descriptor: AdapterDescriptor<S>;
  readonly module: ResolvedAdapterModule;
  /** `with:` after schema validation, defaults filled in. */
  readonly options: Record<string, unknown>;
}

export interface LoadedAdapters {
  readonly sources: LoadedAdapter<'source'>[];
  readonly normalizers: LoadedAdapter<'normalizer'>[];
  /** Undefined only when skipped. */
  readonly bus: LoadedAdapter<'bus'> | undefined;
  readonly sink: LoadedAdapter<'sink'> | undefined;
}

/** Slots not to load (they are given as instances by the caller). */
export type SkippedSlots = Partial<Record<'sources' | 'normalizers' | 'bus' | 'sink', boolean>>;

const SLOT_NAMES: Record<AdapterSlot, string> = { source: 'sources', normalizer: 'normalizers', bus: 'bus', sink: 'sink' };

/**
 * Resolves, imports and checks every adapter the config names: the module exists, its default
 * export is a descriptor, it is for this slot and this kernel version, and its options match its
 * schema. All problems are collected and thrown together as one ConfigValidationError.
 */
export async function loadAdapters(config: GitopsReverserConfig, skip: SkippedSlots = {}): Promise<LoadedAdapters> {
  const problems: ConfigProblem[] = [];
  const load = async <S extends AdapterSlot>(ref: AdapterRef, slot: S) => loadAdapter(ref, slot, config, problems);
  const sources = skip.sources ? [] : await Promise.all(config.sources.map((ref) => load(ref, 'source')));
  const normalizers = skip.normalizers ? [] : await Promise.all(config.normalizers.map((ref) => load(ref, 'normalizer')));
  const bus = skip.bus ? undefined : await load(config.bus, 'bus');
  const sink = skip.sink ? undefined : await load(config.sink, 'sink');
  if (problems.length > 0 || sources.includes(undefined) || normalizers.includes(undefined)) {
    throw new ConfigValidationError(config.configFile, locateProblems(problems, config.findPosition));
  }
  return {
    sources: sources as LoadedAdapter<'source'>[],
    normalizers: normalizers as LoadedAdapter<'normalizer'>[],
    bus,
    sink,
  };
}

async function loadAdapter<S extends AdapterSlot>(
  ref: AdapterRef,
  slot: S,
  config: GitopsReverserConfig,
  problems: ConfigProblem[],
): Promise<LoadedAdapter<S> | undefined> {
  const useKey = `${ref.keyPath}.use`;
  const resolution = resolveAdapter(ref.use, config.baseDir);
  if (!resolution.found) {
    const isPath = ref.use.startsWith('.') || ref.use.startsWith('/');
    problems.push({
      code: ErrorCodes.PLUGIN_NOT_FOUND,
      keyPath: useKey,
      message: `cannot find adapter ${isPath ? 'file' : 'package'} "${ref.use}" (looked in: ${resolution.searched.slice(0, 4).join(', ')}${resolution.searched.length > 4 ? ', ...' : ''})`,
      fix: isPath
        ? `check the path; it is relative to the config file's folder (${config.baseDir})`
        : `install it next to the config file: (cd ${config.baseDir} && npm install ${ref.use})`,
    });
    return undefined;
  }

  let imported: { default?: unknown };
  try {
    imported = (await import(resolution.module.url)) as { default?: unknown };
  } catch (cause) {
    problems.push({
      code: ErrorCodes.PLUGIN_IMPORT,
      keyPath: useKey,
      message: `adapter "${ref.use}" (${resolution.module.file}) failed to load: ${(cause as Error).message}`,
      fix: 'reinstall the package (npm ci); if you wrote it, run it with node directly to see the error',
    });
    return undefined;
  }

  const descriptor = imported.default;
  if (!isDescriptor(descriptor)) {
    problems.push({
      code: ErrorCodes.PLUGIN_SHAPE,
      keyPath: useKey,
      message: `"${ref.use}" does not default-export an adapter descriptor ({ meta: { name, version, slot, kernel }, optionsSchema, register })`,
      fix: 'export default defineAdapter({ meta, optionsSchema, create }) from @gitops-reverser/kernel',
    });
    return undefined;
  }

  if (descriptor.meta.slot !== slot) {
    problems.push({
      code: ErrorCodes.PLUGIN_SLOT,
      keyPath: useKey,
      message: `"${ref.use}" is a ${descriptor.meta.slot} adapter, but it is configured under ${SLOT_NAMES[slot]}`,
      fix: `move it under ${SLOT_NAMES[descriptor.meta.slot]}:, or use a ${slot} adapter here`,
    });
    return undefined;
  }

  if (!semver.validRange(descriptor.meta.kernel) || !semver.satisfies(KERNEL_VERSION, descriptor.meta.kernel, { includePrerelease: true })) {
    problems.push({
      code: ErrorCodes.PLUGIN_KERNEL_VERSION,
      keyPath: useKey,
      message: `"${ref.use}" ${descriptor.meta.version} needs kernel ${descriptor.meta.kernel}, but this kernel is ${KERNEL_VERSION}`,
      fix: `install a version of ${descriptor.meta.name} made for kernel ${KERNEL_VERSION}, or a kernel in ${descriptor.meta.kernel}`,
    });
    return undefined;
  }

  const options = structuredClone(ref.with);
  let validate;
  try {
    validate = optionsValidator.compile(descriptor.optionsSchema);
  } catch (cause) {
    problems.push({
      code: ErrorCodes.PLUGIN_SHAPE,
      keyPath: useKey,
      message: `"${ref.use}" has an invalid optionsSchema: ${(cause as Error).message}`,
      fix: 'report this to the adapter author',
    });
    return undefined;
  }
  if (!validate(options)) {
    const prefix = `${ref.keyPath}.with`.split(/\.|\[(\d+)\]/).filter((s) => s !== undefined && s !== '').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    problems.push(
      ...schemaProblems(validate.errors ?? [], prefix).map((problem) => ({
        ...problem,
        code: ErrorCodes.PLUGIN_OPTIONS,
        message: `${problem.message} (options of ${descriptor.meta.name})`,
      })),
    );
    return undefined;
  }
  return { ref, slot, descriptor: descriptor as AdapterDescriptor<S>, module: resolution.module, options };
}

// Options are validated with defaults applied (`useDefaults`), so adapters see complete options.
const optionsValidator = new Ajv({ allErrors: true, verbose: true, useDefaults: true, allowUnionTypes: true, strict: false });

function isDescriptor(value: unknown): value is AdapterDescriptor {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<AdapterDescriptor>;
  const meta = candidate.meta as Partial<AdapterDescriptor['meta']> | undefined;
  return (
    meta !== undefined &&
    typeof meta.name === 'string' &&
    typeof meta.version === 'string' &&
    typeof meta.kernel === 'string' &&
    ADAPTER_SLOTS.includes(meta.slot as AdapterSlot) &&
    typeof candidate.optionsSchema === 'object' &&
    candidate.optionsSchema !== null &&
    typeof candidate.register === 'function'
  );
}
