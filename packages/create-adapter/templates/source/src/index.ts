// A source: the objects listed in its options (`with: { objects }`), seeded once at start and again
// every `intervalSeconds` (0: once). Replace `list()` with a read of your system (an API, a store, a
// folder). The contract: docs/writing-adapters.md, "Sources" (await every emit, complete every
// snapshot you begin, emit nothing after stop).
import {
  defineAdapter,
  errorText,
  grError,
  identityOf,
  packageVersionOf,
  ruleSelects,
  type AdapterHealth,
  type KubeObject,
  type Logger,
  type Source,
  type SourceContext,
} from '@gitops-reverser/contract';

/** One object and the plural resource name the Kubernetes API serves it under. */
export interface ListedObject {
  readonly resource: string;
  readonly object: KubeObject;
}

/** The options (`sources[].with`), as the schema below leaves them. */
export interface StaticSourceOptions {
  readonly objects: readonly ListedObject[];
  readonly intervalSeconds: number;
}

/** This package's error codes: `<PACKAGE>_ERR_<WHAT>` (GR_ERR_* belongs to gitops-reverser). */
export const ErrorCodes = {
  OBJECT: '__ERROR_PREFIX___ERR_OBJECT',
} as const;

export class StaticSource implements Source {
  private state: AdapterHealth = { state: 'starting' };
  private context: SourceContext | undefined;
  private timer: NodeJS.Timeout | undefined;
  private seeding: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: StaticSourceOptions,
    private readonly logger?: Logger,
  ) {}

  async start(context: SourceContext): Promise<void> {
    this.context = context;
    this.state = { state: 'ready' };
    await this.seed();
    if (this.options.intervalSeconds > 0) {
      this.timer = setInterval(() => {
        this.seeding = this.seeding.then(() => this.seed());
      }, this.options.intervalSeconds * 1000);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    // Let a seed in progress finish (it completes its snapshot); nothing is emitted after this.
    await this.seeding;
    this.context = undefined;
    this.state = { state: 'stopped' };
  }

  health(): AdapterHealth {
    return this.state;
  }

  /** What the source sees now. Here: the configured objects; in yours, a read of your system. */
  private async list(): Promise<readonly ListedObject[]> {
    return this.options.objects;
  }

  /** One snapshot of every selected object: the writer then knows the whole state (and may prune). */
  private async seed(): Promise<void> {
    const context = this.context;
    if (!context) return;
    const snapshot = context.beginSnapshot();
    try {
      for (const { resource, object } of await this.list()) {
        const identity = identityOf(object, { clusterId: context.clusterId, resource, namespaced: Boolean(object.metadata?.namespace) });
        if (!context.selection.rules.some((rule) => ruleSelects(rule, identity))) continue;
        await snapshot.emit({
          identity,
          operation: 'upsert',
          created: false,
          object,
          resourceVersion: String(object.metadata?.resourceVersion ?? '1'),
          observedAt: new Date().toISOString(),
          // A lowercase word naming your kind of source.
          observedBy: 'static',
        });
      }
      await snapshot.complete();
      this.state = { state: 'ready' };
    } catch (error) {
      // Name what could not be listed: a partial snapshot makes the writers prune nothing.
      await snapshot.complete({ partialTargets: context.selection.targets });
      this.state = { state: 'degraded', reason: errorText(error) };
      this.logger?.warn({ err: errorText(error) }, 'listing failed; the snapshot is partial');
    }
  }
}

export default defineAdapter<'source', StaticSourceOptions>({
  meta: { name: '__PACKAGE_NAME__', version: packageVersionOf(import.meta.url), slot: 'source', kernel: '__KERNEL_RANGE__' },
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      objects: {
        type: 'array',
        default: [],
        items: {
          type: 'object',
          required: ['resource', 'object'],
          properties: { resource: { type: 'string', minLength: 1 }, object: { type: 'object' } },
        },
        'x-fix': 'a list of { resource: configmaps, object: { apiVersion: v1, kind: ConfigMap, metadata: { name, namespace } } }',
      },
      intervalSeconds: { type: 'integer', minimum: 0, default: 0 },
    },
  },
  // create() runs for `validate` too: check options here, connect in start().
  create: ({ options, logger }) => {
    for (const [i, { object }] of options.objects.entries()) {
      if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string' || typeof object.metadata?.name !== 'string') {
        throw grError(ErrorCodes.OBJECT, `objects[${i}] needs apiVersion, kind and metadata.name`, {
          fix: 'write each object as the Kubernetes API returns it',
          details: { optionPath: `objects[${i}].object` },
        });
      }
    }
    return new StaticSource(options, logger);
  },
});
