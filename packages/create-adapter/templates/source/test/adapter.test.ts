import { describeSourceConformance } from '@gitops-reverser/contract/conformance';
import { describe, expect, it } from 'vitest';
import descriptor, { StaticSource } from '../src/index.js';

const objects = [
  { resource: 'configmaps', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'shop' }, data: { color: 'blue' } } },
  { resource: 'namespaces', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } } },
];

// 1. The slot's conformance suite, shipped with the contract: what every source must do.
describeSourceConformance('__PACKAGE_NAME__', {
  setup: async () => ({ source: new StaticSource({ objects, intervalSeconds: 0 }) }),
  settleMs: 200,
});

// 2. Tests of its own behaviour.
describe('StaticSource', () => {
  it("refuses an object without a name in create(), with this package's code", () => {
    const create = () =>
      descriptor.create({ options: { objects: [{ resource: 'configmaps', object: { apiVersion: 'v1', kind: 'ConfigMap' } }], intervalSeconds: 0 } } as unknown as Parameters<
        typeof descriptor.create
      >[0]);
    expect(create).toThrow(expect.objectContaining({ code: '__ERROR_PREFIX___ERR_OBJECT' }));
  });
});
