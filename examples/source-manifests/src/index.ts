import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  defineAdapter,
  errorText,
  identityKey,
  identityOf,
  packageVersionOf,
  serviceToken,
  type AdapterHealth,
  type ChangeEvent,
  type KubeObject,
  type Source,
  type SourceContext,
} from '@gitops-reverser/contract';

export interface ManifestSourceOptions {
  /** Folder of *.yaml / *.yml files (multi-document allowed), relative to the config file. */
  readonly directory: string;
  /** Re-read the folder this often and emit what changed; 0 = read once. */
  readonly pollMs: number;
  /** Plural resource name per kind where the simple English plural is wrong. */
  readonly resources: Readonly<Record<string, string>>;
}

/** "Ingress" -> "ingresses", "NetworkPolicy" -> "networkpolicies", "ConfigMap" -> "configmaps". */
export function pluralOf(kind: string): string {
  const lower = kind.toLowerCase();
  if (/(s|x|z|ch|sh)$/.test(lower)) return `${lower}es`;
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

/** A service this source offers other adapters (through the kernel's DI): which file an object came from. */
export interface ManifestFiles {
  /** The manifest file (absolute path) an object was read from, by `identityKey`; undefined when unknown. */
  fileOf(key: string): string | undefined;
}

/** Its token. Consumers may declare an equal token (same id) without importing this package. */
export const ManifestFilesService = serviceToken<ManifestFiles>('manifests.files', {
  providedBy: 'gitops-reverser-source-manifests',
  description: 'the manifest file each object was read from',
});

/**
 * Treats a folder of manifests as a tiny cluster: on start every object is one snapshot, then every
 * poll emits upserts and deletes for what changed in the files.
 */
export class ManifestSource implements Source, ManifestFiles {
  private known = new Map<string, { event: ChangeEvent; text: string; file: string }>();
  private timer: NodeJS.Timeout | undefined;
  private state: AdapterHealth = { state: 'starting' };
  private context: SourceContext | undefined;
  private polling: Promise<void> = Promise.resolve();

  constructor(private readonly options: ManifestSourceOptions) {}

  async start(context: SourceContext): Promise<void> {
    this.context = context;
    const current = await this.read(context);
    // Known before emitting, so fileOf() answers for every event a sink receives.
    this.known = current;
    const snapshot = context.beginSnapshot();
    for (const { event } of current.values()) await snapshot.emit(event);
    await snapshot.complete();
    this.state = { state: 'ready', details: { objects: current.size } };
    if (this.options.pollMs > 0) {
      this.timer = setInterval(() => {
        this.polling = this.polling.then(() => this.poll());
      }, this.options.pollMs);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
    this.state = { state: 'stopped' };
  }

  health(): AdapterHealth {
    return this.state;
  }

  fileOf(key: string): string | undefined {
    return this.known.get(key)?.file;
  }

  private async poll(): Promise<void> {
    const context = this.context as SourceContext;
    try {
      const current = await this.read(context);
      const previous = this.known;
      this.known = new Map([...previous, ...current]);
      for (const [key, entry] of current) {
        const before = previous.get(key);
        if (!before || before.text !== entry.text) await context.emit({ ...entry.event, created: !before });
      }
      for (const [key, entry] of previous) {
        if (!current.has(key)) {
          const { object: _gone, ...rest } = entry.event;
          await context.emit({ ...rest, operation: 'delete', created: false, observedAt: new Date().toISOString() });
        }
      }
      this.known = current;
      this.state = { state: 'ready', details: { objects: current.size } };
    } catch (error) {
      this.state = { state: 'degraded', reason: errorText(error) };
      context.logger.warn({ err: errorText(error) }, `cannot read manifests: ${errorText(error)}`);
    }
  }

  private async read(context: SourceContext): Promise<Map<string, { event: ChangeEvent; text: string; file: string }>> {
    const out = new Map<string, { event: ChangeEvent; text: string; file: string }>();
    const files = (await readdir(this.options.directory)).filter((f) => /\.ya?ml$/.test(f)).sort();
    for (const file of files) {
      const path = join(this.options.directory, file);
      for (const document of parseAllDocuments(await readFile(path, 'utf8'))) {
        const object = document.toJS() as KubeObject | null;
        if (!object) continue;
        try {
          const kind = object.kind ?? '';
          const identity = identityOf(object, {
            clusterId: context.clusterId,
            resource: this.options.resources[kind] ?? pluralOf(kind),
            namespaced: Boolean(object.metadata?.namespace),
          });
          const event: ChangeEvent = {
            identity,
            operation: 'upsert',
            created: false,
            object,
            resourceVersion: object.metadata?.resourceVersion ?? '',
            observedAt: new Date().toISOString(),
            phase: 'live',
            observedBy: 'manifests',
          };
          out.set(identityKey(identity), { event, text: JSON.stringify(object), file: path });
        } catch (error) {
          context.logger.warn({ file: path, err: errorText(error) }, `skipping a document of ${path}: ${errorText(error)}`);
        }
      }
    }
    return out;
  }
}

export default defineAdapter<'source', ManifestSourceOptions>({
  meta: { name: 'gitops-reverser-source-manifests', version: packageVersionOf(import.meta.url), slot: 'source', kernel: '^0.3.0' },
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['directory'],
    properties: {
      directory: { type: 'string', minLength: 1 },
      pollMs: { type: 'integer', minimum: 0, default: 1000 },
      resources: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
    },
  },
  provides: [ManifestFilesService],
  create: ({ options, config, provide }) => {
    const source = new ManifestSource({ ...options, directory: config.resolvePath(options.directory) });
    provide(ManifestFilesService, source);
    return source;
  },
});
