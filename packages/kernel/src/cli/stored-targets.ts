import { type AdapterHealth, grError, type PlannedTarget, type StoredHistory, StoredHistoryService } from '@gitops-reverser/contract';
import { assemble, providedService } from '../assembly/assemble.js';
import type { GitopsReverserConfig } from '../config/config-types.js';
import { ErrorCodes } from '../errors.js';
import { silentLogger } from '../runtime/logger.js';
import { KernelMetrics } from '../runtime/metrics.js';

/** The targets of a config as its sink planned them, and the sink's stored history of them. */
export interface StoredTargets {
  readonly history: StoredHistory;
  /** The targets asked for (`--target`), else all of them, in config order. */
  readonly targets: readonly PlannedTarget[];
  /** The sink's instance name, for messages. */
  readonly sinkName: string;
}

const stopped: AdapterHealth = { state: 'stopped' };

/** Stands in for the config's sources and bus: `history` and `restore` read the sink's store and start nothing. */
const INERT_SOURCE = { start: async () => undefined, stop: async () => undefined, health: () => stopped };
const INERT_BUS = {
  start: async () => undefined,
  publish: async () => undefined,
  consume: () => undefined,
  depth: () => new Map<string, number>(),
  drain: async () => true,
  stop: async () => undefined,
  health: () => stopped,
};

/**
 * Loads only the config's sink (sources, normalizers and bus are not loaded: their files, such as
 * credentials mounted in a pod, need not exist where a person reads the history) and finds its stored
 * history. Nothing is started.
 */
export async function openStoredTargets(config: GitopsReverserConfig, options: { readonly target?: string | undefined } = {}): Promise<StoredTargets> {
  const assembly = await assemble(config, {
    logger: silentLogger(),
    metrics: new KernelMetrics(),
    given: {
      sources: config.sources.map((source, i) => ({ cluster: source.cluster, name: source.name ?? `sources[${i}]`, instance: INERT_SOURCE })),
      normalizers: [],
      bus: { name: 'none', instance: INERT_BUS },
    },
  });
  const history = providedService(assembly, StoredHistoryService);
  if (!history) {
    throw grError(ErrorCodes.HISTORY_UNSUPPORTED, `sink ${assembly.sink.name} keeps no history that gitops-reverser can read (it provides no "${StoredHistoryService.id}" service)`, {
      fix: 'history, diff and restore need a sink that provides it, such as @gitops-reverser/sink-git',
    });
  }
  const planned = assembly.targets.flatMap((target) => {
    const partition = assembly.plan.partitions.get(target.name);
    return partition ? [{ target, partition }] : [];
  });
  return { history, targets: chooseTargets(planned, options.target, config), sinkName: assembly.sink.name };
}

/** `--target <name>`: that target; otherwise every target. */
export function chooseTargets(planned: readonly PlannedTarget[], name: string | undefined, config: Pick<GitopsReverserConfig, 'configFile'>): PlannedTarget[] {
  if (name === undefined) return [...planned];
  const chosen = planned.filter((p) => p.target.name === name);
  if (chosen.length === 0) {
    throw grError(ErrorCodes.CLI_TARGET, `--target ${name}: ${config.configFile} has no target of that name`, {
      fix: `use one of: ${planned.map((p) => p.target.name).join(', ') || '(no targets)'}`,
    });
  }
  return chosen;
}
