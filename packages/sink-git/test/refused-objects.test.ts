import type { SinkOutcome } from '@gitops-reverser/contract';
import { describe, expect, it } from 'vitest';
import type { PlannedCommit, PlannedRefusal } from '../src/commit-plan.js';
import type { GitTarget } from '../src/git-target.js';
import { RefusedObjects } from '../src/refused-objects.js';
import { change, items, marker } from './helpers.js';

// What keeps the sink degraded after a person's file stopped objects (ADR 0039), as pure logic: the
// outcomes it sets, when an object counts as written again, and when a snapshot is asked for.

const target = { name: 'live' } as GitTarget;
const refusal = (name: string, blob: string | undefined, path = `apps/${name}.yaml`): PlannedRefusal => ({
  code: 'GR_ERR_GIT_FILE_UNREADABLE',
  path,
  reason: `GR_ERR_GIT_FILE_UNREADABLE: ${name}`,
  identity: change(name).event.identity,
  ...(blob ? { blob } : {}),
});
const plan = (kind: PlannedCommit['kind'], indexes: number[], refused: [number, PlannedRefusal][], end?: PlannedCommit['end']): PlannedCommit => ({
  kind,
  target,
  items: indexes,
  writes: indexes.filter((i) => end?.index !== i).map((i) => ({ itemIndex: i }) as PlannedCommit['writes'][number]),
  authorKey: '',
  refused: new Map(refused),
  ...(end ? { end } : {}),
});

describe('objects a person`s file stops', () => {
  it('a refused item is rejected with its reason; the object counts until a later write of it is applied', () => {
    const refused = new RefusedObjects();
    const batch = items(change('x'), change('y'));
    const outcomes: SinkOutcome[] = [{ status: 'applied' }, { status: 'applied' }];
    expect(refused.settle(batch, [plan('event', [0], [[0, refusal('x', 'b1')]]), plan('event', [1], [])], outcomes, new Set())).toHaveLength(1);
    expect(outcomes).toEqual([{ status: 'rejected', reason: 'GR_ERR_GIT_FILE_UNREADABLE: x' }, { status: 'applied' }]);
    expect(refused.list().map((o) => o.identity.name)).toEqual(['x']);
    // The same refusal again (a redelivery) is not new: logged and counted once.
    expect(refused.settle(batch.slice(0, 1), [plan('event', [0], [[0, refusal('x', 'b1')]])], [{ status: 'applied' }], new Set())).toEqual([]);
    refused.settle(items(change('x')), [plan('event', [0], [])], [{ status: 'applied' }], new Set());
    expect(refused.size).toBe(0);
  });

  it('an item refused by the first placement and written by a replay is applied', () => {
    const refused = new RefusedObjects();
    const outcomes: SinkOutcome[] = [{ status: 'rejected', reason: 'earlier' }];
    refused.settle(items(change('x')), [plan('event', [0], [])], outcomes, new Set([0]));
    expect(outcomes).toEqual([{ status: 'applied' }]);
    expect(refused.size).toBe(0);
  });

  it('a snapshot is asked for once per change of the file that stopped it; a complete snapshot clears objects it no longer holds', async () => {
    const refused = new RefusedObjects();
    refused.settle(
      items(change('x'), change('gone')),
      [plan('event', [0], [[0, refusal('x', 'b1')]]), plan('event', [1], [[1, refusal('gone', 'b2')]])],
      [{ status: 'applied' }, { status: 'applied' }],
      new Set(),
    );
    const files = new Map([
      ['apps/x.yaml', 'b1'],
      ['apps/gone.yaml', 'b2'],
    ]);
    expect(await refused.fixed(async (path) => files.get(path))).toEqual({ targets: [], paths: [] });
    files.delete('apps/gone.yaml');
    expect(await refused.fixed(async (path) => files.get(path))).toEqual({ targets: ['live'], paths: ['apps/gone.yaml'] });
    expect(await refused.fixed(async (path) => files.get(path))).toEqual({ targets: [], paths: [] });
    // The snapshot: x is refused again (its file unchanged), `gone` is no longer in the cluster.
    const seed = items(change('x', { snapshotId: 's' }), marker('s', 1));
    const outcomes: SinkOutcome[] = [{ status: 'applied' }, { status: 'applied' }];
    refused.settle(seed, [plan('seed', [0, 1], [[0, refusal('x', 'b1')]], { index: 1, objectCount: 1, clusterId: 'dev', partial: false })], outcomes, new Set());
    expect(outcomes[0]?.status).toBe('rejected');
    expect(refused.list().map((o) => o.identity.name)).toEqual(['x']);
  });
});
