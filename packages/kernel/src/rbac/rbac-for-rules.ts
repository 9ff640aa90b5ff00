import { isEmptyLabelSelector, type RuleConfig } from '@gitops-reverser/contract';

/** Who the generated role is for, and what its objects are called. */
export interface RbacSubject {
  /** ServiceAccount the bindings name. */
  readonly serviceAccount: string;
  /** Namespace of that ServiceAccount. */
  readonly namespace: string;
  /** Name of the ClusterRole, Roles and bindings. */
  readonly name: string;
}

/** One PolicyRule of a Role or ClusterRole. */
export interface PolicyRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
}

export interface KubernetesManifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

/** What `rbacForRules` produces: the manifests, plus remarks a reviewer should read. */
export interface RbacPlan {
  readonly manifests: KubernetesManifest[];
  readonly remarks: string[];
}

/** Watching needs exactly these; nothing here ever writes to the cluster. */
const READ_VERBS = ['get', 'list', 'watch'];

/**
 * Groups whose types ship with Kubernetes. A rule that can reach any other group may select custom
 * resources, and the informer follows new CRDs through a watch on customresourcedefinitions.
 */
function isBuiltInGroup(group: string): boolean {
  return group === '' || !group.includes('.') || group.endsWith('.k8s.io');
}

const wildcard = (list: readonly string[]) => list.length === 0 || list.includes('*');

/**
 * The least-privilege RBAC a watching source needs for `rules`: get/list/watch on each rule's groups
 * and resources; cluster-wide (a ClusterRole) for cluster-scoped rules and namespaced rules over all
 * namespaces, and one Role per namespace where a namespaced rule names its namespaces. Operations
 * (CREATE/UPDATE/DELETE) do not matter: every change is observed by watching.
 */
export function rbacForRules(rules: readonly RuleConfig[], subject: RbacSubject): RbacPlan {
  const clusterRules: PolicyRule[] = [];
  const namespaceRules = new Map<string, PolicyRule[]>();
  const remarks: string[] = [];
  let mayReachCustomResources = false;
  let selectsNamespacesByLabel = false;

  for (const rule of rules) {
    const apiGroups = wildcard(rule.apiGroups) ? ['*'] : [...rule.apiGroups];
    const resources = wildcard(rule.resources) ? ['*'] : [...rule.resources];
    const policy: PolicyRule = { apiGroups, resources, verbs: [...READ_VERBS] };
    if (apiGroups.includes('*') || apiGroups.some((group) => !isBuiltInGroup(group))) mayReachCustomResources = true;
    if (resources.includes('*') && (apiGroups.includes('*') || apiGroups.includes(''))) {
      remarks.push(`${rule.keyPath} selects every resource of the core group, Secrets included: name its resources to grant less`);
    } else if (resources.includes('*')) {
      remarks.push(`${rule.keyPath} selects every resource of ${apiGroups.join(', ')}: name its resources to grant less`);
    }
    if (rule.scope === 'Namespaced' && !isEmptyLabelSelector(rule.namespaceSelector)) selectsNamespacesByLabel = true;
    if (rule.scope === 'Namespaced' && rule.namespaces.length > 0) {
      for (const namespace of rule.namespaces) namespaceRules.set(namespace, [...(namespaceRules.get(namespace) ?? []), policy]);
    } else {
      clusterRules.push(policy);
    }
  }
  if (selectsNamespacesByLabel) {
    clusterRules.push({ apiGroups: [''], resources: ['namespaces'], verbs: [...READ_VERBS] });
    remarks.push('namespaces: read because a rule selects namespaces by label (namespaceSelector): their labels decide what is watched');
  }
  if (mayReachCustomResources) {
    clusterRules.push({ apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: [...READ_VERBS] });
    remarks.push('customresourcedefinitions: read so new custom types are followed at once (without it, within the rediscovery interval)');
  }

  const labels = { 'app.kubernetes.io/name': 'gitops-reverser', 'app.kubernetes.io/component': 'rbac' };
  const subjects = [{ kind: 'ServiceAccount', name: subject.serviceAccount, namespace: subject.namespace }];
  const manifests: KubernetesManifest[] = [];
  if (clusterRules.length > 0) {
    manifests.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: subject.name, labels }, rules: mergePolicies(clusterRules) });
    manifests.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: subject.name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: subject.name },
      subjects,
    });
  }
  for (const [namespace, policies] of [...namespaceRules].sort(([a], [b]) => a.localeCompare(b))) {
    manifests.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: subject.name, namespace, labels }, rules: mergePolicies(policies) });
    manifests.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: subject.name, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: subject.name },
      subjects,
    });
  }
  return { manifests, remarks };
}

/** One PolicyRule per group set, resources merged and sorted, so the output is short and stable. */
function mergePolicies(policies: readonly PolicyRule[]): PolicyRule[] {
  const byGroups = new Map<string, Set<string>>();
  for (const policy of policies) {
    const key = JSON.stringify([...policy.apiGroups].sort());
    const resources = byGroups.get(key) ?? new Set<string>();
    for (const resource of policy.resources) resources.add(resource);
    byGroups.set(key, resources);
  }
  return [...byGroups]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, resources]) => ({
      apiGroups: JSON.parse(key) as string[],
      resources: resources.has('*') ? ['*'] : [...resources].sort(),
      verbs: [...READ_VERBS],
    }));
}
