import type { AttributionFact, ResourceIdentity } from '@gitops-reverser/contract';
import { describe, expect, it } from 'vitest';
import { AttributionJoin } from '../src/worker/attribution-join.js';

const identity: ResourceIdentity = { clusterId: 'c1', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'team', name: 'app' };
const fact = (user: string, operation: 'upsert' | 'delete', resourceVersion: string, uid?: string): AttributionFact => ({
  identity,
  operation,
  resourceVersion,
  ...(uid ? { uid } : {}),
  actor: { username: user },
  by: 'audit',
  id: `audit-${user}-${resourceVersion}-${uid ?? ''}`,
  at: '2026-12-04T00:00:00Z',
});

describe('AttributionJoin', () => {
  it('delete -> re-create -> delete by three users: each change gets its own author, never the previous deleter', () => {
    const join = new AttributionJoin();
    // alice creates (rv 10, uid A), bob deletes A (rv 11), carol re-creates (rv 12, uid B), dave deletes B (rv 13).
    join.add(fact('alice', 'upsert', '10'), 0);
    join.add(fact('bob', 'delete', '10', 'A'), 0);
    expect(join.take({ identity, operation: 'upsert', resourceVersion: '10', uid: 'A' })?.actor.username).toBe('alice');
    expect(join.take({ identity, operation: 'delete', resourceVersion: '11', uid: 'A' })?.actor.username).toBe('bob');
    join.add(fact('carol', 'upsert', '12'), 1);
    expect(join.take({ identity, operation: 'upsert', resourceVersion: '12', uid: 'B' })?.actor.username).toBe('carol');
    // dave's fact has not arrived yet: the delete of B finds nothing (bob's fact was used up).
    expect(join.peek({ identity, operation: 'delete', resourceVersion: '13', uid: 'B' })).toBeUndefined();
    join.add(fact('dave', 'delete', '', 'B'), 2);
    expect(join.take({ identity, operation: 'delete', resourceVersion: '13', uid: 'B' })?.actor.username).toBe('dave');
    expect(join.size).toBe(0);
  });

  it('a fact is used once: peeking leaves it, taking removes it', () => {
    const join = new AttributionJoin();
    join.add(fact('alice', 'upsert', '5'), 0);
    const change = { identity, operation: 'upsert' as const, resourceVersion: '5' };
    expect(join.peek(change)?.actor.username).toBe('alice');
    expect(join.peek(change)?.actor.username).toBe('alice');
    expect(join.take(change)?.actor.username).toBe('alice');
    expect(join.take(change)).toBeUndefined();
  });

  it('matches nothing on a name alone: an upsert fact without a resourceVersion, a delete without a uid', () => {
    const join = new AttributionJoin();
    join.add(fact('alice', 'upsert', ''), 0);
    join.add(fact('bob', 'delete', '7'), 0);
    expect(join.size).toBe(0);
    expect(join.peek({ identity, operation: 'upsert', resourceVersion: '' })).toBeUndefined();
    expect(join.peek({ identity, operation: 'delete', resourceVersion: '7', uid: 'X' })).toBeUndefined();
    // A delete change without a uid never takes a delete fact of that name.
    join.add(fact('bob', 'delete', '7', 'X'), 0);
    expect(join.peek({ identity, operation: 'delete', resourceVersion: '7' })).toBeUndefined();
  });

  it('does not take a fact of another object, another cluster, or an update for a delete', () => {
    const join = new AttributionJoin();
    join.add(fact('alice', 'upsert', '20'), 0);
    join.add(fact('bob', 'delete', '', 'U1'), 0);
    expect(join.peek({ identity: { ...identity, name: 'other' }, operation: 'upsert', resourceVersion: '20' })).toBeUndefined();
    expect(join.peek({ identity: { ...identity, clusterId: 'c2' }, operation: 'upsert', resourceVersion: '20' })).toBeUndefined();
    expect(join.peek({ identity, operation: 'delete', resourceVersion: '20', uid: 'U2' })).toBeUndefined();
    expect(join.peek({ identity, operation: 'upsert', resourceVersion: '21', uid: 'U1' })).toBeUndefined();
  });

  it('a fact that never matches expires after its time to live; memory stays bounded by the cap', () => {
    const join = new AttributionJoin({ ttlMs: 1000, maxFacts: 3 });
    join.add(fact('alice', 'upsert', '1'), 0);
    join.expire(999);
    expect(join.size).toBe(1);
    join.expire(1000);
    expect(join.size).toBe(0);
    expect(join.peek({ identity, operation: 'upsert', resourceVersion: '1' })).toBeUndefined();
    for (let rv = 1; rv <= 5; rv++) join.add(fact('bob', 'upsert', String(rv)), 2000);
    expect(join.size).toBe(3);
    expect(join.peek({ identity, operation: 'upsert', resourceVersion: '2' })).toBeUndefined();
    expect(join.peek({ identity, operation: 'upsert', resourceVersion: '3' })?.actor.username).toBe('bob');
  });
});

describe('AttributionJoin: the content tier (admission facts, seen before the write has a resourceVersion)', () => {
  const admission = (user: string, hash: string, uid?: string, operation: 'upsert' | 'delete' = 'upsert'): AttributionFact => ({
    identity,
    operation,
    resourceVersion: '',
    ...(uid ? { uid } : {}),
    ...(operation === 'upsert' ? { contentHash: hash } : {}),
    actor: { username: user },
    by: 'admission',
    id: `req-${user}-${hash}`,
    at: '2026-12-04T00:00:00Z',
  });

  it('matches an upsert by the keyed hash of what the write stored', () => {
    const join = new AttributionJoin();
    join.add(admission('jane', 'H1'), 0);
    expect(join.peek({ identity, operation: 'upsert', resourceVersion: '30', contentHash: 'H2' }, 1)).toBeUndefined();
    expect(join.take({ identity, operation: 'upsert', resourceVersion: '30', contentHash: 'H1' }, 1)?.actor.username).toBe('jane');
    expect(join.size).toBe(0);
  });

  it('two people writing identical content: the first write made the change, so the oldest fact authors it; the other waits for its own change or expires', () => {
    const join = new AttributionJoin({ contentTtlMs: 1000 });
    join.add(admission('jane', 'H'), 0);
    join.add(admission('bob', 'H'), 10);
    expect(join.take({ identity, operation: 'upsert', resourceVersion: '31', contentHash: 'H' }, 20)?.actor.username).toBe('jane');
    // Bob's identical write changed nothing the watch could see; a later change to H within the window is his.
    expect(join.peek({ identity, operation: 'upsert', resourceVersion: '33', contentHash: 'H' }, 500)?.actor.username).toBe('bob');
    // Past the content window (his write may have been refused after the webhook), it no longer matches.
    expect(join.peek({ identity, operation: 'upsert', resourceVersion: '33', contentHash: 'H' }, 2000)).toBeUndefined();
  });

  it('audit and admission for one write: the exact resourceVersion wins and the admission fact of that write goes with it', () => {
    const join = new AttributionJoin();
    join.add(admission('jane', 'H'), 0);
    join.add(fact('jane', 'upsert', '40'), 1);
    const change = { identity, operation: 'upsert' as const, resourceVersion: '40', contentHash: 'H' };
    expect(join.take(change, 2)?.by).toBe('audit');
    expect(join.size).toBe(0);
  });

  it('a delete matched by uid prefers the audit fact and uses up the admission fact of the same delete', () => {
    const join = new AttributionJoin();
    join.add(admission('jane', '', 'U', 'delete'), 0);
    join.add(fact('jane', 'delete', '', 'U'), 1);
    expect(join.take({ identity, operation: 'delete', resourceVersion: '50', uid: 'U' }, 2)?.by).toBe('audit');
    expect(join.size).toBe(0);
    join.add(admission('bob', '', 'V', 'delete'), 3);
    expect(join.take({ identity, operation: 'delete', resourceVersion: '51', uid: 'V' }, 4)?.actor.username).toBe('bob');
  });

  it('an admission delete fact matches only within the content window: a uid anyone can read must not claim a delete minutes later', () => {
    const join = new AttributionJoin({ contentTtlMs: 1000 });
    join.add(admission('mallory', '', 'U', 'delete'), 0);
    expect(join.peek({ identity, operation: 'delete', resourceVersion: '60', uid: 'U' }, 500)?.actor.username).toBe('mallory');
    expect(join.peek({ identity, operation: 'delete', resourceVersion: '60', uid: 'U' }, 1500)).toBeUndefined();
    // An audit fact names the exact write: it matches for the whole time to live.
    join.add(fact('bob', 'delete', '', 'U'), 0);
    expect(join.take({ identity, operation: 'delete', resourceVersion: '60', uid: 'U' }, 1500)?.actor.username).toBe('bob');
    // A writer waiting for an exact fact is not answered by an admission fact.
    join.add(admission('jane', '', 'W', 'delete'), 2000);
    expect(join.peek({ identity, operation: 'delete', resourceVersion: '61', uid: 'W' }, 2001, true)).toBeUndefined();
  });
});
