import { createRequire } from 'node:module';
import type { Ajv, ValidateFunction } from 'ajv';
// Two functions of semver, not its index, which loads all of its ~40 modules (docs/adr/0043-small-install-memory.md).
import satisfies from 'semver/functions/satisfies.js';
import validRange from 'semver/ranges/valid.js';
import { ADAPTER_SLOTS, type AdapterDescriptor, type AdapterSlot, type TargetConfig } from '@gitops-reverser/contract';
import type { ConfigProblem } from '../config/config-problem.js';
import { ConfigValidationError } from '../config/config-problem.js';
import type { AdapterRef, GitopsReverserConfig } from '../config/config-types.js';
import type { ExpandedValue } from '../config/env-expansion.js';
import { coerceExpandedValues } from '../config/expanded-coercion.js';
import { configProblems } from '../config/load-config.js';
import { schemaProblems } from '../config/schema-problems.js';
import { ErrorCodes } from '../errors.js';
import { KERNEL_VERSION } from './kernel-version.js';
import { COMMONJS_FIX, moduleDescriptor } from './module-descriptor.js';
import { OPTIONS_COERCING, OPTIONS_PLAIN } from './options-validator-options.js';
import { prebuiltOptionsValidator } from './prebuilt-options-validators.js';
import { resolveAdapter, type ResolvedAdapterModule } from './resolve-adapter.js';

/** An adapter found, imported and checked; nothing of it has run yet. */
export interface LoadedAdapter<S extends AdapterSlot = AdapterSlot> {
  readonly ref: AdapterRef;
  readonly slot: S;
  readonly descriptor: AdapterDescriptor<S>;
  /** Where it was found; undefined for a descriptor passed in code. */
  readonly module?: ResolvedAdapterModule;
  /** `with:` after schema validation, defaults filled in. */
  readonly options: Record<string, unknown>;
}

export interface LoadedAdapters {
  readonly sources: LoadedAdapter<'source'>[];
  readonly normalizers: LoadedAdapter<'normalizer'>[];
  /** Undefined when the slot is given as an instance. */
  readonly bus: LoadedAdapter<'bus'> | undefined;
  readonly sink: LoadedAdapter<'sink'> | undefined;
}

/** Slots not to load from config (they are given in code). */
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
  if (problems.length > 0 || sources.includes(undefined) || normalizers.includes(undefined) || (!skip.bus && !bus) || (!skip.sink && !sink)) {
    throw new ConfigValidationError(config.configFile, configProblems(config, problems));
  }
  return {
    sources: sources as LoadedAdapter<'source'>[],
    normalizers: normalizers as LoadedAdapter<'normalizer'>[],
    bus,
    sink,
  };
}

async function loadAdapter<S extends AdapterSlot>(ref: AdapterRef, slot: S, config: GitopsReverserConfig, problems: ConfigProblem[]): Promise<LoadedAdapter<S> | undefined> {
  const useKey = `${ref.keyPath}.use`;
  const resolution = resolveAdapter(ref.use, config.baseDir);
  if (!resolution.found) {
    const isPath = ref.use.startsWith('.') || ref.use.startsWith('/');
    problems.push({
      code: ErrorCodes.PLUGIN_NOT_FOUND,
      keyPath: useKey,
      message: `cannot find adapter ${isPath ? 'file' : 'package'} "${ref.use}" (looked in: ${resolution.searched.slice(0, 4).join(', ')}${resolution.searched.length > 4 ? ', ...' : ''})`,
      fix: isPath ? `check the path; it is relative to the config file's folder (${config.baseDir})` : `install it next to the config file: (cd ${config.baseDir} && npm install ${ref.use})`,
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
  const { candidate, commonJsProblem } = moduleDescriptor(imported, resolution.module.file, descriptorProblem);
  if (commonJsProblem) {
    problems.push({ code: ErrorCodes.PLUGIN_SHAPE, keyPath: useKey, message: `"${ref.use}" is ${commonJsProblem}`, fix: COMMONJS_FIX });
    return undefined;
  }
  const loaded = checkDescriptor(candidate, ref, slot, problems, config.expandedValues);
  return loaded ? { ...loaded, module: resolution.module } : undefined;
}

/**
 * Checks a descriptor (loaded from a package, or passed in code) for `slot`: its shape, slot, kernel
 * range and options. Returns it with validated options, or undefined with the problems pushed.
 * `expanded`: the config's values that came from `${VAR}` (see ExpandedValue), the only ones converted to the schema's types.
 */
export function checkDescriptor<S extends AdapterSlot>(
  candidate: unknown,
  ref: AdapterRef,
  slot: S,
  problems: ConfigProblem[],
  expanded?: ReadonlyMap<string, ExpandedValue>,
): LoadedAdapter<S> | undefined {
  const useKey = `${ref.keyPath}.use`;
  const shapeProblem = descriptorProblem(candidate);
  if (shapeProblem) {
    problems.push({
      code: ErrorCodes.PLUGIN_SHAPE,
      keyPath: useKey,
      message: `"${ref.use}" does not export an adapter descriptor as default: ${shapeProblem}`,
      fix: 'export default defineAdapter({ meta: { name, version, slot, kernel }, optionsSchema, create }) from @gitops-reverser/contract',
    });
    return undefined;
  }
  const descriptor = candidate as AdapterDescriptor;
  if (descriptor.meta.slot !== slot) {
    problems.push({
      code: ErrorCodes.PLUGIN_SLOT,
      keyPath: useKey,
      message: `"${ref.use}" is a ${descriptor.meta.slot} adapter, but it is configured under ${SLOT_NAMES[slot]}`,
      fix: `move it under ${SLOT_NAMES[descriptor.meta.slot]}:, or use a ${slot} adapter here`,
    });
    return undefined;
  }
  if (!validRange(descriptor.meta.kernel) || !satisfies(KERNEL_VERSION, descriptor.meta.kernel, { includePrerelease: true })) {
    problems.push({
      code: ErrorCodes.PLUGIN_KERNEL_VERSION,
      keyPath: useKey,
      message: `"${ref.use}" ${descriptor.meta.version} needs kernel ${descriptor.meta.kernel}, but this kernel is ${KERNEL_VERSION}`,
      fix: `install a version of ${descriptor.meta.name} made for kernel ${KERNEL_VERSION}, or a kernel in ${descriptor.meta.kernel}`,
    });
    return undefined;
  }
  const checked = validateAgainst(descriptor.optionsSchema, ref.with, `${ref.keyPath}.with`, descriptor.meta.name, 'options', expanded);
  if (checked.problems.length > 0) {
    problems.push(...checked.problems);
    return undefined;
  }
  return { ref, slot, descriptor: descriptor as AdapterDescriptor<S>, options: checked.value };
}

/**
 * Each target's `with:` checked against the sink's `targetOptionsSchema`, defaults applied. Without a
 * schema (a sink instance passed in code) the options pass as written: `planTargets` checks them.
 */
export function validateTargetOptions(
  targets: readonly TargetConfig[],
  schema: Readonly<Record<string, unknown>> | undefined,
  sinkName: string,
  problems: ConfigProblem[],
  expanded?: ReadonlyMap<string, ExpandedValue>,
): TargetConfig[] {
  if (!schema) return [...targets];
  return targets.map((target) => {
    const checked = validateAgainst(schema, target.with, `${target.keyPath}.with`, sinkName, 'target options', expanded);
    problems.push(...checked.problems);
    return { ...target, with: checked.value };
  });
}

// Options are validated with defaults applied (`useDefaults`), so adapters see complete options.
// As for the config itself, values are checked as written; only those from `${VAR}` (always strings,
// e.g. `port: "${PORT}"`) are first converted to the schema's types by the coercing validator.
// The coercing validator of a schema is compiled only when a value under it came from `${VAR}`:
// each compile grows a process's heap, which V8 keeps (docs/adr/0041). A first-party adapter's
// validators were generated at build time (prebuilt-options-validators.ts): ajv is loaded (with
// require, being CommonJS, so that validation stays synchronous) only to compile another schema.
const require = createRequire(import.meta.url);
let optionsValidator: Ajv | undefined;
let coercingValidator: Ajv | undefined;
const compiled = new WeakMap<object, { readonly validate: ValidateFunction; readonly coerce: () => ValidateFunction }>();

function newAjv(options: typeof OPTIONS_PLAIN): Ajv {
  const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
  return new AjvClass(options);
}

/** The plain validator of `schema`: generated at build time, or compiled now. */
function plainValidator(schema: Readonly<Record<string, unknown>>): ValidateFunction {
  const prebuilt = prebuiltOptionsValidator(schema, 'plain');
  if (prebuilt) return prebuilt;
  optionsValidator ??= newAjv(OPTIONS_PLAIN);
  return optionsValidator.compile(schema);
}

/** The coercing validator of `schema`, found or compiled on first call (the schema already compiled once without coercion). */
function lazyCoercion(schema: Readonly<Record<string, unknown>>): () => ValidateFunction {
  let coerce: ValidateFunction | undefined;
  return () => {
    coerce ??= prebuiltOptionsValidator(schema, 'coercing');
    if (!coerce) {
      coercingValidator ??= newAjv(OPTIONS_COERCING);
      coerce = coercingValidator.compile(schema);
    }
    return coerce;
  };
}

function validateAgainst(
  schema: Readonly<Record<string, unknown>>,
  written: Readonly<Record<string, unknown>>,
  keyPath: string,
  adapterName: string,
  what: string,
  expanded: ReadonlyMap<string, ExpandedValue> | undefined,
): { value: Record<string, unknown>; problems: ConfigProblem[] } {
  let validators = compiled.get(schema);
  if (!validators) {
    try {
      validators = { validate: plainValidator(schema), coerce: lazyCoercion(schema) };
    } catch (cause) {
      const problem = { code: ErrorCodes.PLUGIN_SHAPE, keyPath, message: `${adapterName} has an invalid ${what} schema: ${(cause as Error).message}`, fix: 'report this to the adapter author' };
      return { value: structuredClone(written) as Record<string, unknown>, problems: [problem] };
    }
    compiled.set(schema, validators);
  }
  const prefix = keyPath
    .split(/\.|\[(\d+)\]/)
    .filter((s) => s !== undefined && s !== '')
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const value = coerceExpandedValues(structuredClone(written) as Record<string, unknown>, validators.coerce, prefix, expanded);
  if (validators.validate(value)) return { value, problems: [] };
  const problems = schemaProblems(validators.validate.errors ?? [], prefix, { reference: `the README of ${adapterName}`, ...(expanded ? { expanded } : {}) }).map((problem) => ({
    ...problem,
    code: ErrorCodes.PLUGIN_OPTIONS,
    message: `${problem.message} (${what} of ${adapterName})`,
  }));
  return { value, problems };
}

function descriptorProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return 'the default export is not an object';
  const candidate = value as Partial<AdapterDescriptor>;
  const meta = candidate.meta as Partial<AdapterDescriptor['meta']> | undefined;
  if (!meta || typeof meta !== 'object') return 'meta is missing';
  for (const field of ['name', 'version', 'kernel'] as const) if (typeof meta[field] !== 'string') return `meta.${field} is not a string`;
  if (!ADAPTER_SLOTS.includes(meta.slot as AdapterSlot)) return `meta.slot is not one of ${ADAPTER_SLOTS.join(', ')}`;
  if (typeof candidate.optionsSchema !== 'object' || candidate.optionsSchema === null) return 'optionsSchema is missing';
  if (typeof candidate.create !== 'function') {
    return typeof (candidate as { register?: unknown }).register === 'function' ? 'it has register() (kernel 0.1); kernel 0.2 calls create()' : 'create is not a function';
  }
  for (const field of ['provides', 'needs'] as const) if (candidate[field] !== undefined && !Array.isArray(candidate[field])) return `${field} is not a list`;
  return undefined;
}
