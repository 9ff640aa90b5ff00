import type { RuleConfig } from '@gitops-reverser/contract';
import { describe, expect, it } from 'vitest';
import type { SourceRef } from '../src/config/config-types.js';
import { admissionRuleFor, admissionWebhookForConfig } from '../src/webhook/admission-webhook-configuration.js';

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

function source(use: string, cluster: string, index = 0): SourceRef {
  return { use, cluster, with: {}, keyPath: `sources[${index}]` };
}

const admission = (cluster: string) => source('@gitops-reverser/source-admission', cluster);
const options = { name: 'gitops-reverser', namespace: 'gitops-reverser', client: { url: 'https://webhook.example:9444' } } as const;

// biome-ignore lint/suspicious/noExplicitAny: the manifest is read field by field, as the assertions need
const webhooksOf = (plan: ReturnType<typeof admissionWebhookForConfig>) => plan.manifest['webhooks'] as any[];

describe('admissionRuleFor', () => {
  it('named resources: the scale subresource only where the API server serves one (deployments in apps, replicationcontrollers in core)', () => {
    expect(admissionRuleFor(rule({ apiGroups: ['', 'apps'], resources: ['configmaps', 'deployments', 'statefulsets', 'replicationcontrollers'] }))).toEqual({
      apiGroups: ['', 'apps'],
      apiVersions: ['*'],
      operations: ['CREATE', 'UPDATE', 'DELETE'],
      resources: ['configmaps', 'deployments', 'statefulsets', 'replicationcontrollers', 'deployments/scale', 'statefulsets/scale', 'replicationcontrollers/scale'],
      scope: 'Namespaced',
    });
    // deployments in the core group: no such type, so no scale either.
    expect(admissionRuleFor(rule({ apiGroups: [''], resources: ['deployments'] })).resources).toEqual(['deployments']);
    expect(admissionRuleFor(rule({ apiGroups: ['*'], resources: ['deployments'] })).resources).toEqual(['deployments', 'deployments/scale']);
  });

  it('every resource: "*" and "*/scale" (never status); every group and version', () => {
    expect(admissionRuleFor(rule({ apiGroups: ['*'], apiVersions: [], resources: ['*'] }))).toMatchObject({ apiGroups: ['*'], apiVersions: ['*'], resources: ['*', '*/scale'] });
    expect(admissionRuleFor(rule({ apiGroups: [], resources: [] }))).toMatchObject({ apiGroups: ['*'], resources: ['*', '*/scale'] });
  });

  it("operations as the rule allows them, in a stable order; without UPDATE no scale; the rule's scope and versions", () => {
    expect(admissionRuleFor(rule({ apiGroups: ['apps'], resources: ['deployments'], operations: ['DELETE', 'CREATE'] }))).toMatchObject({
      operations: ['CREATE', 'DELETE'],
      resources: ['deployments'],
    });
    expect(admissionRuleFor(rule({ scope: 'Cluster', apiGroups: ['rbac.authorization.k8s.io'], apiVersions: ['v1'], resources: ['clusterroles'] }))).toEqual({
      apiGroups: ['rbac.authorization.k8s.io'],
      apiVersions: ['v1'],
      operations: ['CREATE', 'UPDATE', 'DELETE'],
      resources: ['clusterroles'],
      scope: 'Cluster',
    });
  });
});

describe('admissionWebhookForConfig', () => {
  it('one entry per source-admission cluster: never in the way (Ignore, no side effects, 2 s, v1), the own namespace excluded, the path /admission/<cluster>', () => {
    const plan = admissionWebhookForConfig({ sources: [source('@gitops-reverser/source-informer', 'prod'), admission('prod')], rules: [rule({})] }, { ...options, caBundle: 'Q0E=' });
    expect(plan.clusters).toEqual(['prod']);
    expect(plan.manifest).toMatchObject({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'gitops-reverser' } });
    expect(webhooksOf(plan)).toEqual([
      {
        name: 'prod.attribution.gitops-reverser.io',
        admissionReviewVersions: ['v1'],
        clientConfig: { url: 'https://webhook.example:9444/admission/prod', caBundle: 'Q0E=' },
        failurePolicy: 'Ignore',
        namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['gitops-reverser'] }] },
        rules: [{ apiGroups: [''], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['configmaps'], scope: 'Namespaced' }],
        sideEffects: 'None',
        timeoutSeconds: 2,
      },
    ]);
  });

  it('rules with namespaces: one entry per set of namespaces with the same rules (In), each namespace in one entry; the own namespace never', () => {
    const plan = admissionWebhookForConfig(
      {
        sources: [admission('prod')],
        rules: [
          rule({ namespaces: ['team-b', 'team-a'], resources: ['configmaps'] }, 0),
          rule({ namespaces: ['team-c'], resources: ['configmaps'] }, 1),
          rule({ namespaces: ['team-c', 'gitops-reverser'], apiGroups: ['apps'], resources: ['deployments'] }, 2),
          rule({ scope: 'Cluster', apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'] }, 3),
        ],
      },
      options,
    );
    const webhooks = webhooksOf(plan);
    expect(webhooks.map((w) => [w.name, w.namespaceSelector.matchExpressions, w.rules.map((r: { resources: string[] }) => r.resources.join(','))])).toEqual([
      ['prod.attribution.gitops-reverser.io', [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['gitops-reverser'] }], ['customresourcedefinitions']],
      ['namespaces-1.prod.attribution.gitops-reverser.io', [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['team-a', 'team-b'] }], ['configmaps']],
      ['namespaces-2.prod.attribution.gitops-reverser.io', [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['team-c'] }], ['configmaps', 'deployments,deployments/scale']],
    ]);
    expect(plan.remarks).toEqual(["rules[2] names gitops-reverser, the installation's own namespace: writes there are not reviewed (committed with Attribution: none)"]);
  });

  it('clusters: a rule limited to other clusters adds nothing; --cluster keeps one source; a Service as the client', () => {
    const config = {
      sources: [admission('prod'), admission('dev')],
      rules: [rule({ clusters: ['prod'], resources: ['secrets'] }, 0), rule({ resources: ['configmaps'] }, 1)],
    };
    const both = admissionWebhookForConfig(config, { ...options, client: { service: { namespace: 'ops', name: 'gr', port: 9444 } } });
    expect(webhooksOf(both).map((w) => [w.name, w.clientConfig, w.rules.map((r: { resources: string[] }) => r.resources[0])])).toEqual([
      ['prod.attribution.gitops-reverser.io', { service: { namespace: 'ops', name: 'gr', path: '/admission/prod', port: 9444 } }, ['secrets', 'configmaps']],
      ['dev.attribution.gitops-reverser.io', { service: { namespace: 'ops', name: 'gr', path: '/admission/dev', port: 9444 } }, ['configmaps']],
    ]);
    expect(webhooksOf(admissionWebhookForConfig(config, { ...options, cluster: 'dev' })).map((w) => w.name)).toEqual(['dev.attribution.gitops-reverser.io']);
    expect(admissionWebhookForConfig({ sources: [admission('prod')], rules: [rule({ clusters: ['other'] })] }, options)).toMatchObject({
      clusters: [],
      remarks: ['no rule applies to cluster prod: it gets no webhook entry'],
    });
  });

  it('the same rule twice is one webhook rule; a URL with a trailing slash or a path of its own keeps it', () => {
    const plan = admissionWebhookForConfig({ sources: [admission('prod')], rules: [rule({}, 0), rule({ target: 'other' }, 1)] }, { ...options, client: { url: 'https://proxy.example/gr/' } });
    expect(webhooksOf(plan)[0].rules).toHaveLength(1);
    expect(webhooksOf(plan)[0].clientConfig).toEqual({ url: 'https://proxy.example/gr/admission/prod' });
  });

  it('timeoutSeconds: 1 or 2, never more (a write waits that long when the webhook is down)', () => {
    const config = { sources: [admission('prod')], rules: [rule({})] };
    expect(webhooksOf(admissionWebhookForConfig(config, { ...options, timeoutSeconds: 1 }))[0].timeoutSeconds).toBe(1);
    for (const timeoutSeconds of [3, 0, 1.5]) expect(() => admissionWebhookForConfig(config, { ...options, timeoutSeconds })).toThrow(/timeoutSeconds must be 1 or 2/);
  });

  it('no source-admission in the config: no clusters, no entries', () => {
    const plan = admissionWebhookForConfig({ sources: [source('@gitops-reverser/source-informer', 'prod')], rules: [rule({})] }, options);
    expect(plan.clusters).toEqual([]);
    expect(webhooksOf(plan)).toEqual([]);
  });
});
