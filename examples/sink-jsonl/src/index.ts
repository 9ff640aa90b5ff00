import { createHash } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  defineAdapter,
  errorText,
  identityKey,
  packageVersionOf,
  serviceToken,
  type AdapterHealth,
  type BatchPolicy,
  type Sink,
  type SinkBatch,
  type SinkMessage,
  type SinkOutcome,
  type TargetConfig,
  type TargetPlan,
  type SinkPartition,
} from '@gitops-reverser/contract';

export interface JsonlSinkOptions {
  /** File to append to; relative paths are relative to the config file's folder. */
  readonly file: string;
  /** Pause per batch, to imitate a slow writer (demos of shutdown and backpressure). */
  readonly delayMs: number;
}

/**
 * A service another adapter may provide: where an object came from. Declared here by id (the
 * manifests source provides an equal token), so this package does not depend on that one.
 */
export interface ManifestFiles {
  fileOf(key: string): string | undefined;
}
export const ManifestFilesService = serviceToken<ManifestFiles>('manifests.files', { providedBy: 'gitops-reverser-source-manifests' });

/** How many written messages are remembered to recognize a redelivery. */
const REMEMBERED = 100_000;

/** One line per message: what a log shipper or an audit pipeline would want. All targets share one file. */
export class JsonlSink implements Sink {
  readonly batchPolicy: BatchPolicy = { windowMs: 0, maxBytes: 1 << 20 };
  private state: AdapterHealth = { state: 'starting' };
  /** Messages already written: a redelivery of one is `unchanged`, never a second line. */
  private readonly written = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly delayMs: number,
    private readonly files?: ManifestFiles,
  ) {}

  /** Every target writes to the one file: one partition, keyed by the file. */
  planTargets(targets: readonly TargetConfig[]): TargetPlan {
    const partition: SinkPartition = { key: `jsonl:${this.file}` };
    return { partitions: new Map(targets.map((t) => [t.name, partition])), problems: [] };
  }

  async start(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    this.state = { state: 'ready' };
  }

  async apply(batch: SinkBatch): Promise<readonly SinkOutcome[]> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const fresh: string[] = [];
    const lines: string[] = [];
    const outcomes: SinkOutcome[] = batch.items.map(({ message }) => {
      const key = messageKey(message);
      if (this.written.has(key) || fresh.includes(key)) return { status: 'unchanged' };
      fresh.push(key);
      lines.push(`${JSON.stringify(this.line(batch.partition.key, message))}\n`);
      return { status: 'applied' };
    });
    if (lines.length === 0) return outcomes;
    try {
      await appendFile(this.file, lines.join(''));
      this.state = { state: 'ready' };
    } catch (error) {
      // Report, never throw: the kernel retries these later.
      this.state = { state: 'degraded', reason: errorText(error) };
      return batch.items.map(() => ({ status: 'retry', reason: errorText(error) }));
    }
    for (const key of fresh) this.remember(key);
    return outcomes;
  }

  async flush(): Promise<void> {}

  async stop(): Promise<void> {
    this.state = { state: 'stopped' };
  }

  health(): AdapterHealth {
    return this.state;
  }

  private line(partition: string, message: SinkMessage) {
    if (message.kind === 'snapshot-end') return { partition, target: message.target, snapshot: message.snapshotId, objects: message.objectCount };
    const key = identityKey(message.event.identity);
    const sourceFile = this.files?.fileOf(key);
    return {
      partition,
      target: message.target,
      key,
      operation: message.event.operation,
      phase: message.event.phase,
      observedBy: message.event.observedBy,
      actor: message.event.actor?.username,
      yaml: message.yaml,
      ...(sourceFile ? { sourceFile } : {}),
    };
  }

  private remember(key: string): void {
    if (this.written.size >= REMEMBERED) this.written.delete(this.written.values().next().value as string);
    this.written.add(key);
  }
}

/** What makes a message the same message on redelivery. */
function messageKey(message: SinkMessage): string {
  if (message.kind === 'snapshot-end') return `snapshot|${message.target}|${message.snapshotId}`;
  const { event } = message;
  // The content is part of it: objects without a resourceVersion (files) change under the same one.
  const content = createHash('sha256')
    .update(message.yaml ?? '')
    .digest('hex')
    .slice(0, 16);
  return `${message.target}|${identityKey(event.identity)}|${event.operation}|${event.resourceVersion}|${content}|${event.snapshotId ?? ''}`;
}

export default defineAdapter<'sink', JsonlSinkOptions>({
  meta: { name: 'gitops-reverser-sink-jsonl', version: packageVersionOf(import.meta.url), slot: 'sink', kernel: '^0.3.0' },
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['file'],
    properties: {
      file: { type: 'string', minLength: 1 },
      delayMs: { type: 'integer', minimum: 0, default: 0 },
    },
  },
  // Optional: with the manifests source configured, each line says which file the object came from.
  needs: [{ token: ManifestFilesService, optional: true }],
  create: ({ options, config, optionalService }) => new JsonlSink(config.resolvePath(options.file), options.delayMs, optionalService(ManifestFilesService)),
});
