import { describe, expect, it } from 'vitest';
import { operationsOf, type ChangeEvent, type RuleConfig, type SinkPartition, type TargetConfig } from '@gitops-reverser/contract';
import { RouteTable } from '../src/routing/route-table.js';

const targets: TargetConfig[] = [
  { name: 'live', with: {}, keyPath: 'targets[0]' },
  { name: 'infra', with: {}, keyPath: 'targets[1]' },
  { name: 'audit', with: {}, keyPath: 'targets[2]' },
];
// What a sink's planTargets would answer: live and infra share a branch, audit has its own.
const partitions: ReadonlyMap<string, SinkPartition> = new Map([
  ['live', { key: '/repos/state#main' }],
  ['infra', { key: '/repos/state#main' }],
  ['audit', { key: 'https://git.example/state.git#audit' }],
]);
const rule = (r: Partial<RuleConfig> & Pick<RuleConfig, 'target'>): RuleConfig => ({
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

function event(partial: { group?: string; version?: string; resource: string; namespace?: string; operation?: 'upsert' | 'delete'; created?: boolean; phase?: ChangeEvent['phase'] }): ChangeEvent {
  return {
    identity: { clusterId: 'dev', group: partial.group ?? '', version: partial.version ?? 'v1', resource: partial.resource, kind: 'X', namespace: partial.namespace ?? '', name: 'n' },
    operation: partial.operation ?? 'upsert',
    created: partial.created ?? false,
    object: {},
    resourceVersion: '1',
    observedAt: '',
    phase: partial.phase ?? 'live',
    observedBy: 'watch',
  };
}

const targetsOf = (table: RouteTable, e: ChangeEvent) =>
  table
    .routesFor(e.identity, operationsOf(e))
    .map((r) => r.target.name)
    .sort();

describe('RouteTable', () => {
  it('selects namespaced objects only in the listed namespaces', () => {
    const table = new RouteTable([rule({ target: 'live', namespaces: ['default'], apiGroups: [''], resources: ['configmaps'] })], targets, partitions);
    expect(targetsOf(table, event({ resource: 'configmaps', namespace: 'default' }))).toEqual(['live']);
    expect(targetsOf(table, event({ resource: 'configmaps', namespace: 'kube-system' }))).toEqual([]);
    expect(targetsOf(table, event({ resource: 'secrets', namespace: 'default' }))).toEqual([]);
  });

  it('selects all namespaces when none are listed, but never cluster-scoped objects', () => {
    const table = new RouteTable([rule({ target: 'live', resources: ['configmaps'] })], targets, partitions);
    expect(targetsOf(table, event({ resource: 'configmaps', namespace: 'any' }))).toEqual(['live']);
    expect(targetsOf(table, event({ resource: 'configmaps', namespace: '' }))).toEqual([]);
  });

  it('scope Cluster selects cluster-scoped objects only', () => {
    const table = new RouteTable([rule({ target: 'infra', scope: 'Cluster', apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'] })], targets, partitions);
    expect(targetsOf(table, event({ group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' }))).toEqual(['infra']);
    expect(targetsOf(table, event({ group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', namespace: 'x' }))).toEqual([]);
    expect(targetsOf(table, event({ group: 'other.io', resource: 'customresourcedefinitions' }))).toEqual([]);
  });

  it('treats "*" and empty lists as "all", and "" as the core group', () => {
    const table = new RouteTable([rule({ target: 'live', apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] })], targets, partitions);
    expect(targetsOf(table, event({ group: 'example.com', version: 'v9', resource: 'widgets', namespace: 'a' }))).toEqual(['live']);
    const core = new RouteTable([rule({ target: 'live', apiGroups: [''] })], targets, partitions);
    expect(targetsOf(core, event({ resource: 'configmaps', namespace: 'a' }))).toEqual(['live']);
    expect(targetsOf(core, event({ group: 'apps', resource: 'deployments', namespace: 'a' }))).toEqual([]);
  });

  it('filters by version', () => {
    const table = new RouteTable([rule({ target: 'live', apiVersions: ['v2'] })], targets, partitions);
    expect(targetsOf(table, event({ version: 'v2', resource: 'x', namespace: 'a' }))).toEqual(['live']);
    expect(targetsOf(table, event({ version: 'v1', resource: 'x', namespace: 'a' }))).toEqual([]);
  });

  it('filters by operation; seeds count as create or update', () => {
    const table = new RouteTable([rule({ target: 'live', operations: ['CREATE'] })], targets, partitions);
    expect(targetsOf(table, event({ resource: 'x', namespace: 'a', created: true }))).toEqual(['live']);
    expect(targetsOf(table, event({ resource: 'x', namespace: 'a', created: false }))).toEqual([]);
    expect(targetsOf(table, event({ resource: 'x', namespace: 'a', operation: 'delete' }))).toEqual([]);
    expect(targetsOf(table, event({ resource: 'x', namespace: 'a', phase: 'seed' }))).toEqual(['live']);
    const deletes = new RouteTable([rule({ target: 'live', operations: ['DELETE'] })], targets, partitions);
    expect(targetsOf(deletes, event({ resource: 'x', namespace: 'a', operation: 'delete' }))).toEqual(['live']);
  });

  it('routes to every matching target once, with the (repo, branch) partition key', () => {
    const table = new RouteTable([rule({ target: 'live' }), rule({ target: 'live', resources: ['configmaps'] }), rule({ target: 'audit' })], targets, partitions);
    const routes = table.routesFor(event({ resource: 'configmaps', namespace: 'a' }).identity, ['UPDATE']);
    expect(routes.map((r) => [r.target.name, r.partition.key]).sort()).toEqual([
      ['audit', 'https://git.example/state.git#audit'],
      ['live', '/repos/state#main'],
    ]);
  });

  it('gives targets on one branch of one repo the same partition', () => {
    const table = new RouteTable([], targets, partitions);
    expect(table.route('live')?.partition.key).toBe(table.route('infra')?.partition.key);
    expect(table.route('live')?.partition.key).not.toBe(table.route('audit')?.partition.key);
  });
});

describe('RouteTable: clusters', () => {
  it('a rule limited to clusters selects only their objects', () => {
    const table = new RouteTable([rule({ target: 'live', clusters: ['prod'], resources: ['configmaps'] })], targets, partitions);
    expect(targetsOf(table, event({ resource: 'configmaps', namespace: 'default' }))).toEqual([]);
    const prod = event({ resource: 'configmaps', namespace: 'default' });
    expect(targetsOf(table, { ...prod, identity: { ...prod.identity, clusterId: 'prod' } })).toEqual(['live']);
  });
});

describe('RouteTable: label selectors and the credential mode', () => {
  const labelled = (labels: Record<string, string>) => ({ object: { metadata: { name: 'n', labels } } });
  const id = event({ resource: 'configmaps', namespace: 'default' }).identity;
  const names = (routes: { target: { name: string } }[]) => routes.map((r) => r.target.name).sort();

  it('select: selected, unselected (unless a rejecting rule keeps), undecided without labels', () => {
    const table = new RouteTable(
      [
        rule({ target: 'live', resources: ['configmaps'], objectSelector: { matchLabels: { app: 'web' } } }),
        rule({ target: 'infra', resources: ['configmaps'], objectSelector: { matchLabels: { app: 'web' } }, unselected: 'keep' }),
        rule({ target: 'audit', resources: ['configmaps'], namespaceSelector: { matchLabels: { team: 'a' } } }),
      ],
      targets,
      partitions,
    );
    const web = table.select(id, ['UPDATE'], labelled({ app: 'web' }));
    expect([names(web.selected), names(web.unselected), names(web.undecided)]).toEqual([['infra', 'live'], [], ['audit']]);
    const db = table.select(id, ['UPDATE'], { ...labelled({ app: 'db' }), namespaceLabels: { team: 'b' } });
    expect([names(db.selected), names(db.unselected), names(db.undecided)]).toEqual([[], ['audit', 'live'], []]);
    const unknown = table.select(id, ['DELETE'], {});
    expect([names(unknown.selected), names(unknown.unselected), names(unknown.undecided)]).toEqual([[], [], ['audit', 'infra', 'live']]);
  });

  it('credentialMode: the most protective mode of the rules that select the object, a rule without one counting as the default', () => {
    const table = new RouteTable(
      [
        rule({ target: 'live', resources: ['configmaps'], credentials: 'warn' }),
        rule({ target: 'live', resources: ['configmaps'], objectSelector: { matchLabels: { tier: 'secure' } }, credentials: 'refuse' }),
        rule({ target: 'infra', resources: ['configmaps'], credentials: 'encrypt' }),
        rule({ target: 'infra', resources: ['configmaps'], namespaces: ['default'], credentials: 'redact' }),
        rule({ target: 'audit', resources: ['configmaps'] }),
      ],
      targets,
      partitions,
    );
    expect(table.credentialMode(id, 'live', labelled({}), 'off')).toBe('warn');
    expect(table.credentialMode(id, 'live', labelled({ tier: 'secure' }), 'off')).toBe('refuse');
    expect(table.credentialMode(id, 'infra', labelled({}), 'off')).toBe('redact');
    expect(table.credentialMode(id, 'audit', labelled({}), 'encrypt')).toBe('encrypt');
  });
});
