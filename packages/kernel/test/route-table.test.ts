import { describe, expect, it } from 'vitest';
import { RouteTable, type ChangeEvent, type ProviderConfig, type RuleConfig, type TargetConfig } from '../src/index.js';

const providers: ProviderConfig[] = [
  { name: 'origin', url: '/repos/state', allowedBranches: ['main'] },
  { name: 'mirror', url: 'https://git.example/state.git', allowedBranches: ['**'] },
];
const targets: TargetConfig[] = [
  { name: 'live', provider: 'origin', branch: 'main', path: 'clusters/dev', prune: 'OnEvent' },
  { name: 'infra', provider: 'origin', branch: 'main', path: 'infra', prune: 'OnEvent' },
  { name: 'audit', provider: 'mirror', branch: 'audit', path: '', prune: 'Never' },
];
const rule = (r: Partial<RuleConfig> & Pick<RuleConfig, 'target'>): RuleConfig => ({
  scope: 'Namespaced', namespaces: [], apiGroups: [], apiVersions: [], resources: ['*'], operations: [], keyPath: 'rules[0]', ...r,
});

function event(partial: { group?: string; version?: string; resource: string; namespace?: string; operation?: 'upsert' | 'delete'; created?: boolean; origin?: ChangeEvent['origin'] }): ChangeEvent {
  return {
    identity: { clusterId: 'dev', group: partial.group ?? '', version: partial.version ?? 'v1', resource: partial.resource, kind: 'X', namespace: partial.namespace ?? '', name: 'n' },
    operation: partial.operation ?? 'upsert',
    created: partial.created ?? false,
    object: {},
    resourceVersion: '1',
    observedAt: '',
    origin: partial.origin ?? 'watch',
  };
}

const targetsOf = (table: RouteTable, e: ChangeEvent) => table.routesFor(e).map((r) => r.target.name).sort();

describe('RouteTable', () => {
  it('selects namespaced objects only in the listed namespaces', () => {
    const table = new RouteTable([rule({ target: 'live', namespaces: ['default'], apiGroups: [''], resources: ['configmaps'] })], targets, providers);
    expect(targetsOf(table, event({ resource: 'configmaps', namespace: 'default' }))).toEqual(['live']);
    expect(targetsOf(table, event({ resource: 'configmaps', namespace: 'kube-system' }))).toEqual([]);
    expect(targetsOf(table, event({ resource: 'secrets', namespace: 'default' }))).toEqual([]);
  });

  it('selects all namespaces when none are listed, but never cluster-scoped objects', () => {
    const table = new RouteTable([rule({ target: 'live', resources: ['configmaps'] })], targets, providers);
    expect(targetsOf(table, event({ resource: 'configmaps', namespace: 'any' }))).toEqual(['live']);
    expect(targetsOf(table, event({ resource: 'configmaps', namespace: '' }))).toEqual([]);
  });

  it('scope Cluster selects cluster-scoped objects only', () => {
    const table = new RouteTable([rule({ target: 'infra', scope: 'Cluster', apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'] })], targets, providers);
    expect(targetsOf(table, event({ group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' }))).toEqual(['infra']);
    expect(targetsOf(table, event({ group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', namespace: 'x' }))).toEqual([]);
    expect(targetsOf(table, event({ group: 'other.io', resource: 'customresourcedefinitions' }))).toEqual([]);
  });

  it('treats "*" and empty lists as "all", and "" as the core group', () => {
    const table = new RouteTable([rule({ target: 'live', apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] })], targets, providers);
    expect(targetsOf(table, event({ group: 'example.com', version: 'v9', resource: 'widgets', namespace: 'a' }))).toEqual(['live']);
    const core = new RouteTable([rule({ target: 'live', apiGroups: [''] })], targets, providers);
    expect(targetsOf(core, event({ resource: 'configmaps', namespace: 'a' }))).toEqual(['live']);
    expect(targetsOf(core, event({ group: 'apps', resource: 'deployments', namespace: 'a' }))).toEqual([]);
  });

  it('filters by version', () => {
    const table = new RouteTable([rule({ target: 'live', apiVersions: ['v2'] })], targets, providers);
    expect(targetsOf(table, event({ version: 'v2', resource: 'x', namespace: 'a' }))).toEqual(['live']);
    expect(targetsOf(table, event({ version: 'v1', resource: 'x', namespace: 'a' }))).toEqual([]);
  });

  it('filters by operation; seeds count as create or update', () => {
    const table = new RouteTable([rule({ target: 'live', operations: ['CREATE'] })], targets, providers);
    expect(targetsOf(table, event({ resource: 'x', namespace: 'a', created: true }))).toEqual(['live']);
    expect(targetsOf(table, event({ resource: 'x', namespace: 'a', created: false }))).toEqual([]);
    expect(targetsOf(table, event({ resource: 'x', namespace: 'a', operation: 'delete' }))).toEqual([]);
    expect(targetsOf(table, event({ resource: 'x', namespace: 'a', origin: 'seed' }))).toEqual(['live']);
    const deletes = new RouteTable([rule({ target: 'live', operations: ['DELETE'] })], targets, providers);
    expect(targetsOf(deletes, event({ resource: 'x', namespace: 'a', operation: 'delete' }))).toEqual(['live']);
  });

  it('routes to every matching target once, with the (repo, branch) partition key', () => {
    const table = new RouteTable(
      [rule({ target: 'live' }), rule({ target: 'live', resources: ['configmaps'] }), rule({ target: 'audit' })],
      targets,
      providers,
    );
    const routes = table.routesFor(event({ resource: 'configmaps', namespace: 'a' }));
    expect(routes.map((r) => [r.target.name, r.partitionKey]).sort()).toEqual([
      ['audit', 'https://git.example/state.git#audit'],
      ['live', '/repos/state#main'],
    ]);
  });

  it('gives targets on one branch of one repo the same partition', () => {
    const table = new RouteTable([], targets, providers);
    expect(table.route('live')?.partitionKey).toBe(table.route('infra')?.partitionKey);
    expect(table.route('live')?.partitionKey).not.toBe(table.route('audit')?.partitionKey);
  });
});
