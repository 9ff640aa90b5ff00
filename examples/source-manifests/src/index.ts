import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  defineAdapter,
  errorText,
  identityKey,
  identityOf,
  packageVersionOf,
  type AdapterHealth,
  type ChangeEvent,
  type KubeObject,
  type Source,
  type SourceContext,
} from '@gitops-reverser/kernel';

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

/**
 * Treats a folder of manifests as a tiny cluster: on start every object is one snapshot, then every
 * poll emits upserts and deletes for what changed in the files.
 */
export class ManifestSource implements Source {
  private known = new Map<string, { event: ChangeEvent; text: string }>();
  private timer: NodeJS.Timeout | undefined;
  private state: AdapterHealth = { state: 'starting' };
  private context: SourceContext | undefined;
  private polling: Promise<void> = Promise.resolve();

  constructor(private readonly options: ManifestSourceOptions) {}

  async start(context: SourceContext): Promise<void> {
    this.context = context;
    const current = await this.read(context);
    const snapshot = context.beginSnapshot();
    for (const { event } of current.values()) await snapshot.emit(event);
    await snapshot.complete();
    this.known = current;
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

  private async poll(): Promise<void> {
    const context = this.context as SourceContext;
    try {
      const current = await this.read(context);
      for (const [key, entry] of current) {
        const before = this.known.get(key);
        if (!before || before.text !== entry.text) await context.emit({ ...entry.event, created: !before });
      }
      for (const [key, entry] of this.known) {
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

  private async read(context: SourceContext): Promise<Map<string, { event: ChangeEvent; text: string }>> {
    const out = new Map<string, { event: ChangeEvent; text: string }>();
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
            origin: 'watch',
          };
          out.set(identityKey(identity), { event, text: JSON.stringify(object) });
        } catch (error) {
          context.logger.warn({ file: path, err: errorText(error) }, `skipping a document of ${path}: ${errorText(error)}`);
        }
      }
    }
    return out;
  }
}

export default defineAdapter<'source', ManifestSourceOptions>({
  meta: { name: 'gitops-reverser-source-manifests', version: packageVersionOf(import.meta.url), slot: 'source', kernel: '^0.1.0' },
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
  create: ({ options, config }) => new ManifestSource({ ...options, directory: resolve(config.baseDir, options.directory) }),
});
