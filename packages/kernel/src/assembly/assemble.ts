import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import {
  KernelServices,
  adapterShapeProblems,
  errorText,
  grError,
  serviceNeeds,
  type AdapterContext,
  type AdapterDescriptor,
  type AdapterSlot,
  type Clock,
  type GitopsReverserError,
  type ConfigView,
  type Logger,
  type Metrics,
  type Normalizer,
  type ProtectedTypes,
  type ServiceNeed,
  type ServiceToken,
  type SinkPartition,
  type SlotInstances,
  type TargetConfig,
  type TargetPlan,
} from '@gitops-reverser/contract';
import type { ConfigProblem } from '../config/config-problem.js';
import { ConfigValidationError } from '../config/config-problem.js';
import type { AdapterRef, GitopsReverserConfig } from '../config/config-types.js';
import { configProblems } from '../config/load-config.js';
import { suggestion } from '../config/schema-problems.js';
import { ErrorCodes } from '../errors.js';
import { credentialEncoderProblems } from '../credentials/credential-encoder-check.js';
import { createFailureProblem } from '../plugin/create-failure.js';
import { checkDescriptor, loadAdapters, validateTargetOptions, type LoadedAdapter } from '../plugin/load-adapters.js';
import { type DependencyContainer, container as rootContainer } from './tsyringe.js';

/** An adapter given in code: an instance, or a descriptor the kernel creates (with DI) like a loaded one. */
export interface GivenAdapter<S extends AdapterSlot> {
  /** Instance name for logs, metrics and /readyz. Default: the descriptor's name, else the class name. */
  readonly name?: string;
  readonly instance?: SlotInstances[S];
  // biome-ignore lint/suspicious/noExplicitAny: a descriptor of any options type; they are checked against its schema
  readonly descriptor?: AdapterDescriptor<S, any>;
  /** Options for `descriptor` (validated against its schema, defaults applied). */
  readonly options?: Record<string, unknown>;
}

export interface GivenSource extends GivenAdapter<'source'> {
  /** The cluster id this source observes. */
  readonly cluster: string;
}

/** Adapters passed in code; each slot given here replaces that slot of the config. */
export interface GivenAdapters {
  readonly sources?: readonly GivenSource[];
  readonly normalizers?: readonly GivenAdapter<'normalizer'>[];
  readonly bus?: GivenAdapter<'bus'>;
  readonly sink?: GivenAdapter<'sink'>;
}

export interface AssembledAdapter<S extends AdapterSlot> {
  readonly slot: S;
  readonly name: string;
  readonly keyPath: string;
  readonly instance: SlotInstances[S];
  /** Package and version, when loaded by name. */
  readonly packageName?: string;
  readonly version?: string;
  readonly file?: string;
  readonly kernelRange?: string;
  /** Services its descriptor declares it provides and needs; undefined for an instance given in code. */
  readonly provides?: readonly ServiceToken<unknown>[];
  readonly needs?: readonly ServiceNeed[];
}

export interface AssembledSource extends AssembledAdapter<'source'> {
  readonly cluster: string;
}

/** Every adapter created and checked, the targets with the sink's defaults, and the sink's plan. Nothing started. */
export interface Assembly {
  readonly sources: readonly AssembledSource[];
  readonly normalizers: readonly AssembledAdapter<'normalizer'>[];
  readonly bus: AssembledAdapter<'bus'>;
  readonly sink: AssembledAdapter<'sink'>;
  readonly targets: readonly TargetConfig[];
  readonly plan: TargetPlan;
  readonly container: DependencyContainer;
  /** Plans a new set of targets with this sink (config reload); throws ConfigValidationError. */
  planTargets(config: GitopsReverserConfig): { targets: TargetConfig[]; plan: TargetPlan };
}

export interface AssembleOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock?: Clock;
  readonly given?: GivenAdapters;
}

/** One adapter to create: its descriptor (loaded or given) or a ready instance. */
interface Pending {
  readonly slot: AdapterSlot;
  readonly name: string;
  readonly keyPath: string;
  readonly cluster?: string;
  readonly loaded?: LoadedAdapter;
  readonly instance?: unknown;
}

const SLOT_INSTANCE = Symbol.for('gitops-reverser.slot-instance');
const serviceSymbol = (token: ServiceToken<unknown>) => Symbol.for(`gitops-reverser.service.${token.id}`);
const KERNEL_SERVICE_IDS: ReadonlySet<string> = new Set(Object.values(KernelServices).map((token) => token.id));

/**
 * Loads the adapters the config names (slots given in code are taken as given), creates them through
 * a tsyringe container in the order their service needs require, checks each instance's shape, and
 * asks the sink to plan the targets. Every problem is collected into one ConfigValidationError, so
 * `validate` reports exactly what `run` would trip over.
 */
export async function assemble(config: GitopsReverserConfig, options: AssembleOptions): Promise<Assembly> {
  const given = options.given ?? {};
  const loaded = await loadAdapters(config, {
    sources: given.sources !== undefined,
    normalizers: given.normalizers !== undefined,
    bus: given.bus !== undefined,
    sink: given.sink !== undefined,
  });
  const problems: ConfigProblem[] = [];
  const fail = () => new ConfigValidationError(config.configFile, configProblems(config, problems));

  const fromGiven = <S extends AdapterSlot>(slot: S, adapter: GivenAdapter<S>, keyPath: string, cluster?: string): Pending | undefined => {
    const name = adapter.name ?? adapter.descriptor?.meta.name ?? className(adapter.instance) ?? slot;
    const base = { slot, name, keyPath, ...(cluster !== undefined ? { cluster } : {}) };
    if (adapter.descriptor) {
      const ref: AdapterRef = { use: adapter.descriptor.meta?.name ?? name, with: adapter.options ?? {}, keyPath, name };
      const checked = checkDescriptor(adapter.descriptor, ref, slot, problems);
      return checked ? { ...base, loaded: checked } : undefined;
    }
    if (adapter.instance === undefined) {
      problems.push({ code: ErrorCodes.PLUGIN_SHAPE, keyPath, message: `the ${slot} given in code has neither an instance nor a descriptor`, fix: 'pass { instance } or { descriptor, options }' });
      return undefined;
    }
    return { ...base, instance: adapter.instance };
  };
  const fromLoaded = (adapter: LoadedAdapter, cluster?: string): Pending => ({
    slot: adapter.slot,
    name: adapter.ref.name ?? adapter.descriptor.meta.name,
    keyPath: adapter.ref.keyPath,
    loaded: adapter,
    ...(cluster !== undefined ? { cluster } : {}),
  });

  const sources = given.sources ? given.sources.map((s, i) => fromGiven('source', s, `sources[${i}]`, s.cluster)) : loaded.sources.map((adapter, i) => fromLoaded(adapter, config.sources[i]?.cluster));
  const normalizers = given.normalizers
    ? given.normalizers.map((n, i) => fromGiven('normalizer', { ...n, name: n.name ?? n.instance?.name ?? n.descriptor?.meta.name }, `normalizers[${i}]`))
    : loaded.normalizers.map((adapter) => fromLoaded(adapter));
  const bus = given.bus ? fromGiven('bus', given.bus, 'bus') : fromLoaded(loaded.bus as LoadedAdapter);
  const sink = given.sink ? fromGiven('sink', given.sink, 'sink') : fromLoaded(loaded.sink as LoadedAdapter);
  if (problems.length > 0 || sources.includes(undefined) || normalizers.includes(undefined) || !bus || !sink) throw fail();

  const pendingSources = distinctNames(sources as Pending[]);
  if (pendingSources.length === 0) {
    problems.push({ code: ErrorCodes.CONFIG_INVALID, keyPath: 'sources', message: 'no source is configured', fix: 'add sources: [ { use: "@gitops-reverser/source-informer", cluster: <id> } ]' });
  }
  const clusters = [...new Set(pendingSources.map((s) => s.cluster as string))];
  for (const [i, rule] of config.rules.entries()) {
    for (const [k, cluster] of rule.clusters.entries()) {
      if (!clusters.includes(cluster)) {
        problems.push({
          code: ErrorCodes.CONFIG_DANGLING_REF,
          keyPath: `rules[${i}].clusters[${k}]`,
          message: `no source observes cluster "${cluster}"`,
          fix: suggestion(cluster, clusters, 'sources[].cluster'),
        });
      }
    }
  }
  // Normalizers before sources (unless a need says otherwise): a source asking which types are
  // protected at create() gets its answer from encoders that exist.
  const all = [...(normalizers as Pending[]), sink, bus, ...pendingSources];

  const container = rootContainer.createChildContainer();
  const clock = options.clock ?? { now: () => Date.now() };
  const configView: ConfigView = {
    configFile: config.configFile,
    baseDir: config.baseDir,
    clusters,
    resolvePath: (path) => (path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : isAbsolute(path) ? path : resolve(config.baseDir, path)),
  };
  container.registerInstance(serviceSymbol(KernelServices.Logger), options.logger);
  container.registerInstance(serviceSymbol(KernelServices.Metrics), options.metrics);
  container.registerInstance(serviceSymbol(KernelServices.Clock), clock);
  container.registerInstance(serviceSymbol(KernelServices.Config), configView);
  const created = new Map<Pending, unknown>();
  // The one place protection is declared is a normalizer's `protects`; the service only asks them.
  const protectedTypes: ProtectedTypes = {
    protects: (type) =>
      [...created.entries()].some(([pending, instance]) => {
        if (pending.slot !== 'normalizer') return false;
        const normalizer = instance as Normalizer;
        try {
          return normalizer.phase === 'encode' && normalizer.protects?.({ group: type.group, resource: type.resource }) === true;
        } catch {
          return false;
        }
      }),
  };
  container.registerInstance(serviceSymbol(KernelServices.ProtectedTypes), protectedTypes);

  const order = creationOrder(all, problems);
  if (problems.length > 0 || !order) throw fail();

  for (const pending of order) {
    const instance = pending.loaded ? createThroughContainer(pending, pending.loaded, container, problems) : pending.instance;
    if (instance === undefined) continue;
    const shape = adapterShapeProblems(pending.slot, instance);
    if (shape.length > 0) {
      problems.push({
        code: ErrorCodes.PLUGIN_SHAPE,
        keyPath: `${pending.keyPath}${pending.loaded?.module ? '.use' : ''}`,
        message: `${pending.slot} adapter "${pending.name}" is incomplete: ${shape.join('; ')}`,
        fix: `a ${pending.slot} implements the ${capitalized(pending.slot)} interface of @gitops-reverser/contract (docs/writing-adapters.md); run the conformance suite in its tests`,
      });
      continue;
    }
    created.set(pending, instance);
  }
  if (problems.length > 0) throw fail();
  problems.push(
    ...credentialEncoderProblems(
      config,
      [...created.entries()].filter(([pending]) => pending.slot === 'normalizer').map(([, instance]) => ({ instance: instance as Normalizer })),
    ),
  );
  if (problems.length > 0) throw fail();

  const assembled = <S extends AdapterSlot>(pending: Pending): AssembledAdapter<S> => ({
    slot: pending.slot as S,
    name: pending.name,
    keyPath: pending.keyPath,
    instance: created.get(pending) as SlotInstances[S],
    ...(pending.loaded?.module?.packageName ? { packageName: pending.loaded.module.packageName } : {}),
    ...(pending.loaded ? { version: pending.loaded.module?.packageVersion ?? pending.loaded.descriptor.meta.version, kernelRange: pending.loaded.descriptor.meta.kernel } : {}),
    ...(pending.loaded?.module ? { file: pending.loaded.module.file } : {}),
    ...(pending.loaded ? { provides: pending.loaded.descriptor.provides ?? [], needs: serviceNeeds(pending.loaded.descriptor) } : {}),
  });
  const sinkAdapter = assembled<'sink'>(sink);
  const targetSchema = sink.loaded?.descriptor.targetOptionsSchema;
  const planTargets = (next: GitopsReverserConfig) => {
    const planProblems: ConfigProblem[] = [];
    const result = planWithSink(next, sinkAdapter, targetSchema, clusters, planProblems);
    if (planProblems.length > 0) throw new ConfigValidationError(next.configFile, configProblems(next, planProblems));
    return result;
  };
  const { targets, plan } = planTargets(config);
  return {
    sources: pendingSources.map((pending) => ({ ...assembled<'source'>(pending), cluster: pending.cluster as string })),
    normalizers: (normalizers as Pending[]).map((pending) => assembled<'normalizer'>(pending)),
    bus: assembled<'bus'>(bus),
    sink: sinkAdapter,
    targets,
    plan,
    container,
    planTargets,
  };
}

/** A service a created adapter provided (its descriptor's `provides`), or undefined when none did: what CLI commands use of adapters besides their slot. */
export function providedService<T>(assembly: Pick<Assembly, 'container'>, token: ServiceToken<T>): T | undefined {
  const symbol = serviceSymbol(token);
  return assembly.container.isRegistered(symbol, true) ? assembly.container.resolve<T>(symbol) : undefined;
}

/** The clusters whose objects a target's rules route to it (a rule without `clusters` takes every configured one). */
function clustersFeeding(target: string, rules: GitopsReverserConfig['rules'], clusters: readonly string[]): string[] {
  const feeding = new Set<string>();
  for (const rule of rules) if (rule.target === target) for (const cluster of rule.clusters.length > 0 ? rule.clusters : clusters) feeding.add(cluster);
  return [...feeding].sort();
}

/** Target options checked against the sink's schema, then planned by the sink; problems pushed with key paths. */
function planWithSink(
  config: GitopsReverserConfig,
  sink: AssembledAdapter<'sink'>,
  schema: Readonly<Record<string, unknown>> | undefined,
  clusters: readonly string[],
  problems: ConfigProblem[],
): { targets: TargetConfig[]; plan: TargetPlan } {
  const targets = validateTargetOptions(config.targets, schema, sink.name, problems, config.expandedValues).map((target) => ({
    ...target,
    clusters: clustersFeeding(target.name, config.rules, clusters),
  }));
  const empty: TargetPlan = { partitions: new Map(), problems: [] };
  if (problems.length > 0) return { targets, plan: empty };
  let plan: TargetPlan;
  try {
    plan = sink.instance.planTargets(targets);
  } catch (error) {
    problems.push({
      code: ErrorCodes.CONFIG_TARGET,
      keyPath: 'targets',
      message: `sink "${sink.name}" could not plan the targets: ${errorText(error)}`,
      fix: 'planTargets() must report problems, not throw: report this to the sink author',
    });
    return { targets, plan: empty };
  }
  if (!plan || !(plan.partitions instanceof Map) || !Array.isArray(plan.problems)) {
    problems.push({
      code: ErrorCodes.PLUGIN_SHAPE,
      keyPath: 'sink',
      message: `sink "${sink.name}".planTargets() did not return { partitions: Map, problems: [] }`,
      fix: 'report this to the sink author',
    });
    return { targets, plan: empty };
  }
  for (const problem of plan.problems) {
    const target = targets.find((t) => t.name === problem.target);
    problems.push({
      code: problem.code,
      keyPath: target ? `${target.keyPath}${problem.path ? `.${problem.path}` : ''}` : 'targets',
      message: problem.message,
      ...(problem.fix ? { fix: problem.fix } : {}),
    });
  }
  for (const target of targets) {
    const partition: SinkPartition | undefined = plan.partitions.get(target.name);
    if (plan.problems.some((p) => p.target === target.name)) continue;
    if (!partition || typeof partition.key !== 'string' || partition.key === '') {
      problems.push({
        code: ErrorCodes.CONFIG_TARGET,
        keyPath: target.keyPath,
        message: `sink "${sink.name}" gave target "${target.name}" no partition`,
        fix: 'planTargets() must return a partition with a non-empty key for every target it accepts',
      });
    }
  }
  return { targets, plan };
}

function createThroughContainer(pending: Pending, adapter: LoadedAdapter, container: DependencyContainer, problems: ConfigProblem[]): unknown {
  const descriptor = adapter.descriptor;
  const needed = new Map(serviceNeeds(descriptor).map((need) => [need.token.id, need]));
  const provides = new Set((descriptor.provides ?? []).map((token) => token.id));
  const provided = new Set<string>();
  const where = `${pending.slot} adapter "${pending.name}"`;
  const child = container.createChildContainer();
  const lookup = <T>(token: ServiceToken<T>, optional: boolean): T | undefined => {
    if (!KERNEL_SERVICE_IDS.has(token.id) && !needed.has(token.id)) {
      throw shapeError(`${where} asked for service "${token.id}" without declaring it in needs`, `add ${token.id} to the descriptor's needs so validate can check it is provided`);
    }
    const symbol = serviceSymbol(token);
    if (!child.isRegistered(symbol, true)) {
      if (optional) return undefined;
      throw shapeError(`${where} asked for service "${token.id}", which nothing provides`, 'declare it in needs (optional: true if it may be missing) and use optionalService()');
    }
    return child.resolve<T>(symbol);
  };
  child.register(SLOT_INSTANCE, {
    useFactory: (scope) => {
      const context: AdapterContext = {
        name: pending.name,
        keyPath: pending.keyPath,
        options: adapter.options,
        // The kernel's services, resolved from the container like any other service.
        logger: scope.resolve<Logger>(serviceSymbol(KernelServices.Logger)).child({ adapter: pending.name }),
        metrics: scope.resolve<Metrics>(serviceSymbol(KernelServices.Metrics)),
        clock: scope.resolve<Clock>(serviceSymbol(KernelServices.Clock)),
        config: scope.resolve<ConfigView>(serviceSymbol(KernelServices.Config)),
        service: (token) => lookup(token, false) as never,
        optionalService: (token) => lookup(token, true),
        provide: (token, value) => {
          if (!provides.has(token.id)) throw shapeError(`${where} provided service "${token.id}" without declaring it in provides`, `add ${token.id} to the descriptor's provides`);
          container.registerInstance(serviceSymbol(token), value);
          provided.add(token.id);
        },
      };
      return descriptor.create(context);
    },
  });
  try {
    const instance = child.resolve(SLOT_INSTANCE);
    const missing = [...provides].filter((id) => !provided.has(id));
    if (missing.length > 0) {
      problems.push({
        code: ErrorCodes.PLUGIN_SHAPE,
        keyPath: `${pending.keyPath}.use`,
        message: `${where} declares provides [${missing.join(', ')}] but did not provide ${missing.length === 1 ? 'it' : 'them'} in create()`,
        fix: 'call context.provide(token, value) in create() for each declared service',
      });
      return undefined;
    }
    return instance;
  } catch (error) {
    if (kernelErrors.has(error as object)) {
      const shape = error as GitopsReverserError;
      problems.push({ code: shape.code, keyPath: `${pending.keyPath}.use`, message: shape.message, ...(shape.fix ? { fix: shape.fix } : {}) });
    } else {
      problems.push(createFailureProblem(error, { where, keyPath: pending.keyPath, name: descriptor.meta.name, ...(adapter.module?.packageName ? { packageName: adapter.module.packageName } : {}) }));
    }
    return undefined;
  }
}

/** Providers before the adapters that need them; config order otherwise. Undefined (problems pushed) on a missing provider or a cycle. */
function creationOrder(all: readonly Pending[], problems: ConfigProblem[]): Pending[] | undefined {
  const providers = new Map<string, Pending>();
  for (const pending of all) for (const token of pending.loaded?.descriptor.provides ?? []) providers.set(token.id, pending);
  const before = problems.length;
  const edges = new Map<Pending, Pending[]>();
  for (const pending of all) {
    const deps: Pending[] = [];
    for (const need of pending.loaded ? serviceNeeds(pending.loaded.descriptor) : []) {
      if (KERNEL_SERVICE_IDS.has(need.token.id)) continue;
      const provider = providers.get(need.token.id);
      if (provider) deps.push(provider);
      else if (!need.optional) {
        const from = need.token.providedBy;
        problems.push({
          code: ErrorCodes.PLUGIN_SERVICE,
          keyPath: `${pending.keyPath}.use`,
          message: `"${pending.name}" needs service "${need.token.id}"${need.token.description ? ` (${need.token.description})` : ''}, which no configured adapter provides${from ? `; ${from} provides it` : ''}`,
          fix: from ? `add ${from} to the config (in its slot), or remove "${pending.name}"` : `configure an adapter that provides "${need.token.id}"`,
        });
      }
    }
    edges.set(pending, deps);
  }
  if (problems.length > before) return undefined;
  const order: Pending[] = [];
  const state = new Map<Pending, 'visiting' | 'done'>();
  const visit = (pending: Pending, path: Pending[]): boolean => {
    if (state.get(pending) === 'done') return true;
    if (state.get(pending) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(pending)), pending].map((p) => p.name).join(' -> ');
      problems.push({
        code: ErrorCodes.PLUGIN_SERVICE,
        keyPath: `${pending.keyPath}.use`,
        message: `service needs form a cycle: ${cycle}`,
        fix: 'one of these adapters must not need the other (make the need optional, or provide the service differently)',
      });
      return false;
    }
    state.set(pending, 'visiting');
    for (const dep of edges.get(pending) ?? []) if (!visit(dep, [...path, pending])) return false;
    state.set(pending, 'done');
    order.push(pending);
    return true;
  };
  for (const pending of all) if (!visit(pending, [])) return undefined;
  return order;
}

/** Two instances with one name (two clusters of one package) get "#2", "#3"... so logs and metrics tell them apart. */
function distinctNames(adapters: Pending[]): Pending[] {
  const seen = new Map<string, number>();
  return adapters.map((adapter) => {
    const count = (seen.get(adapter.name) ?? 0) + 1;
    seen.set(adapter.name, count);
    return count === 1 ? adapter : { ...adapter, name: `${adapter.name}#${count}` };
  });
}

function className(instance: unknown): string | undefined {
  const name = (instance as { constructor?: { name?: string } } | undefined)?.constructor?.name;
  return name && name !== 'Object' ? name : undefined;
}

function capitalized(slot: string): string {
  return `${slot[0]?.toUpperCase()}${slot.slice(1)}`;
}

/** Errors the kernel's adapter context threw (a misuse of services): reported as they are, never as the adapter's own. */
const kernelErrors = new WeakSet<object>();

function shapeError(message: string, fix: string) {
  const error = grError(ErrorCodes.PLUGIN_SHAPE, message, { fix });
  kernelErrors.add(error);
  return error;
}
