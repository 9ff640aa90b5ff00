import { describe, expect, it } from 'vitest';
import { authorOf, PathLayout, renderMessage } from '../src/index.js';

const identity = { clusterId: 'dev', group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'shop', name: 'web' };

describe('PathLayout', () => {
  it('default: {target}/{namespace|_cluster}/{group/}{resource}/{name}.yaml', () => {
    const layout = new PathLayout();
    expect(layout.pathOf('clusters/dev', identity)).toEqual({ path: 'clusters/dev/shop/apps/deployments/web.yaml' });
    expect(layout.pathOf('', { ...identity, group: '', resource: 'namespaces', namespace: '' })).toEqual({ path: '_cluster/namespaces/web.yaml' });
  });

  it.each([
    ['..', 'name ".." is a relative path segment'],
    ['a/b', 'name "a/b" contains a path separator'],
    ['.git', 'name ".git" is ".git"'],
  ])('refuses the name %s', (name, problem) => {
    expect(new PathLayout().pathOf('t', { ...identity, name })).toEqual({ problem });
  });

  it('refuses templates that could escape or collide', () => {
    expect(() => new PathLayout('../{name}.yaml')).toThrow(/relative path without/);
    expect(() => new PathLayout('/{name}.yaml')).toThrow(/relative path without/);
    expect(() => new PathLayout('{namespace}.yaml')).toThrow(/does not contain \{name\}/);
  });
});

describe('commit messages and authors', () => {
  it('fills event templates, with {namespace/} empty for cluster-scoped objects', () => {
    expect(renderMessage('[{operation}] {apiVersion}/{resource}/{namespace/}{name}', { operation: 'UPDATE', identity })).toBe('[UPDATE] apps/v1/deployments/shop/web');
    expect(renderMessage('[{operation}] {apiVersion}/{resource}/{namespace/}{name}', { operation: 'CREATE', identity: { ...identity, group: '', resource: 'namespaces', namespace: '' } })).toBe('[CREATE] v1/namespaces/web');
  });

  it('derives authors from actors', () => {
    const committer = { name: 'gitops-reverser', email: 'bot@localhost' };
    expect(authorOf({ username: 'jane@corp.example' }, committer, 'dev.cluster.local')).toEqual({ name: 'jane@corp.example', email: 'jane@corp.example' });
    expect(authorOf({ username: 'kubernetes-admin' }, committer, 'dev.cluster.local')).toEqual({ name: 'kubernetes-admin', email: 'kubernetes-admin@dev.cluster.local' });
    expect(authorOf({ username: 'oidc:Jane Doe' }, committer, 'd')).toEqual({ name: 'oidc:Jane Doe', email: 'oidc-Jane-Doe@d' });
    expect(authorOf(undefined, committer, 'd')).toBe(committer);
  });
});
