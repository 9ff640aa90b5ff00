import type { RuleConfig } from '@gitops-reverser/contract';
import { describe, expect, it } from 'vitest';
import { rbacForRules } from '../src/rbac/rbac-for-rules.js';

const subject = { serviceAccount: 'gr', namespace: 'ops', name: 'gitops-reverser' };

function rule(fields: Partial<RuleConfig>, index = 0): RuleConfig {
  return {
    target: 'live',
    scope: 'Namespaced',
    clusters: [],
    namespaces: [],
    apiGroups: [''],
    apiVersions: ['*'],
    resources: ['configmaps'],
    operations: [],
    plaintextSecrets: false,
    keyPath: `rules[${index}]`,
    ...fields,
  };
}

describe('rbacForRules', () => {
  it('grants only get/list/watch: a Role per named namespace, a ClusterRole for the rest, each bound to the ServiceAccount', () => {
    const plan = rbacForRules(
      [
        rule({ namespaces: ['team-b', 'team-a'], resources: ['configmaps'] }, 0),
        rule({ namespaces: ['team-a'], apiGroups: ['apps'], resources: ['deployments'] }, 1),
        rule({ scope: 'Cluster', apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'] }, 2),
        rule({ scope: 'Cluster', apiGroups: [''], resources: ['namespaces'] }, 3),
      ],
      subject,
    );
    expect(plan.manifests.map((m) => `${m.kind} ${m.metadata.namespace ?? ''}/${m.metadata.name}`)).toEqual([
      'ClusterRole /gitops-reverser',
      'ClusterRoleBinding /gitops-reverser',
      'Role team-a/gitops-reverser',
      'RoleBinding team-a/gitops-reverser',
      'Role team-b/gitops-reverser',
      'RoleBinding team-b/gitops-reverser',
    ]);
    expect(plan.manifests[0]?.['rules']).toEqual([
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['get', 'list', 'watch'] },
    ]);
    expect(plan.manifests[2]?.['rules']).toEqual([
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'] },
    ]);
    expect(plan.manifests[3]).toMatchObject({ roleRef: { kind: 'Role', name: 'gitops-reverser' }, subjects: [{ kind: 'ServiceAccount', name: 'gr', namespace: 'ops' }] });
    // Built-in groups only: no CRD watch, no Secrets, nothing to remark on.
    expect(JSON.stringify(plan.manifests)).not.toContain('secrets');
    expect(JSON.stringify(plan.manifests)).not.toContain('customresourcedefinitions');
    expect(plan.remarks).toEqual([]);
  });

  it('merges resources of rules over the same groups and keeps no Role for namespaces nobody names', () => {
    const plan = rbacForRules([rule({ resources: ['configmaps'] }), rule({ resources: ['serviceaccounts', 'configmaps'] })], subject);
    expect(plan.manifests.map((m) => m.kind)).toEqual(['ClusterRole', 'ClusterRoleBinding']);
    expect(plan.manifests[0]?.['rules']).toEqual([{ apiGroups: [''], resources: ['configmaps', 'serviceaccounts'], verbs: ['get', 'list', 'watch'] }]);
  });

  it('says so when a wildcard reaches Secrets, and reads CRDs when a rule may select custom resources', () => {
    const plan = rbacForRules([rule({ apiGroups: [], resources: ['*'] }), rule({ apiGroups: ['example.com'], resources: ['widgets'] }, 1)], subject);
    expect(plan.manifests[0]?.['rules']).toEqual([
      { apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get', 'list', 'watch'] },
    ]);
    expect(plan.remarks[0]).toContain('rules[0] selects every resource of the core group, Secrets included');
    expect(plan.remarks.some((r) => r.startsWith('customresourcedefinitions'))).toBe(true);
  });

  it('reads namespaces when a rule selects them by label, cluster-wide for the rule unless it also names namespaces', () => {
    const plan = rbacForRules([rule({ resources: ['configmaps'], namespaceSelector: { matchLabels: { team: 'shop' } } })], subject);
    expect(plan.manifests.map((m) => m.kind)).toEqual(['ClusterRole', 'ClusterRoleBinding']);
    expect(plan.manifests[0]?.['rules']).toEqual([{ apiGroups: [''], resources: ['configmaps', 'namespaces'], verbs: ['get', 'list', 'watch'] }]);
    expect(plan.remarks.some((r) => r.startsWith('namespaces: read because a rule selects namespaces by label'))).toBe(true);
  });
});
