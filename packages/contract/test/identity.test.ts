import { describe, expect, it } from 'vitest';
import { apiVersionOf, identityKey, identityOf, parseApiVersion, type ResourceIdentity } from '../src/index.js';

const base: ResourceIdentity = { clusterId: 'dev', group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'shop', name: 'web' };

describe('identityKey', () => {
  it('includes cluster, group, resource, namespace and name', () => {
    expect(identityKey(base)).toBe('dev/apps/deployments/shop/web');
  });

  it('keeps objects of the same name in different namespaces and clusters apart', () => {
    const keys = new Set([
      identityKey(base),
      identityKey({ ...base, namespace: 'other' }),
      identityKey({ ...base, clusterId: 'prod' }),
      identityKey({ ...base, namespace: '' }),
      identityKey({ ...base, group: '' }),
    ]);
    expect(keys.size).toBe(5);
  });

  it('names the core group and the cluster scope explicitly', () => {
    expect(identityKey({ ...base, group: '', resource: 'namespaces', kind: 'Namespace', namespace: '', name: 'shop' })).toBe('dev/_core/namespaces/_cluster/shop');
  });

  it('is the same for one object served at two versions', () => {
    expect(identityKey({ ...base, version: 'v1beta1' })).toBe(identityKey(base));
  });
});

describe('identityOf', () => {
  it('builds the identity from an object and its served resource', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'ns' } };
    expect(identityOf(cm, { clusterId: 'dev', resource: 'configmaps', namespaced: true })).toEqual({
      clusterId: 'dev',
      group: '',
      version: 'v1',
      resource: 'configmaps',
      kind: 'ConfigMap',
      namespace: 'ns',
      name: 'a',
    });
  });

  it('drops a namespace on a cluster-scoped object', () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', namespace: 'ignored' } };
    expect(identityOf(ns, { clusterId: 'dev', resource: 'namespaces', namespaced: false }).namespace).toBe('');
  });

  it('refuses objects without kind, name or namespace, naming the problem', () => {
    expect(() => identityOf({ apiVersion: 'v1', metadata: { name: 'x' } }, { clusterId: 'c', resource: 'r', namespaced: false })).toThrow(/has no kind/);
    expect(() => identityOf({ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }, { clusterId: 'c', resource: 'r', namespaced: true })).toThrow(/has no metadata.name/);
    expect(() => identityOf({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, { clusterId: 'c', resource: 'r', namespaced: true })).toThrow(/has no metadata.namespace/);
    expect(() => identityOf({ kind: 'ConfigMap', metadata: { name: 'x' } }, { clusterId: 'c', resource: 'r', namespaced: true })).toThrow(/has no apiVersion/);
  });
});

describe('apiVersion helpers', () => {
  it('round-trips core and grouped versions', () => {
    expect(parseApiVersion('v1')).toEqual({ group: '', version: 'v1' });
    expect(parseApiVersion('apps/v1')).toEqual({ group: 'apps', version: 'v1' });
    expect(apiVersionOf({ group: '', version: 'v1' })).toBe('v1');
    expect(apiVersionOf({ group: 'apps', version: 'v1' })).toBe('apps/v1');
  });
});
