import type { DependencyContainer } from 'tsyringe';
import type { GitopsReverserConfig } from '../config/config-types.js';
import type { Bus } from '../contracts/bus.js';
import type { Normalizer } from '../contracts/normalizer.js';
import type { Sink } from '../contracts/sink.js';
import type { Source } from '../contracts/source.js';
import type { Logger } from '../runtime/logger.js';
import type { KernelMetrics } from '../runtime/metrics.js';

export type AdapterSlot = 'source' | 'bus' | 'normalizer' | 'sink';
export const ADAPTER_SLOTS: readonly AdapterSlot[] = ['source', 'bus', 'normalizer', 'sink'];

/** What each slot's adapter produces. */
export interface SlotInstances {
  source: Source;
  bus: Bus;
  normalizer: Normalizer;
  sink: Sink;
}

/**
 * tsyringe tokens. An adapter's `register` puts its instance under its slot's token; the kernel's
 * services are registered under the Kernel* tokens before any adapter registers, so an adapter can
 * resolve them. Symbol.for keeps the tokens equal across module copies.
 */
export const SlotTokens = {
  source: Symbol.for('gitops-reverser.Source'),
  bus: Symbol.for('gitops-reverser.Bus'),
  normalizer: Symbol.for('gitops-reverser.Normalizer'),
  sink: Symbol.for('gitops-reverser.Sink'),
} as const satisfies Record<AdapterSlot, symbol>;

export const KernelTokens = {
  Config: Symbol.for('gitops-reverser.Config'),
  Logger: Symbol.for('gitops-reverser.Logger'),
  Metrics: Symbol.for('gitops-reverser.Metrics'),
  /** The adapter's own validated options (registered per adapter). */
  AdapterOptions: Symbol.for('gitops-reverser.AdapterOptions'),
} as const;

export interface AdapterMeta<S extends AdapterSlot = AdapterSlot> {
  /** Usually the npm package name. */
  readonly name: string;
  readonly version: string;
  readonly slot: S;
  /** semver range of kernel versions this adapter works with, e.g. "^0.1.0". */
  readonly kernel: string;
  readonly description?: string;
}

/** Everything an adapter gets when it is created. */
export interface AdapterContext<O = Record<string, unknown>> {
  /** Options from `with:`, validated against the adapter's schema, defaults applied. */
  readonly options: O;
  readonly config: GitopsReverserConfig;
  /** A child logger named after the adapter. */
  readonly logger: Logger;
  readonly metrics: KernelMetrics;
  /** Key path of the adapter's entry (e.g. `sources[0]`), for messages. */
  readonly keyPath: string;
}

/**
 * What an adapter package default-exports. The kernel checks `meta.slot`, `meta.kernel` and the
 * options against `optionsSchema` at load time, before anything starts.
 */
export interface AdapterDescriptor<S extends AdapterSlot = AdapterSlot, O = Record<string, unknown>> {
  readonly meta: AdapterMeta<S>;
  /** JSON Schema (draft-07 subset ajv understands) of the `with:` options. */
  readonly optionsSchema: Readonly<Record<string, unknown>>;
  /** Registers the adapter's instance under `SlotTokens[meta.slot]` in `container`. */
  register(container: DependencyContainer, context: AdapterContext<O>): void;
}

/**
 * Builds a descriptor from a factory; the common case. The factory runs lazily when the kernel
 * resolves the slot token.
 */
export function defineAdapter<S extends AdapterSlot, O = Record<string, unknown>>(spec: {
  meta: AdapterMeta<S>;
  optionsSchema: Readonly<Record<string, unknown>>;
  create(context: AdapterContext<O>): SlotInstances[S];
}): AdapterDescriptor<S, O> {
  return {
    meta: spec.meta,
    optionsSchema: spec.optionsSchema,
    register(container, context) {
      container.register(SlotTokens[spec.meta.slot], { useFactory: () => spec.create(context) });
    },
  };
}
