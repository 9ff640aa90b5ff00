import { describe, expect, it } from 'vitest';
import { interpret, type AuditEvent } from '../src/audit-event.js';

const mapping = { users: { jane: { name: 'Jane Doe', email: 'jane@corp.example' } }, emailFromExtra: 'example.com/email' };

function event(patch: Partial<AuditEvent> = {}): AuditEvent {
  return {
    auditID: 'a-1',
    stage: 'ResponseComplete',
    verb: 'create',
    requestURI: '/api/v1/namespaces/shop/configmaps',
    stageTimestamp: '2026-11-22T10:00:00.000000Z',
    user: { username: 'bob', groups: ['system:authenticated'] },
    objectRef: { resource: 'configmaps', namespace: 'shop', name: 'settings', apiVersion: 'v1' },
    responseStatus: { code: 201 },
    responseObject: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'shop', resourceVersion: '42' }, data: { a: 'b' } },
    ...patch,
  };
}

describe('interpret: which audit events are writes', () => {
  it('a create: a fact with the resourceVersion it produced, and a change with the whole object', () => {
    const reading = interpret(event(), 'dev', mapping);
    expect(reading.kind).toBe('write');
    if (reading.kind !== 'write') return;
    expect(reading.facts).toEqual([
      {
        identity: { clusterId: 'dev', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'shop', name: 'settings' },
        operation: 'upsert',
        resourceVersion: '42',
        actor: { username: 'bob', groups: ['system:authenticated'] },
        by: 'audit',
        id: 'a-1',
        at: '2026-11-22T10:00:00.000000Z',
      },
    ]);
    expect(reading.changes[0]).toMatchObject({ operation: 'upsert', created: true, phase: 'live', observedBy: 'audit', attribution: { by: 'audit', id: 'a-1' }, object: { data: { a: 'b' } } });
  });

  it.each([
    ['another stage', { stage: 'RequestReceived' }, 'stage'],
    ['a read', { verb: 'get' }, 'verb'],
    ['a failed write', { responseStatus: { code: 409 } }, 'failed'],
    ['a dry run', { requestURI: '/api/v1/namespaces/shop/configmaps?dryRun=All' }, 'dry_run'],
    ['a status update', { verb: 'patch', objectRef: { resource: 'deployments', apiGroup: 'apps', apiVersion: 'v1', namespace: 'shop', name: 'web', subresource: 'status' } }, 'status_subresource'],
    ['no objectRef', { objectRef: null }, 'malformed'],
    ['no user', { user: {} }, 'malformed'],
    ['a wrong type', { auditID: 7 as unknown as string }, 'malformed'],
  ])('skips %s', (_case, patch, reason) => {
    expect(interpret(event(patch as Partial<AuditEvent>), 'dev', mapping)).toEqual({ kind: 'skip', reason });
  });

  it('a generateName create takes its name from the response', () => {
    const reading = interpret(
      event({
        objectRef: { resource: 'configmaps', namespace: 'shop', apiVersion: 'v1' },
        responseObject: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'job-x7k2p', namespace: 'shop', resourceVersion: '9' } },
      }),
      'dev',
      mapping,
    );
    expect(reading.kind === 'write' && reading.facts[0]?.identity.name).toBe('job-x7k2p');
  });

  it('impersonation: the impersonated user is the actor, the real one is kept; mapping and the extra email claim apply', () => {
    const impersonated = interpret(event({ user: { username: 'admin' }, impersonatedUser: { username: 'jane' } }), 'dev', mapping);
    expect(impersonated.kind === 'write' && impersonated.facts[0]?.actor).toEqual({ username: 'jane', name: 'Jane Doe', email: 'jane@corp.example', impersonatedBy: { username: 'admin' } });
    const oidc = interpret(event({ user: { username: 'oidc:u-17', extra: { 'example.com/email': ['ann@corp.example'] } } }), 'dev', mapping);
    expect(oidc.kind === 'write' && oidc.facts[0]?.actor.email).toBe('ann@corp.example');
  });

  it('a deletecollection is one delete per item of the response', () => {
    const items = ['a', 'b', 'c'].map((name) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'shop', resourceVersion: '50' } }));
    const reading = interpret(
      event({
        verb: 'deletecollection',
        objectRef: { resource: 'configmaps', namespace: 'shop', apiVersion: 'v1' },
        responseStatus: { code: 200 },
        responseObject: { kind: 'ConfigMapList', apiVersion: 'v1', items },
      }),
      'dev',
      mapping,
    );
    expect(reading.kind === 'write' && reading.facts.map((f) => [f.identity.name, f.operation])).toEqual([
      ['a', 'delete'],
      ['b', 'delete'],
      ['c', 'delete'],
    ]);
    expect(reading.kind === 'write' && reading.changes).toHaveLength(3);
  });

  it("a deletecollection item takes its kind from the list's: the API server's list items carry none", () => {
    const items = ['a', 'b'].map((name) => ({ metadata: { name, namespace: 'shop', resourceVersion: '50', uid: `u-${name}` }, data: { name } }));
    const reading = interpret(
      event({
        verb: 'deletecollection',
        objectRef: { resource: 'configmaps', namespace: 'shop', apiVersion: 'v1' },
        responseStatus: { code: 200 },
        responseObject: { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '51' }, items },
      }),
      'dev',
      mapping,
    );
    expect(reading.kind === 'write' && reading.changes.map((c) => [c.identity.kind, c.identity.name, c.operation])).toEqual([
      ['ConfigMap', 'a', 'delete'],
      ['ConfigMap', 'b', 'delete'],
    ]);
  });

  it('a delete names the uid of the object it removed: from the Status details, the returned object, or the objectRef', () => {
    const base = { verb: 'delete', requestURI: '/api/v1/namespaces/shop/configmaps/settings', responseStatus: { code: 200 } };
    const fromStatus = interpret(
      event({ ...base, responseObject: { kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name: 'settings', kind: 'configmaps', uid: 'u-1' } } }),
      'dev',
      mapping,
    );
    expect(fromStatus.kind === 'write' && fromStatus.facts[0]).toMatchObject({ operation: 'delete', resourceVersion: '', uid: 'u-1', identity: { name: 'settings' } });
    expect(fromStatus.kind === 'write' && fromStatus.changes[0]).toMatchObject({ operation: 'delete', uid: 'u-1' });
    const fromObject = interpret(
      event({ ...base, responseObject: { kind: 'CustomResourceDefinition', apiVersion: 'apiextensions.k8s.io/v1', metadata: { name: 'settings', uid: 'u-2', resourceVersion: '60' } } }),
      'dev',
      mapping,
    );
    expect(fromObject.kind === 'write' && fromObject.facts[0]?.uid).toBe('u-2');
    const fromRef = interpret(event({ ...base, objectRef: { resource: 'configmaps', namespace: 'shop', name: 'settings', uid: 'u-3', apiVersion: 'v1' }, responseObject: undefined }), 'dev', mapping);
    expect(fromRef.kind === 'write' && fromRef.facts[0]?.uid).toBe('u-3');
    const none = interpret(event({ ...base, responseObject: undefined }), 'dev', mapping);
    expect(none.kind === 'write' && none.facts[0]?.uid).toBeUndefined();
    const upsert = interpret(event({ responseObject: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'shop', resourceVersion: '42', uid: 'u-4' } } }), 'dev', mapping);
    expect(upsert.kind === 'write' && upsert.facts[0]?.uid).toBeUndefined();
  });

  it('a deletecollection item names its own uid', () => {
    const items = ['a', 'b'].map((name) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'shop', uid: `uid-${name}` } }));
    const reading = interpret(
      event({
        verb: 'deletecollection',
        objectRef: { resource: 'configmaps', namespace: 'shop', apiVersion: 'v1', uid: 'not-this' },
        responseStatus: { code: 200 },
        responseObject: { kind: 'ConfigMapList', apiVersion: 'v1', items },
      }),
      'dev',
      mapping,
    );
    expect(reading.kind === 'write' && reading.facts.map((f) => f.uid)).toEqual(['uid-a', 'uid-b']);
  });

  it('a scale subresource write attributes the parent, without a change (its response is not the object)', () => {
    const reading = interpret(
      event({
        verb: 'patch',
        objectRef: { resource: 'deployments', apiGroup: 'apps', apiVersion: 'v1', namespace: 'shop', name: 'web', subresource: 'scale' },
        responseStatus: { code: 200 },
        responseObject: { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'web', namespace: 'shop', resourceVersion: '77' } },
      }),
      'dev',
      mapping,
    );
    expect(reading.kind === 'write' && reading.facts[0]).toMatchObject({ identity: { group: 'apps', resource: 'deployments', name: 'web' }, resourceVersion: '77' });
    expect(reading.kind === 'write' && reading.changes).toEqual([]);
  });
});
