import { afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../src/index.js';
import { configMapEvent, inProcessRuntime } from './support/in-process-runtime.js';

// The kernel's side of label selectors: whatever source an event comes from, the route table checks
// the object's labels and the namespace's labels; an object that stops matching leaves the targets
// it was written to (as a delete), one that starts matching is written.

const TARGETS = 'targets: [ { name: web }, { name: all }, { name: shop } ]\n';

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.stop('test done');
  runtime = undefined;
});

async function start(rules: string) {
  const started = await inProcessRuntime(`${TARGETS}rules:\n${rules}`);
  runtime = started.runtime;
  return started;
}

describe('label selectors in routing', () => {
  it('objectSelector: an object labelled in is written, labelled out is deleted there, and other targets are untouched', async () => {
    const { context, sink, settle, counter } = await start(`  - { target: web, resources: [configmaps], objectSelector: { matchLabels: { app: web } } }
  - { target: all, resources: [configmaps] }`);
    await context.emit(configMapEvent('a', { labels: { app: 'db' } }));
    await settle();
    expect(sink.log).toEqual(['all upsert a']);
    await context.emit(configMapEvent('a', { labels: { app: 'web' }, data: { a: '2' } }));
    await settle();
    expect(sink.log.slice(1).sort()).toEqual(['all upsert a', 'web upsert a']);
    await context.emit(configMapEvent('a', { labels: { app: 'db' }, data: { a: '2' } }));
    await settle();
    // "all" writes the new labels; the object left "web".
    expect(sink.log.slice(3).sort()).toEqual(['all upsert a', 'web delete a']);
    expect(await counter('gitops_reverser_objects_unselected_total', { target: 'web' })).toBe(1);
    // Further changes of an object that is not selected send nothing more to "web".
    await context.emit(configMapEvent('a', { labels: { app: 'db' }, data: { a: '3' } }));
    await settle();
    expect(sink.log.slice(5)).toEqual(['all upsert a']);
  });

  it('an object never written to a target is not deleted there when it does not match', async () => {
    const { context, sink, settle } = await start('  - { target: web, resources: [configmaps], objectSelector: { matchLabels: { app: web } } }');
    await context.emit(configMapEvent('b', { labels: { app: 'db' } }));
    await context.emit(configMapEvent('c', {}));
    await settle();
    expect(sink.log).toEqual([]);
  });

  it('matchExpressions with In, NotIn, Exists, DoesNotExist route as Kubernetes selects', async () => {
    const { context, sink, settle } = await start(`  - target: web
    resources: [configmaps]
    objectSelector:
      matchExpressions:
        - { key: env, operator: In, values: [prod, stage] }
        - { key: tier, operator: NotIn, values: [batch] }
        - { key: owner, operator: Exists }
        - { key: legacy, operator: DoesNotExist }`);
    const cases: [string, Record<string, string>][] = [
      ['yes', { env: 'prod', owner: 'x' }],
      ['not-in-env', { env: 'dev', owner: 'x' }],
      ['batch', { env: 'prod', owner: 'x', tier: 'batch' }],
      ['no-owner', { env: 'stage' }],
      ['legacy', { env: 'stage', owner: 'x', legacy: 'true' }],
      ['front', { env: 'stage', owner: 'x', tier: 'front' }],
    ];
    for (const [name, labels] of cases) await context.emit(configMapEvent(name, { labels }));
    await settle();
    expect(sink.log).toEqual(['web upsert yes', 'web upsert front']);
  });

  it('namespaceSelector: needs namespaceLabels on the event; a namespace relabelled out takes its objects out', async () => {
    const { context, sink, settle } = await start('  - { target: shop, resources: [configmaps], namespaceSelector: { matchLabels: { team: shop } } }');
    // Without namespace labels (an audit or admission source) such a rule selects nothing.
    await context.emit(configMapEvent('x', { ns: 'n1' }));
    await context.emit(configMapEvent('x', { ns: 'n1', namespaceLabels: { team: 'ops' } }));
    await settle();
    expect(sink.log).toEqual([]);
    await context.emit(configMapEvent('x', { ns: 'n1', namespaceLabels: { team: 'shop' } }));
    await settle();
    expect(sink.log).toEqual(['shop upsert x']);
    // The same state seen again without labels neither writes nor deletes.
    await context.emit(configMapEvent('x', { ns: 'n1', data: { a: 'other' } }));
    await settle();
    expect(sink.log).toEqual(['shop upsert x']);
    await context.emit(configMapEvent('x', { ns: 'n1', namespaceLabels: { team: 'ops' } }));
    await settle();
    expect(sink.log).toEqual(['shop upsert x', 'shop delete x']);
    // namespaceLabels are for routing: they never travel to the sink.
    expect(sink.changes.some((change) => 'namespaceLabels' in change.event)).toBe(false);
  });

  it('unselected: keep holds the file; a delete of the selected object still goes; a delete without labels goes where it was written', async () => {
    const { context, sink, settle } = await start(`  - { target: web, resources: [configmaps], objectSelector: { matchLabels: { app: web } }, unselected: keep }
  - { target: shop, resources: [configmaps], objectSelector: { matchLabels: { app: web } } }`);
    await context.emit(configMapEvent('k', { labels: { app: 'web' } }));
    await context.emit(configMapEvent('k', { labels: { app: 'db' } }));
    await settle();
    expect(sink.log.sort()).toEqual(['shop delete k', 'shop upsert k', 'web upsert k']);
    await context.emit(configMapEvent('d', { labels: { app: 'web' } }));
    await context.emit(configMapEvent('d', { labels: { app: 'web' }, operation: 'delete' }));
    await context.emit(configMapEvent('e', { labels: { app: 'web' } }));
    await context.emit(configMapEvent('e', { operation: 'delete', withObject: false }));
    await settle();
    expect(sink.log.slice(3).sort()).toEqual(['shop delete d', 'shop delete e', 'shop upsert d', 'shop upsert e', 'web delete d', 'web delete e', 'web upsert d', 'web upsert e']);
  });

  it('a seed writes only what is selected and sends no deletes (its snapshot end stands for the rest)', async () => {
    const { context, sink, settle } = await start('  - { target: web, resources: [configmaps], objectSelector: { matchLabels: { app: web } } }');
    await context.emit(configMapEvent('s', { labels: { app: 'web' } }));
    await settle();
    const snapshot = context.beginSnapshot();
    await snapshot.emit(configMapEvent('s', { labels: { app: 'db' } }));
    await snapshot.emit(configMapEvent('t', { labels: { app: 'web' } }));
    await snapshot.complete();
    await settle();
    expect(sink.log).toEqual(['web upsert s', 'web upsert t']);
    expect(sink.ends).toEqual([{ target: 'web', partial: false }]);
  });
});
