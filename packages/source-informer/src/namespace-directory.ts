import type { ChangeEvent, Labels, Logger } from '@gitops-reverser/contract';
import type { NamespaceLabels, ServedResource } from './discovery.js';
import type { KubeClient } from './kube-client.js';
import { ResourceWatcher, type WatcherState } from './resource-watcher.js';

const NAMESPACES: ServedResource = { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, verbs: ['list', 'watch'] };

/**
 * How long a deleted (or terminating) namespace still counts as present: its watches keep running,
 * so the deletes of its objects, which the namespace controller makes after the namespace's own, are
 * seen and leave git. A namespace stuck terminating longer keeps its files (nothing is deleted on a guess).
 */
export const DELETED_NAMESPACE_GRACE_MS = 10 * 60_000;

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
 * selects namespaces by label. A deleted namespace stays for a grace period with its labels, so its
 * watches see the deletes of its objects (which come after the namespace's own) and route them.
 */
export class NamespaceDirectory {
  private readonly present = new Map<string, Labels>();
  /** Namespaces deleted (or terminating), and since when: present until the grace ends. */
  private readonly goneSince = new Map<string, number>();
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

  /** The labels of a namespace that exists (or was deleted lately); undefined when unknown. */
  labelsOf(name: string): Labels {
    return this.present.get(name);
  }

  /** The namespaces that exist (and those deleted within the grace), with their labels. */
  namespaces(): NamespaceLabels {
    const now = Date.now();
    for (const [name, since] of this.goneSince) {
      if (now - since < DELETED_NAMESPACE_GRACE_MS) continue;
      this.goneSince.delete(name);
      this.present.delete(name);
    }
    return this.present;
  }

  private update(event: ChangeEvent): void {
    const name = event.identity.name;
    const before = this.present.get(name);
    if (event.operation === 'delete') {
      // Kept for the grace, with its labels: its selection does not change, its objects' deletes come.
      if (before !== undefined && !this.goneSince.has(name)) this.goneSince.set(name, Date.now());
      return;
    }
    const labels = event.object?.metadata?.labels;
    // Known without labels is {}: a selector can still judge it (NotIn and DoesNotExist match).
    const after: Labels = { ...(labels !== null && typeof labels === 'object' ? (labels as Record<string, string>) : {}) };
    this.present.set(name, after);
    this.goneSince.delete(name);
    // During a first list everything is new and nothing was resolved against it yet: no news.
    if (this.ready && !sameLabels(before, after)) this.options.onChange(name, before, after);
  }
}

function sameLabels(a: Labels, b: Labels): boolean {
  if (a === undefined || b === undefined) return a === b;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
}
