import type { RuleConfig } from '@gitops-reverser/contract';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EXCLUDED_RESOURCES, resolveWatches, watchKey, type DiscoveryResult, type ServedResource } from '../src/discovery.js';

const rw = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
const served = (group: string, version: string, resource: string, namespaced: boolean, verbs = rw): ServedResource => ({ group, version, resource, kind: resource, namespaced, verbs });
const discovery: DiscoveryResult = {
  groups: [
    { name: '', versions: ['v1'], preferredVersion: 'v1' },
    { name: 'apps', versions: ['v1'], preferredVersion: 'v1' },
    { name: 'example.com', versions: ['v1', 'v1beta1'], preferredVersion: 'v1' },
  ],
  resources: [
    served('', 'v1', 'configmaps', true),
    served('', 'v1', 'secrets', true),
    served('', 'v1', 'events', true),
    served('', 'v1', 'pods', true),
    served('', 'v1', 'pods/status', true, ['get', 'patch']),
    served('', 'v1', 'namespaces', false),
    served('', 'v1', 'bindings', true, ['create']),
    served('apps', 'v1', 'deployments', true),
    served('example.com', 'v1', 'widgets', true),
    served('example.com', 'v1beta1', 'widgets', true),
  ],
};
const rule = (r: Partial<RuleConfig>): RuleConfig => ({
  target: 't',
  scope: 'Namespaced',
  clusters: [],
  namespaces: [],
  apiGroups: [],
  apiVersions: [],
  resources: ['*'],
  operations: [],
  plaintextSecrets: false,
  keyPath: 'rules[0]',
  ...r,
});
const keys = (rules: RuleConfig[]) => resolveWatches(rules, discovery, DEFAULT_EXCLUDED_RESOURCES).map(watchKey).sort();

describe('resolveWatches', () => {
  it('expands * to every listable, watchable namespaced type at the preferred version, minus noisy types and secrets', () => {
    expect(keys([rule({})])).toEqual(['configmaps/v1@*', 'deployments.apps/v1@*', 'widgets.example.com/v1@*']);
  });

  it('gives explicitly named types even when excluded from *', () => {
    expect(keys([rule({ resources: ['secrets', 'events'] })])).toEqual(['events/v1@*', 'secrets/v1@*']);
  });

  it('watches named namespaces one by one, never cluster-wide', () => {
    expect(keys([rule({ namespaces: ['b', 'a'], resources: ['configmaps'] })])).toEqual(['configmaps/v1@a', 'configmaps/v1@b']);
  });

  it('goes cluster-wide when any rule for the type asks for all namespaces', () => {
    expect(keys([rule({ namespaces: ['a'], resources: ['configmaps'] }), rule({ target: 'u', resources: ['configmaps'] })])).toEqual(['configmaps/v1@*']);
  });

  it('keeps scopes apart and skips subresources and types without list/watch', () => {
    expect(keys([rule({ scope: 'Cluster' })])).toEqual(['namespaces/v1@*']);
    expect(keys([rule({ resources: ['pods/status', 'bindings'] })])).toEqual([]);
  });

  it('uses a named version, and one version per type', () => {
    expect(keys([rule({ apiGroups: ['example.com'], apiVersions: ['v1beta1'] })])).toEqual(['widgets.example.com/v1beta1@*']);
    expect(keys([rule({ apiGroups: ['example.com'], apiVersions: ['v1beta1', 'v1'] })])).toEqual(['widgets.example.com/v1beta1@*']);
  });

  it('records which targets use each watch (for partial snapshots)', () => {
    const specs = resolveWatches([rule({ resources: ['configmaps'] }), rule({ target: 'other', resources: ['configmaps'] })], discovery, []);
    expect([...(specs[0]?.targets ?? [])].sort()).toEqual(['other', 't']);
  });

  it('asks the API server for the object selector every rule of a watch shares; filters in the kernel otherwise', () => {
    const web = { matchLabels: { app: 'web' } };
    const shared = [rule({ resources: ['configmaps'], objectSelector: web }), rule({ target: 'u', resources: ['configmaps'], objectSelector: { matchLabels: { app: 'web' } } })];
    expect(keys(shared)).toEqual(['configmaps/v1@*?app=web']);
    expect(keys([...shared, rule({ target: 'v', resources: ['configmaps'] })])).toEqual(['configmaps/v1@*']);
    expect(keys([rule({ resources: ['configmaps'], objectSelector: web }), rule({ target: 'u', resources: ['configmaps'], objectSelector: { matchLabels: { app: 'db' } } })])).toEqual([
      'configmaps/v1@*',
    ]);
    // Per namespace: each watch looks at the rules that cover its namespace only.
    expect(keys([rule({ namespaces: ['a'], resources: ['configmaps'], objectSelector: web }), rule({ target: 'u', namespaces: ['b'], resources: ['configmaps'] })])).toEqual([
      'configmaps/v1@a?app=web',
      'configmaps/v1@b',
    ]);
  });

  it('resolves a namespaceSelector to the namespaces whose labels match, watched one by one', () => {
    const namespaces = new Map<string, Record<string, string> | undefined>([
      ['shop', { team: 'shop' }],
      ['shop-2', { team: 'shop', tier: 'test' }],
      ['ops', { team: 'ops' }],
      ['bare', {}],
    ]);
    const selecting = (r: Partial<RuleConfig>) =>
      resolveWatches([rule({ resources: ['configmaps'], ...r })], discovery, [], namespaces)
        .map(watchKey)
        .sort();
    expect(selecting({ namespaceSelector: { matchLabels: { team: 'shop' } } })).toEqual(['configmaps/v1@shop', 'configmaps/v1@shop-2']);
    expect(selecting({ namespaceSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] } })).toEqual(['configmaps/v1@bare', 'configmaps/v1@ops', 'configmaps/v1@shop']);
    // With namespaces too: both must hold. No namespace matching: no watch (not a cluster-wide one).
    expect(selecting({ namespaces: ['shop', 'ops'], namespaceSelector: { matchLabels: { team: 'shop' } } })).toEqual(['configmaps/v1@shop']);
    expect(selecting({ namespaceSelector: { matchLabels: { team: 'nobody' } } })).toEqual([]);
    expect(resolveWatches([rule({ resources: ['configmaps'], namespaceSelector: { matchLabels: { team: 'shop' } } })], discovery, [], undefined)).toEqual([]);
  });
});
