import { type RuleConfig, type RuleOperation, rulesForCluster } from '@gitops-reverser/contract';
import type { GitopsReverserConfig } from '../config/config-types.js';
import type { KubernetesManifest } from '../rbac/rbac-for-rules.js';

/** The source whose clusters get a webhook entry (matched by its package name in `sources[].use`). */
export const ADMISSION_SOURCE_PACKAGE = '@gitops-reverser/source-admission';

/** The API server waits at most this long for an answer: every write may wait that long when the webhook is unreachable. */
export const MAX_ADMISSION_TIMEOUT_SECONDS = 2;

/** Where the API server sends reviews: an https URL, or a Service in the cluster. */
export type AdmissionWebhookClient = { readonly url: string } | { readonly service: { readonly namespace: string; readonly name: string; readonly port: number } };

export interface AdmissionWebhookOptions {
  /** Name of the ValidatingWebhookConfiguration. */
  readonly name: string;
  /** The installation's own namespace: its writes are never reviewed. */
  readonly namespace: string;
  readonly client: AdmissionWebhookClient;
  /** Base64 of the PEM CA that signed the serving certificate; without it the API server uses its own trust roots. */
  readonly caBundle?: string;
  /** 1 or 2 (default 2). */
  readonly timeoutSeconds?: number;
  /** Only the source of this cluster id (default: every source-admission source). */
  readonly cluster?: string;
}

/** One entry of a webhook's `rules` (admissionregistration.k8s.io/v1 RuleWithOperations). */
export interface AdmissionWebhookRule {
  readonly apiGroups: string[];
  readonly apiVersions: string[];
  readonly operations: RuleOperation[];
  readonly resources: string[];
  readonly scope: 'Namespaced' | 'Cluster';
}

/** What `admissionWebhookForConfig` produces: the manifest, plus remarks a reviewer should read. */
export interface AdmissionWebhookPlan {
  readonly manifest: KubernetesManifest;
  /** The clusters that got entries. */
  readonly clusters: string[];
  readonly remarks: string[];
}

const OPERATIONS: readonly RuleOperation[] = ['CREATE', 'UPDATE', 'DELETE'];
const NAMESPACE_LABEL = 'kubernetes.io/metadata.name';

/**
 * The built-in resources whose `scale` subresource the API server serves, with their group. A scale
 * write is an UPDATE of the subresource; source-admission attributes it to the parent (it knows the
 * parent's kind for these only, so custom resources' scale subresources are not added).
 */
const SCALABLE: Readonly<Record<string, string>> = { deployments: 'apps', replicasets: 'apps', statefulsets: 'apps', replicationcontrollers: '' };

const wildcard = (list: readonly string[]) => list.length === 0 || list.includes('*');

/**
 * The ValidatingWebhookConfiguration that sends source-admission the reviews of exactly the writes
 * the config's rules watch: one entry per source-admission cluster for the rules over all
 * namespaces (and Cluster-scoped rules), plus one per set of namespaces that share the same rules
 * (each namespace is in at most one such entry, so one write is reviewed once, unless a rule over all
 * namespaces selects it too). Never in the way: `failurePolicy: Ignore`, `sideEffects: None`, at most
 * 2 s, and the installation's own namespace is never reviewed (its pods must start even when the
 * webhook cannot answer). The Helm chart's template mirrors this; the chart's tests compare the two.
 */
export function admissionWebhookForConfig(config: Pick<GitopsReverserConfig, 'sources' | 'rules'>, options: AdmissionWebhookOptions): AdmissionWebhookPlan {
  const timeoutSeconds = options.timeoutSeconds ?? MAX_ADMISSION_TIMEOUT_SECONDS;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > MAX_ADMISSION_TIMEOUT_SECONDS) {
    throw new RangeError(`timeoutSeconds must be 1 or ${MAX_ADMISSION_TIMEOUT_SECONDS}, not ${timeoutSeconds}: a write waits that long when the webhook does not answer`);
  }
  const clusters = [...new Set(config.sources.filter((source) => source.use === ADMISSION_SOURCE_PACKAGE).map((source) => source.cluster))].filter(
    (cluster) => options.cluster === undefined || cluster === options.cluster,
  );
  const remarks: string[] = [];
  const webhooks: Record<string, unknown>[] = [];
  const served: string[] = [];
  for (const cluster of clusters) {
    const entries = entriesForCluster(rulesForCluster(config.rules, cluster), options.namespace, remarks);
    if (entries.length === 0) remarks.push(`no rule applies to cluster ${cluster}: it gets no webhook entry`);
    else served.push(cluster);
    let namespaceSets = 0;
    for (const entry of entries) {
      webhooks.push({
        // Cluster ids and namespaces are DNS labels, so these names never collide.
        name: entry.namespaces ? `namespaces-${++namespaceSets}.${cluster}.attribution.gitops-reverser.io` : `${cluster}.attribution.gitops-reverser.io`,
        admissionReviewVersions: ['v1'],
        clientConfig: { ...clientConfig(options.client, cluster), ...(options.caBundle ? { caBundle: options.caBundle } : {}) },
        failurePolicy: 'Ignore',
        namespaceSelector: {
          matchExpressions: [entry.namespaces ? { key: NAMESPACE_LABEL, operator: 'In', values: entry.namespaces } : { key: NAMESPACE_LABEL, operator: 'NotIn', values: [options.namespace] }],
        },
        rules: entry.rules,
        sideEffects: 'None',
        timeoutSeconds,
      });
    }
  }
  const manifest: KubernetesManifest = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: options.name, labels: { 'app.kubernetes.io/name': 'gitops-reverser', 'app.kubernetes.io/component': 'admission-webhook' } },
    webhooks,
  };
  return { manifest, clusters: served, remarks };
}

/** The webhook rule one config rule needs: its groups, versions, resources (with `scale` where served) and operations. */
export function admissionRuleFor(rule: RuleConfig): AdmissionWebhookRule {
  const operations = rule.operations.length === 0 ? [...OPERATIONS] : OPERATIONS.filter((operation) => rule.operations.includes(operation));
  const apiGroups = wildcard(rule.apiGroups) ? ['*'] : [...new Set(rule.apiGroups)];
  const resources = wildcard(rule.resources) ? ['*'] : [...new Set(rule.resources)];
  // A scale write is an UPDATE: without UPDATE the rule does not want it.
  const scaled = !operations.includes('UPDATE')
    ? []
    : resources.includes('*')
      ? ['*/scale']
      : resources.filter((resource) => SCALABLE[resource] !== undefined && (apiGroups.includes('*') || apiGroups.includes(SCALABLE[resource] as string))).map((resource) => `${resource}/scale`);
  return {
    apiGroups,
    apiVersions: wildcard(rule.apiVersions) ? ['*'] : [...new Set(rule.apiVersions)],
    operations,
    resources: [...resources, ...scaled],
    scope: rule.scope,
  };
}

/** The entries of one cluster: rules over all namespaces first (no `namespaces`), then one per namespace set. */
function entriesForCluster(rules: readonly RuleConfig[], ownNamespace: string, remarks: string[]): { namespaces?: string[]; rules: AdmissionWebhookRule[] }[] {
  const everywhere: AdmissionWebhookRule[] = [];
  const byNamespace = new Map<string, AdmissionWebhookRule[]>();
  const addTo = (list: AdmissionWebhookRule[], rule: AdmissionWebhookRule) => {
    if (!list.some((known) => JSON.stringify(known) === JSON.stringify(rule))) list.push(rule);
  };
  for (const rule of rules) {
    const admissionRule = admissionRuleFor(rule);
    if (rule.scope !== 'Namespaced' || rule.namespaces.length === 0) {
      addTo(everywhere, admissionRule);
      continue;
    }
    if (rule.namespaces.includes(ownNamespace)) {
      remarks.push(`${rule.keyPath} names ${ownNamespace}, the installation's own namespace: writes there are not reviewed (committed with Attribution: none)`);
    }
    for (const namespace of rule.namespaces.filter((name) => name !== ownNamespace)) {
      const list = byNamespace.get(namespace) ?? [];
      addTo(list, admissionRule);
      byNamespace.set(namespace, list);
    }
  }
  // Namespaces with the same rules share an entry; entries in the order of their first namespace.
  const groups = new Map<string, { namespaces: string[]; rules: AdmissionWebhookRule[] }>();
  for (const namespace of [...byNamespace.keys()].sort()) {
    const namespaceRules = byNamespace.get(namespace) as AdmissionWebhookRule[];
    const key = JSON.stringify(namespaceRules);
    const group = groups.get(key) ?? { namespaces: [], rules: namespaceRules };
    group.namespaces.push(namespace);
    groups.set(key, group);
  }
  return [...(everywhere.length > 0 ? [{ rules: everywhere }] : []), ...groups.values()];
}

function clientConfig(client: AdmissionWebhookClient, cluster: string): Record<string, unknown> {
  const path = `/admission/${cluster}`;
  if ('url' in client) return { url: `${client.url.replace(/\/+$/, '')}${path}` };
  return { service: { namespace: client.service.namespace, name: client.service.name, path, port: client.service.port } };
}
