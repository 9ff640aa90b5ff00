import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  defineAdapter,
  errorText,
  identityKey,
  packageVersionOf,
  renderYaml,
  type AdapterHealth,
  type BatchPolicy,
  type Sink,
  type SinkBatch,
  type SinkOutcome,
} from '@gitops-reverser/kernel';

export interface JsonlSinkOptions {
  /** File to append to; relative paths are relative to the config file's folder. */
  readonly file: string;
  /** Pause per batch, to imitate a slow writer (demos of shutdown and backpressure). */
  readonly delayMs: number;
}

/** One line per message: what a log shipper or an audit pipeline would want. */
export class JsonlSink implements Sink {
  readonly batchPolicy: BatchPolicy = { windowMs: 0, maxBytes: 1 << 20 };
  private state: AdapterHealth = { state: 'starting' };

  constructor(private readonly file: string, private readonly delayMs: number) {}

  async start(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    this.state = { state: 'ready' };
  }

  async apply(batch: SinkBatch): Promise<readonly SinkOutcome[]> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const lines = batch.items.map(({ message }) =>
      message.kind === 'snapshot'
        ? { partition: batch.partitionKey, target: message.target, snapshot: message.snapshotId, objects: message.objectCount }
        : {
            partition: batch.partitionKey,
            target: message.target,
            key: identityKey(message.event.identity),
            operation: message.event.operation,
            origin: message.event.origin,
            actor: message.event.actor?.username,
            yaml: message.event.object ? renderYaml(message.event.object) : undefined,
          },
    );
    try {
      await appendFile(this.file, lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
      this.state = { state: 'ready' };
      return batch.items.map(() => ({ status: 'applied' }));
    } catch (error) {
      // Report, never throw: the kernel retries these later.
      this.state = { state: 'degraded', reason: errorText(error) };
      return batch.items.map(() => ({ status: 'retry', reason: errorText(error) }));
    }
  }

  async flush(): Promise<void> {}

  async stop(): Promise<void> {
    this.state = { state: 'stopped' };
  }

  health(): AdapterHealth {
    return this.state;
  }
}

export default defineAdapter<'sink', JsonlSinkOptions>({
  meta: { name: 'gitops-reverser-sink-jsonl', version: packageVersionOf(import.meta.url), slot: 'sink', kernel: '^0.1.0' },
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['file'],
    properties: {
      file: { type: 'string', minLength: 1 },
      delayMs: { type: 'integer', minimum: 0, default: 0 },
    },
  },
  create: ({ options, config }) => new JsonlSink(resolve(config.baseDir, options.file), options.delayMs),
});
