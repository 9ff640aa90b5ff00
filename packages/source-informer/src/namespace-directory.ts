import type { ChangeEvent, Labels, Logger } from '@gitops-reverser/contract';
import type { NamespaceLabels, ServedResource } from './discovery.js';
import type { KubeClient } from './kube-client.js';
import { ResourceWatcher, type WatcherState } from './resource-watcher.js';

const NAMESPACES: ServedResource = { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, verbs: ['list', 'watch'] };

/** Deleted namespaces whose labels are still given to late events of their objects (their deletes). */
const REMEMBERED_DELETED = 1000;

export interface NamespaceDirectoryOptions {
  readonly client: KubeClient;
  readonly clusterId: string;
  readonly logger: Logger;
  readonly listPageSize: number;
  readonly watchTimeoutSeconds: number;
  /** A namespace appeared, was relabelled or went away (after the first list; not for it). */
  readonly onChange: (name: string, before: Labels, after: Labels) => void;
}

/**
 * The labels of every namespace, kept current by a list+watch of namespaces: what `namespaceSelector`
 * rules are resolved against, and what events carry as `namespaceLabels`. Present only while a rule
 * selects namespaces by label. A deleted namespace's labels stay known for a while, so the deletes of
 * its objects, which may arrive after the namespace's own, are still routed.
 */
export class NamespaceDirectory {
  private readonly present = new Map<string, Labels>();
  private readonly deleted = new Map<string, Labels>();
  private readonly watcher: ResourceWatcher;
  private primed = false;

  constructor(private readonly options: NamespaceDirectoryOptions) {
    this.watcher = new ResourceWatcher({
      client: options.client,
      spec: { served: NAMESPACES, namespace: undefined, targets: new Set() },
      clusterId: options.clusterId,
      emit: async (event) => this.update(event),
      logger: options.logger,
      listPageSize: options.listPageSize,
      watchTimeoutSeconds: options.watchTimeoutSeconds,
    });
  }

  /** Lists the namespaces and starts watching; false when the list failed (retried in the background, the state says why). */
  async start(): Promise<boolean> {
    const listed = await this.watcher.prime('live', async (event) => this.update(event));
    this.primed = listed;
    this.watcher.start();
    return listed;
  }

  async stop(): Promise<void> {
    await this.watcher.stop();
  }

  /** `watching` once listed; `forbidden` / `failing` when namespaces cannot be read. */
  get state(): WatcherState {
    return this.primed && this.watcher.state === 'idle' ? 'watching' : this.watcher.state;
  }

  get problem(): string | undefined {
    return this.watcher.problem;
  }

  /** True once the namespaces were listed: selectors can be resolved. */
  get ready(): boolean {
    return this.primed || this.watcher.state === 'watching';
  }

  /** The labels of a namespace that exists (or existed lately); undefined when unknown. */
  labelsOf(name: string): Labels {
    return this.present.get(name) ?? this.deleted.get(name);
  }

  /** The namespaces that exist, with their labels. */
  namespaces(): NamespaceLabels {
    return this.present;
  }

  private update(event: ChangeEvent): void {
    const name = event.identity.name;
    const before = this.present.get(name);
    let after: Labels;
    if (event.operation === 'delete') {
      this.present.delete(name);
      if (before) this.deleted.set(name, before);
      if (this.deleted.size > REMEMBERED_DELETED) this.deleted.delete(this.deleted.keys().next().value as string);
    } else {
      const labels = event.object?.metadata?.labels;
      // Known without labels is {}: a selector can still judge it (NotIn and DoesNotExist match).
      after = { ...(labels !== null && typeof labels === 'object' ? (labels as Record<string, string>) : {}) };
      this.present.set(name, after);
      this.deleted.delete(name);
    }
    // During a first list everything is new and nothing was resolved against it yet: no news.
    if (this.ready && !sameLabels(before, after)) this.options.onChange(name, before, after);
  }
}

function sameLabels(a: Labels, b: Labels): boolean {
  if (a === undefined || b === undefined) return a === b;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
}
