// A sink: every object becomes one YAML file under a folder (`with: { directory }`), one folder per
// target (`targets[].with.path`); a delete removes the file. Replace the file system calls with your
// store's. The contract: docs/writing-adapters.md, "Sinks" (one outcome per item, never throw,
// never batch on your own, idempotent on redelivery).
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  CLUSTER_SCOPE_KEY,
  CORE_GROUP_KEY,
  defineAdapter,
  errorText,
  packageVersionOf,
  type AdapterHealth,
  type BatchPolicy,
  type Logger,
  type Sink,
  type SinkBatch,
  type SinkChange,
  type SinkOutcome,
  type SinkPartition,
  type TargetConfig,
  type TargetPlan,
  type TargetProblem,
} from '@gitops-reverser/contract';

/** The options (`sink.with`), as the schema below leaves them. */
export interface FileTreeSinkOptions {
  /** Folder the files go to; relative to the config file's folder. */
  readonly directory: string;
}

/** This package's error codes: `<PACKAGE>_ERR_<WHAT>` (GR_ERR_* belongs to gitops-reverser). */
export const ErrorCodes = {
  TARGET_PATH: '__ERROR_PREFIX___ERR_TARGET_PATH',
} as const;

interface FilePartition extends SinkPartition {
  /** The target's folder, absolute. */
  readonly folder: string;
}

export class FileTreeSink implements Sink<FilePartition> {
  // windowMs: how long the kernel collects changes before calling apply (0: at once).
  readonly batchPolicy: BatchPolicy = { windowMs: 0, maxBytes: 1 << 20 };
  /** Files written or removed since start: the conformance suite's `countWrites`. */
  writes = 0;
  private state: AdapterHealth = { state: 'starting' };

  constructor(
    private readonly directory: string,
    private readonly logger?: Logger,
  ) {}

  /** Pure: each target gets a partition (its folder); a target we cannot serve is a problem, with a fix. */
  planTargets(targets: readonly TargetConfig[]): TargetPlan<FilePartition> {
    const partitions = new Map<string, FilePartition>();
    const problems: TargetProblem[] = [];
    for (const target of targets) {
      const path = typeof target.with['path'] === 'string' ? target.with['path'] : target.name;
      if (path.split(/[\\/]/).includes('..')) {
        problems.push({ target: target.name, path: 'with.path', code: ErrorCodes.TARGET_PATH, message: `"${path}" leaves the sink's directory`, fix: 'use a relative folder without ".."' });
        continue;
      }
      partitions.set(target.name, { key: `files:${path}`, folder: join(this.directory, path) });
    }
    return { partitions, problems };
  }

  async start(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    this.state = { state: 'ready' };
  }

  async apply(batch: SinkBatch<FilePartition>): Promise<readonly SinkOutcome[]> {
    const outcomes: SinkOutcome[] = [];
    for (const { message } of batch.items) {
      // A complete snapshot end is where a sink may remove what the snapshot did not contain; one
      // with `partial: true` must remove nothing. This one keeps every file.
      if (message.kind === 'snapshot-end') outcomes.push({ status: 'applied' });
      else outcomes.push(await this.write(batch.partition, message));
    }
    return outcomes;
  }

  async flush(): Promise<void> {}

  async stop(): Promise<void> {
    this.state = { state: 'stopped' };
  }

  health(): AdapterHealth {
    return this.state;
  }

  /** One change; never throws: a failure is `retry` (the kernel redelivers it later). */
  private async write(partition: FilePartition | SinkPartition, change: SinkChange): Promise<SinkOutcome> {
    // After a reload removed a target, its messages still on the bus arrive with `{ key }` only.
    if (!('folder' in partition)) return { status: 'rejected', reason: `no target "${change.target}" any more` };
    const { identity, operation } = change.event;
    const file = join(partition.folder, identity.group || CORE_GROUP_KEY, identity.resource, identity.namespace || CLUSTER_SCOPE_KEY, `${identity.name}.yaml`);
    try {
      if (operation === 'delete') {
        if ((await contentOf(file)) === undefined) return { status: 'unchanged' };
        await rm(file);
      } else {
        if (change.yaml === undefined) return { status: 'rejected', reason: 'an upsert without its rendered YAML' };
        // Idempotent: a redelivered change whose content is already there is not written again.
        if ((await contentOf(file)) === change.yaml) return { status: 'unchanged' };
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, change.yaml);
      }
      this.writes++;
      this.state = { state: 'ready' };
      return { status: 'applied' };
    } catch (error) {
      this.state = { state: 'degraded', reason: errorText(error) };
      this.logger?.warn({ file, err: errorText(error) }, 'write failed; the kernel retries it');
      return { status: 'retry', reason: errorText(error) };
    }
  }
}

async function contentOf(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

export default defineAdapter<'sink', FileTreeSinkOptions>({
  meta: { name: '__PACKAGE_NAME__', version: packageVersionOf(import.meta.url), slot: 'sink', kernel: '__KERNEL_RANGE__' },
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['directory'],
    properties: { directory: { type: 'string', minLength: 1, 'x-fix': 'a folder for the files, e.g. directory: ./out' } },
  },
  // Checked for every target's `with:` before planTargets sees it.
  targetOptionsSchema: { type: 'object', additionalProperties: false, properties: { path: { type: 'string', minLength: 1 } } },
  // create() runs for `validate` too: no I/O here, start() does it.
  create: ({ options, config, logger }) => new FileTreeSink(config.resolvePath(options.directory), logger),
});
