import { type AdapterDescriptor, grError, type Source, type StoredHistory, StoredHistoryService } from '@gitops-reverser/contract';
import type { GitopsReverserConfig } from '../config/config-types.js';
import { DEFAULT_BUS } from '../config/load-config.js';
import { ErrorCodes } from '../errors.js';
import { loadAdapters } from '../plugin/load-adapters.js';
import { createLogger } from '../runtime/logger.js';
import { Runtime } from '../runtime/runtime.js';
import { type ComparingSink, comparingDescriptor } from './comparing-sink.js';
import { fieldChangeLines } from './field-diff.js';
import type { CliIo } from './run-cli.js';
import { type Difference, seedDifferences } from './seed-drift.js';
import { chooseTargets } from './stored-targets.js';

export interface DiffOptions {
  readonly target?: string | undefined;
  readonly output: 'text' | 'json';
  readonly fetch: boolean;
  readonly timeoutSeconds: number;
}

interface TargetReport {
  readonly target: string;
  readonly location: string;
  readonly removesMissing: boolean;
  /** Objects the seed holds for the target. */
  readonly objects: number;
  readonly differences: readonly Difference[];
}

/**
 * `gitops-reverser diff`: runs the configured sources' seed through the kernel's pipeline (the
 * sanitizers, the encoders, the sink's layout) exactly as a seed would, with the sink's writes taken
 * away and an in-process bus (a shared bus such as NATS would hand the changes to the running writers),
 * then compares what the seed would write with what each target holds. Exit 0 in step, 1 drifted,
 * 2 when it cannot tell (an error, or a seed the pipeline could not complete).
 */
export async function diffCommand(config: GitopsReverserConfig, options: DiffOptions, io: CliIo): Promise<number> {
  const loaded = await loadAdapters(config, { normalizers: true, bus: true });
  const sinkAdapter = loaded.sink as NonNullable<typeof loaded.sink>;
  let comparing: ComparingSink | undefined;
  let history: StoredHistory | undefined;
  const sink = comparingDescriptor(sinkAdapter.descriptor, (created, provided) => {
    comparing = created;
    history = provided.get(StoredHistoryService.id) as StoredHistory | undefined;
  });
  const logger = createLogger(config.log.level === 'debug' || config.log.level === 'trace' ? config.log.level : 'warn');
  const runtime = await Runtime.create(
    { ...config, bus: { use: DEFAULT_BUS, with: {}, keyPath: 'bus' }, server: { ...config.server, enabled: false }, attribution: { ...config.attribution, waitMs: 0 } },
    {
      logger,
      serve: false,
      adapters: {
        sources: loaded.sources.map((source, i) => ({
          cluster: config.sources[i]?.cluster as string,
          ...(source.ref.name ? { name: source.ref.name } : {}),
          descriptor: seedingOnly(source.descriptor),
          options: source.options,
        })),
        sink: { descriptor: sink, options: sinkAdapter.options, ...(config.sink.name ? { name: config.sink.name } : {}) },
      },
    },
  );
  const comparer = comparing as unknown as ComparingSink;
  if (!history) {
    throw grError(ErrorCodes.HISTORY_UNSUPPORTED, `sink ${sinkAdapter.descriptor.meta.name} keeps no history that gitops-reverser can read (it provides no "${StoredHistoryService.id}" service)`, {
      fix: 'diff needs a sink that provides it, such as @gitops-reverser/sink-git',
    });
  }
  const stored = history;
  const targets = chooseTargets(comparer.plannedTargets(), options.target, config);
  if (options.fetch) for (const target of targets) await stored.refresh(target);

  let problems: readonly string[];
  try {
    await runtime.start();
    problems = (await runtime.snapshot({ timeoutMs: options.timeoutSeconds * 1000 })).problems;
  } finally {
    await runtime.stop('diff finished');
  }
  if (problems.length > 0) {
    throw grError(ErrorCodes.DIFF_INCOMPLETE, `the seed did not complete, so diff cannot tell what it would change:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`, {
      fix: 'fix what the lines above name (the same problems make `gitops-reverser snapshot` exit 1), then run diff again',
    });
  }

  const reports: TargetReport[] = [];
  for (const target of targets) {
    const name = target.target.name;
    const seed = comparer.seedOf(name);
    reports.push({
      target: name,
      location: stored.describe(target),
      removesMissing: stored.snapshotRemovesMissing(target),
      objects: seed.length,
      differences: seedDifferences({
        seed,
        stored: await stored.objects(target, { kind: 'all' }),
        pathOf: (object) => stored.pathOf(target, object.identity, object.object),
        storedFormOf: (object) => stored.storedFormOf(target, object.object),
        removesMissing: stored.snapshotRemovesMissing(target),
        partial: comparer.endsOf(name).some((end) => end.partial === true),
      }),
    });
  }
  const drifted = reports.reduce((sum, report) => sum + report.differences.filter((d) => d.drift).length, 0);
  if (options.output === 'json') io.stdout(`${JSON.stringify({ inStep: drifted === 0, targets: reports }, null, 2)}\n`);
  else io.stdout(textReport(reports, drifted));
  return drifted === 0 ? 0 : 1;
}

/** Sources that only name who made a write (an audit or admission webhook) seed nothing: diff leaves them out rather than open their listeners. */
function seedingOnly(descriptor: AdapterDescriptor<'source'>): AdapterDescriptor<'source'> {
  return {
    ...descriptor,
    create: (context) => {
      const source: Source = descriptor.create(context);
      if (source.attributes !== true) return source;
      return { start: async () => undefined, stop: async () => undefined, health: () => ({ state: 'ready' }) };
    },
  };
}

function textReport(reports: readonly TargetReport[], drifted: number): string {
  const lines: string[] = [];
  for (const report of reports) {
    lines.push(
      `target ${report.target} (${report.location}, ${report.removesMissing ? 'removes files of deleted objects on a seed' : 'keeps files of objects deleted while nobody watched'}): ${report.objects} object(s) in the cluster, ${report.differences.length} difference(s)`,
    );
    for (const difference of report.differences) {
      const { group, kind, namespace, name } = difference.object;
      const what = `${group ? `${group}/` : ''}${kind} ${namespace ? `${namespace}/` : ''}${name}`;
      const where = difference.state === 'moved' ? `${difference.storedPath} -> ${difference.path}` : difference.path;
      lines.push(`  ${difference.state.padEnd(9)}  ${what}  ${where}${difference.drift ? '' : '  (no drift)'}`);
      for (const line of fieldChangeLines(difference.state === 'different' || difference.state === 'moved' ? (difference.fields ?? []) : [])) lines.push(`      ${line}`);
      if (difference.note) lines.push(`      ${difference.note}`);
    }
  }
  lines.push(drifted === 0 ? 'in step: the next seed would change nothing' : `drifted: the next seed would change ${drifted} object(s)`);
  return `${lines.join('\n')}\n`;
}
