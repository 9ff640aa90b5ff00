import { isEmptyLabelSelector, labelSelectorMatches, labelSelectorString, ruleMatchesType, type LabelSelector, type Labels, type Logger, type RuleConfig } from '@gitops-reverser/contract';
import type { KubeClient } from './kube-client.js';

/** A type the API server serves, from discovery. */
export interface ServedResource {
  readonly group: string;
  readonly version: string;
  /** Plural name, e.g. "configmaps". */
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
}

export interface ServedGroup {
  readonly name: string;
  readonly versions: readonly string[];
  readonly preferredVersion: string;
}

export interface DiscoveryResult {
  readonly groups: readonly ServedGroup[];
  readonly resources: readonly ServedResource[];
}

/**
 * Types that change constantly or are owned by controllers; a `*` rule skips them. A rule that
 * names one explicitly still gets it. Keys: `resource` (core) or `resource.group`.
 */
export const DEFAULT_EXCLUDED_RESOURCES: readonly string[] = [
  // Secrets would land in git in plain text: a rule must name them explicitly (and should encrypt them).
  'secrets',
  'events',
  'events.events.k8s.io',
  'leases.coordination.k8s.io',
  'endpoints',
  'endpointslices.discovery.k8s.io',
  'controllerrevisions.apps',
  'pods',
  'replicasets.apps',
  'nodes',
  'csinodes.storage.k8s.io',
  'volumeattachments.storage.k8s.io',
  'componentstatuses',
  'certificatesigningrequests.certificates.k8s.io',
];

export function resourceKey(resource: Pick<ServedResource, 'group' | 'resource'>): string {
  return resource.group === '' ? resource.resource : `${resource.resource}.${resource.group}`;
}

/**
 * Aggregated discovery (apidiscovery.k8s.io/v2, Kubernetes 1.26+, GA in 1.30): every group, version and
 * type in the answers of /api and /apis, instead of one request per group version (~30 on a bare API
 * server, ~40 ms before a seed's first LIST). A server without it answers the plain JSON asked second.
 */
export const AGGREGATED_DISCOVERY = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';

interface LegacyCore {
  readonly kind?: string;
  readonly versions: string[];
}
interface LegacyGroups {
  readonly kind?: string;
  readonly groups: { name: string; versions: { version: string }[]; preferredVersion?: { version: string } }[];
}
/** apidiscovery.k8s.io/v2 APIGroupDiscoveryList: versions in order of preference, the first preferred. */
interface AggregatedList {
  readonly kind: 'APIGroupDiscoveryList';
  readonly items?: {
    metadata?: { name?: string };
    versions?: {
      version: string;
      /** "Stale": an aggregated API server that did not answer; its types are not known. */
      freshness?: string;
      resources?: { resource: string; responseKind?: { kind?: string }; scope?: string; verbs?: string[] }[];
    }[];
  }[];
}

function isAggregated(answer: unknown): answer is AggregatedList {
  return (answer as { kind?: unknown }).kind === 'APIGroupDiscoveryList';
}

/** Reads /api and /apis: every group, its versions and preferred version, and the types of each. */
export async function discover(client: KubeClient, logger: Logger): Promise<DiscoveryResult> {
  const [core, apis] = await Promise.all([
    client.getJson<LegacyCore | AggregatedList>('/api', undefined, AGGREGATED_DISCOVERY),
    client.getJson<LegacyGroups | AggregatedList>('/apis', undefined, AGGREGATED_DISCOVERY),
  ]);
  if (isAggregated(core) && isAggregated(apis)) return fromAggregated([...(core.items ?? []), ...(apis.items ?? [])], logger);
  // A server that answers one of them in each form is asked again, plainly.
  return await discoverByGroupVersion(client, isAggregated(core) ? await client.getJson<LegacyCore>('/api') : core, isAggregated(apis) ? await client.getJson<LegacyGroups>('/apis') : apis, logger);
}

/** The groups and types of aggregated discovery's answers, as the per-group-version requests give them. */
function fromAggregated(items: NonNullable<AggregatedList['items']>, logger: Logger): DiscoveryResult {
  const groups: ServedGroup[] = [];
  const resources: ServedResource[] = [];
  for (const item of items) {
    const group = item.metadata?.name ?? '';
    const versions = item.versions ?? [];
    groups.push({ name: group, versions: versions.map((v) => v.version), preferredVersion: versions[0]?.version ?? (group === '' ? 'v1' : '') });
    for (const { version, freshness, resources: served } of versions) {
      if (freshness === 'Stale') {
        const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
        logger.warn({ groupVersion: `${group || 'core'}/${version}` }, `discovery of ${path} is stale (its API server did not answer); its types are skipped until the next discovery`);
        continue;
      }
      for (const r of served ?? []) resources.push({ group, version, resource: r.resource, kind: r.responseKind?.kind ?? '', namespaced: r.scope === 'Namespaced', verbs: r.verbs ?? [] });
    }
  }
  return { groups, resources };
}

/** Discovery without the aggregated form: one request per group version. */
async function discoverByGroupVersion(client: KubeClient, core: LegacyCore, apis: LegacyGroups, logger: Logger): Promise<DiscoveryResult> {
  const groups: ServedGroup[] = [
    { name: '', versions: core.versions, preferredVersion: core.versions[0] ?? 'v1' },
    ...apis.groups.map((g) => ({ name: g.name, versions: g.versions.map((v) => v.version), preferredVersion: g.preferredVersion?.version ?? g.versions[0]?.version ?? '' })),
  ];
  const groupVersions = groups.flatMap((g) => g.versions.map((version) => ({ group: g.name, version })));
  const resources: ServedResource[] = [];
  // A few at a time: an aggregated API that is down must not hold up the rest.
  for (let i = 0; i < groupVersions.length; i += 8) {
    await Promise.all(
      groupVersions.slice(i, i + 8).map(async ({ group, version }) => {
        const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
        try {
          const list = await client.getJson<{ resources: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[] }>(path);
          for (const r of list.resources) resources.push({ group, version, resource: r.name, kind: r.kind, namespaced: r.namespaced, verbs: r.verbs ?? [] });
        } catch (error) {
          logger.warn({ groupVersion: `${group || 'core'}/${version}`, err: (error as Error).message }, `discovery of ${path} failed; its types are skipped until the next discovery`);
        }
      }),
    );
  }
  return { groups, resources };
}

/**
 * Discovery by one request per group version, even where the server has the aggregated form: what
 * the aggregated answers are checked against (tests), and the way older servers are read.
 */
export async function discoverEachGroupVersion(client: KubeClient, logger: Logger): Promise<DiscoveryResult> {
  return await discoverByGroupVersion(client, await client.getJson<LegacyCore>('/api'), await client.getJson<LegacyGroups>('/apis'), logger);
}

/** One list+watch to run: a type, and the namespaces to watch it in (undefined: all / cluster-scoped). */
export interface WatchSpec {
  readonly served: ServedResource;
  /** Undefined: watch across all namespaces (or the cluster-scoped type). */
  readonly namespace: string | undefined;
  /** Targets whose rules selected this watch (to mark their snapshot partial if it cannot list). */
  readonly targets: ReadonlySet<string>;
  /**
   * Set when every rule served by this watch has the same object selector: the API server then sends
   * only matching objects (`labelSelector` on list and watch). Otherwise the kernel filters.
   */
  readonly labelSelector?: { readonly selector: LabelSelector; readonly query: string };
}

export function watchKey(spec: Pick<WatchSpec, 'served' | 'namespace' | 'labelSelector'>): string {
  return `${resourceKey(spec.served)}/${spec.served.version}@${spec.namespace ?? '*'}${spec.labelSelector ? `?${spec.labelSelector.query}` : ''}`;
}

/** The labels of the cluster's namespaces, by name (what a `namespaceSelector` is resolved against). */
export type NamespaceLabels = ReadonlyMap<string, Labels>;

/**
 * The namespaces a namespaced rule covers: its `namespaces` (empty: all), narrowed by its
 * `namespaceSelector` to those whose labels match. `undefined` means all namespaces; a selector
 * that no known namespace matches gives an empty list (the rule watches nothing yet).
 */
export function ruleNamespaces(rule: RuleConfig, namespaces: NamespaceLabels | undefined): readonly string[] | undefined {
  if (isEmptyLabelSelector(rule.namespaceSelector)) return rule.namespaces.length === 0 ? undefined : rule.namespaces;
  const selector = rule.namespaceSelector as LabelSelector;
  const candidates = rule.namespaces.length > 0 ? rule.namespaces : [...(namespaces?.keys() ?? [])];
  return candidates.filter((name) => namespaces?.has(name) === true && labelSelectorMatches(selector, namespaces.get(name))).sort();
}

/**
 * Resolves rules against discovery into watches. `*` and empty lists mean all; without versions the
 * preferred one is used; only whole types that support list and watch; subresources never. A
 * namespaced rule with namespaces (or a `namespaceSelector`, resolved against `namespaces`) watches
 * exactly those namespaces, never cluster-wide. One type is watched at one version only (the first a
 * rule asked for): an object is one object. A watch asks the API server for one label selector when
 * every rule it serves has that same `objectSelector`.
 */
export function resolveWatches(rules: readonly RuleConfig[], discovery: DiscoveryResult, excluded: readonly string[], namespaces?: NamespaceLabels): WatchSpec[] {
  const excludedSet = new Set(excluded);
  const byType = new Map<string, { served: ServedResource; rules: { rule: RuleConfig; namespaces: readonly string[] | undefined }[] }>();
  const groupsByName = new Map(discovery.groups.map((g) => [g.name, g]));
  for (const rule of rules) {
    const allGroups = rule.apiGroups.length === 0 || rule.apiGroups.includes('*');
    const groups = allGroups ? discovery.groups : rule.apiGroups.flatMap((name) => groupsByName.get(name) ?? []);
    const covered = rule.scope === 'Namespaced' ? ruleNamespaces(rule, namespaces) : undefined;
    if (covered !== undefined && covered.length === 0) continue;
    for (const group of groups) {
      const versions = rule.apiVersions.length === 0 || rule.apiVersions.includes('*') ? [group.preferredVersion] : rule.apiVersions.filter((v) => group.versions.includes(v));
      for (const version of versions) {
        for (const served of discovery.resources) {
          if (served.group !== group.name || served.version !== version) continue;
          if (served.resource.includes('/')) continue;
          if (!served.verbs.includes('list') || !served.verbs.includes('watch')) continue;
          // The same matcher the kernel routes with, so a watch never disagrees with routing.
          if (!ruleMatchesType(rule, served)) continue;
          // "*" skips excluded types; a rule that names one explicitly still gets it.
          if (!rule.resources.includes(served.resource) && excludedSet.has(resourceKey(served))) continue;
          const key = resourceKey(served);
          let entry = byType.get(key);
          if (!entry) {
            entry = { served, rules: [] };
            byType.set(key, entry);
          }
          entry.rules.push({ rule, namespaces: served.namespaced ? covered : undefined });
        }
      }
    }
  }
  const specs: WatchSpec[] = [];
  for (const entry of byType.values()) {
    const spec = (namespace: string | undefined, served: readonly { rule: RuleConfig }[]): WatchSpec => {
      const selector = sharedSelector(served.map(({ rule }) => rule));
      return { served: entry.served, namespace, targets: new Set(served.map(({ rule }) => rule.target)), ...(selector ? { labelSelector: selector } : {}) };
    };
    if (entry.rules.some((r) => r.namespaces === undefined)) specs.push(spec(undefined, entry.rules));
    else {
      const names = [...new Set(entry.rules.flatMap((r) => r.namespaces ?? []))].sort();
      for (const namespace of names)
        specs.push(
          spec(
            namespace,
            entry.rules.filter((r) => r.namespaces?.includes(namespace)),
          ),
        );
    }
  }
  return specs;
}

/** The object selector every rule shares (compared in query form), or undefined when one has none or they differ. */
function sharedSelector(rules: readonly RuleConfig[]): WatchSpec['labelSelector'] {
  let shared: WatchSpec['labelSelector'];
  for (const rule of rules) {
    if (isEmptyLabelSelector(rule.objectSelector)) return undefined;
    const query = labelSelectorString(rule.objectSelector as LabelSelector);
    if (shared && shared.query !== query) return undefined;
    shared ??= { selector: rule.objectSelector as LabelSelector, query };
  }
  return shared;
}
