import type { Bus } from './bus.js';
import type { Normalizer, ProtectedTypes } from './normalizer.js';
import type { Clock, Logger, Metrics } from './observability.js';
import type { Sink } from './sink.js';
import type { Source } from './source.js';

export type AdapterSlot = 'source' | 'bus' | 'normalizer' | 'sink';
export const ADAPTER_SLOTS: readonly AdapterSlot[] = ['source', 'bus', 'normalizer', 'sink'];

/** What each slot's adapter creates. */
export interface SlotInstances {
  source: Source;
  bus: Bus;
  normalizer: Normalizer;
  sink: Sink;
}

/**
 * A named service adapters exchange through the kernel's DI container. Two tokens with the same
 * `id` are the same service, so a consumer can declare a token without importing the provider's
 * package. `T` is the service's type (carried for type checking only).
 */
export interface ServiceToken<T> {
  readonly id: string;
  /** The package that usually provides it: named in the error when no configured adapter does. */
  readonly providedBy?: string;
  readonly description?: string;
  /** Type carrier; never set. */
  readonly __service?: T;
}

export function serviceToken<T>(id: string, options: { providedBy?: string; description?: string } = {}): ServiceToken<T> {
  return { id, ...options };
}

/** A service an adapter declares it needs; `optional` ones may be missing (`optionalService` returns undefined). */
export interface ServiceNeed {
  readonly token: ServiceToken<unknown>;
  readonly optional?: boolean;
}

/** What the kernel tells adapters about the config they run under. */
export interface ConfigView {
  /** Absolute path of the config file ("<inline>" when the config was built in code). */
  readonly configFile: string;
  /** The folder relative paths in options are resolved against (the config file's folder). */
  readonly baseDir: string;
  /** Cluster ids of the configured sources. */
  readonly clusters: readonly string[];
  /** A path from an option as users mean it: `~/` is the home folder, a relative path is relative to `baseDir`. */
  resolvePath(path: string): string;
}

/** Services the kernel always provides; adapters use them without declaring a need. */
export const KernelServices = {
  Logger: serviceToken<Logger>('kernel.logger', { description: 'the root logger' }),
  Metrics: serviceToken<Metrics>('kernel.metrics', { description: 'get-or-create metrics on the kernel registry' }),
  Clock: serviceToken<Clock>('kernel.clock', { description: 'the time source' }),
  Config: serviceToken<ConfigView>('kernel.config', { description: 'config file, base folder, cluster ids' }),
  /** The types the configured encoders protect (their `protects`), e.g. so a source may select Secrets under `*`. */
  ProtectedTypes: serviceToken<ProtectedTypes>('kernel.protected-types', { description: 'the types the configured encoders protect' }),
} as const;

export interface AdapterMeta<S extends AdapterSlot = AdapterSlot> {
  /** Usually the npm package name. */
  readonly name: string;
  readonly version: string;
  readonly slot: S;
  /** semver range of kernel (= contract) versions this adapter is built for, e.g. "^0.3.0". */
  readonly kernel: string;
  readonly description?: string;
}

/** What an adapter's `create` receives. Built by the kernel's container for each configured instance. */
export interface AdapterContext<O = Record<string, unknown>> {
  /** The instance name: `name:` of its config entry, else the package name (+ "#2", "#3" for repeats). */
  readonly name: string;
  /** Key path of the instance's config entry (e.g. `sources[0]`), for messages. */
  readonly keyPath: string;
  /** Options from `with:`, validated against `optionsSchema`, defaults applied. */
  readonly options: O;
  /** A child logger bound to `{ adapter: name }`. */
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly config: ConfigView;
  /** A service declared in `needs`. Throws for one not declared (declare it so `validate` can check it). */
  service<T>(token: ServiceToken<T>): T;
  /** A service declared in `needs` with `optional: true`: undefined when no adapter provides it. */
  optionalService<T>(token: ServiceToken<T>): T | undefined;
  /** Offers a service declared in `provides` to the adapters that need it. Call it from `create`. */
  provide<T>(token: ServiceToken<T>, value: T): void;
}

/**
 * What an adapter package default-exports. The kernel checks `meta.slot`, `meta.kernel` and the
 * options against `optionsSchema` at load time, wires `needs` to `provides` (creating providers
 * first), and only then calls `create`, in `validate` as in `run`.
 */
export interface AdapterDescriptor<S extends AdapterSlot = AdapterSlot, O = Record<string, unknown>> {
  readonly meta: AdapterMeta<S>;
  /** JSON Schema (draft-07, as ajv reads it) of the `with:` options. `x-fix` on a field is shown to users. */
  readonly optionsSchema: Readonly<Record<string, unknown>>;
  /** Sinks only: JSON Schema of each target's `with:`. */
  readonly targetOptionsSchema?: Readonly<Record<string, unknown>>;
  /** Services this adapter offers to others (it must `provide` each one in `create`). */
  readonly provides?: readonly ServiceToken<unknown>[];
  /** Services this adapter uses from others. A required one that no configured adapter provides is a config error. */
  readonly needs?: readonly (ServiceToken<unknown> | ServiceNeed)[];
  /**
   * Builds the instance. Keep it cheap and free of I/O (it also runs for `validate`): connect in
   * `start()`. An error made with `grError` and a code of the adapter's own (`ACME_ERR_*`, see
   * docs/writing-adapters.md) is reported with that code and fix; any other throw as
   * GR_ERR_PLUGIN_CREATE with the adapter's name.
   */
  create(context: AdapterContext<O>): SlotInstances[S];
}

/** Identity function with types: `export default defineAdapter({ meta, optionsSchema, create })`. */
export function defineAdapter<S extends AdapterSlot, O = Record<string, unknown>>(descriptor: AdapterDescriptor<S, O>): AdapterDescriptor<S, O> {
  return descriptor;
}

/** The `needs` of a descriptor in one shape. */
export function serviceNeeds(descriptor: Pick<AdapterDescriptor, 'needs'>): ServiceNeed[] {
  return (descriptor.needs ?? []).map((need) => ('token' in need ? need : { token: need }));
}
