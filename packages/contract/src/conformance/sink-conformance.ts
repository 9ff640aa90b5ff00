import { describe, it } from 'vitest';
import { adapterShapeProblems } from '../adapter-shape.js';
import type { TargetConfig } from '../selection.js';
import type { Sink, SinkChange, SinkItem, SinkMessage, SinkOutcome, SinkPartition } from '../sink.js';
import { numberedMessage } from './bus-conformance.js';
import { memoryLogger, noopMetrics } from './test-doubles.js';

export interface SinkConformanceSetup {
  /** A new sink, not started: the suite plans the target and starts it. */
  readonly sink: Sink;
  /** One target this sink can serve (`with:` as the sink's targetOptionsSchema would leave it). */
  readonly target: TargetConfig;
  /** How many writes the sink's store holds (commits, lines, rows): used to catch duplicate writes on redelivery. */
  readonly countWrites?: () => Promise<number>;
  readonly teardown?: () => Promise<void>;
}

export interface SinkConformanceOptions {
  setup(): Promise<SinkConformanceSetup>;
}

/** One behaviour every sink must have; `run` throws an Error saying what is wrong. */
export interface SinkCheck {
  readonly name: string;
  run(options: SinkConformanceOptions): Promise<void>;
}

const STATUSES = ['applied', 'unchanged', 'retry', 'rejected'];

class ConformanceFailure extends Error {}

function fail(message: string): never {
  throw new ConformanceFailure(message);
}

/** Plans `target` with the sink and starts it, as the kernel would. */
async function started(options: SinkConformanceOptions): Promise<SinkConformanceSetup & { partition: SinkPartition; close: () => Promise<void> }> {
  const setup = await options.setup();
  const { sink, target } = setup;
  const shape = adapterShapeProblems('sink', sink);
  if (shape.length > 0) fail(`the sink is incomplete: ${shape.join('; ')}`);
  const plan = sink.planTargets([target]);
  if (plan.problems.length > 0) fail(`planTargets refused the test target: ${plan.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const partition = plan.partitions.get(target.name);
  if (!partition || typeof partition.key !== 'string' || partition.key === '') fail('planTargets gave the test target no partition with a key');
  // No source runs here: a request for a fresh snapshot has nobody to reseed.
  await sink.start({ logger: memoryLogger(), metrics: noopMetrics(), targets: () => [{ target, partition }], requestSnapshot: () => undefined });
  const close = async () => {
    await sink.stop();
    await setup.teardown?.();
  };
  return { ...setup, partition, close };
}

function items(messages: readonly SinkMessage[], attempt = 1): SinkItem[] {
  return messages.map((message) => ({ message, attempt }));
}

/** A change as the kernel hands it to a sink: the bus message with its rendered file text. */
export function numberedChange(n: number, target = 'conformance'): SinkChange {
  // What the kernel renders for this object (written by hand: the contract has no YAML library).
  return { ...numberedMessage(n, target), yaml: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${n}\n  namespace: ns\ndata:\n  n: "${n}"\n` };
}

async function outcomesOf(sink: Sink, partition: SinkPartition, batch: readonly SinkItem[], what: string): Promise<readonly SinkOutcome[]> {
  let outcomes: unknown;
  try {
    outcomes = await sink.apply({ partition, items: batch });
  } catch (error) {
    fail(`apply() threw on ${what} (it must report an outcome per item instead): ${(error as Error).message}`);
  }
  if (!Array.isArray(outcomes)) fail(`apply() on ${what} did not resolve to an array`);
  if (outcomes.length !== batch.length) fail(`apply() on ${what} returned ${outcomes.length} outcomes for ${batch.length} items`);
  const unknown = outcomes.filter((o: { status?: unknown }) => !STATUSES.includes(String(o?.status)));
  if (unknown.length > 0) fail(`apply() on ${what} returned unknown statuses: ${JSON.stringify(unknown)}`);
  return outcomes as SinkOutcome[];
}

/** The checks of the sink suite, usable without vitest (the kernel's own tests run them against broken sinks). */
export const sinkChecks: readonly SinkCheck[] = [
  {
    name: 'has a valid batchPolicy and every Sink method, and plans its target',
    async run(options) {
      const s = await started(options);
      await s.close();
    },
  },
  {
    name: 'reports exactly one known outcome per item, in order, and writes new items',
    async run(options) {
      const s = await started(options);
      const outcomes = await outcomesOf(s.sink, s.partition, items([1, 2, 3].map((n) => numberedChange(n, s.target.name))), 'three new objects');
      if (!outcomes.every((o) => o.status === 'applied')) fail(`three new objects were not all applied: ${JSON.stringify(outcomes)}`);
      await s.close();
    },
  },
  {
    name: 'writes nothing twice when a batch is redelivered',
    async run(options) {
      const s = await started(options);
      const batch = items([4, 5].map((n) => numberedChange(n, s.target.name)));
      await outcomesOf(s.sink, s.partition, batch, 'a first delivery');
      const before = await s.countWrites?.();
      const again = await outcomesOf(
        s.sink,
        s.partition,
        batch.map((item) => ({ ...item, attempt: 2 })),
        'a redelivery',
      );
      if (!again.every((o) => o.status === 'applied' || o.status === 'unchanged')) fail(`a redelivery was not applied/unchanged: ${JSON.stringify(again)}`);
      const after = await s.countWrites?.();
      if (before !== after) fail(`a redelivered batch was written again (${before} writes before, ${after} after)`);
      await s.close();
    },
  },
  {
    name: 'never throws: odd and unplaceable messages get an outcome',
    async run(options) {
      const s = await started(options);
      const target = s.target.name;
      const change = numberedChange(9, target);
      const odd: [string, SinkMessage[]][] = [
        ['an empty batch', []],
        ['a message for an unknown target', [numberedChange(6, 'no-such-target')]],
        ['a delete of an object never written', [{ kind: 'change', target, event: { ...change.event, operation: 'delete', object: undefined } }]],
        ['an upsert without object and yaml', [{ kind: 'change', target, event: { ...change.event, object: undefined } }]],
        ['a snapshot end without seed events', [{ kind: 'snapshot-end', target, snapshotId: 'lonely', objectCount: 0, clusterId: 'c', completedAt: new Date(0).toISOString() }]],
      ];
      for (const [what, messages] of odd) await outcomesOf(s.sink, s.partition, items(messages), what);
      // Repeated calls: a sink that fails "now and then" fails here.
      for (let n = 0; n < 20; n++) await outcomesOf(s.sink, s.partition, items([numberedChange(100 + (n % 4), target)], 1 + (n % 3)), `call ${n + 1} of 20`);
      await s.close();
    },
  },
  {
    name: 'accepts a snapshot: seed events and their snapshot end',
    async run(options) {
      const s = await started(options);
      const target = s.target.name;
      const seed = (n: number): SinkMessage => {
        const message = numberedChange(n, target);
        return { ...message, event: { ...message.event, phase: 'seed', snapshotId: 'conformance' } };
      };
      const marker: SinkMessage = { kind: 'snapshot-end', target, snapshotId: 'conformance', objectCount: 2, clusterId: 'c', completedAt: new Date(0).toISOString() };
      const outcomes = await outcomesOf(s.sink, s.partition, items([seed(7), seed(8), marker]), 'a snapshot');
      if (!outcomes.every((o) => o.status === 'applied')) fail(`a snapshot was not applied: ${JSON.stringify(outcomes)}`);
      const state = s.sink.health().state;
      if (state !== 'ready' && state !== 'degraded') fail(`health after a snapshot is ${state}, not ready`);
      await s.close();
    },
  },
  {
    name: 'flushes, stops and then reports stopped',
    async run(options) {
      const s = await started(options);
      await outcomesOf(s.sink, s.partition, items([numberedChange(10, s.target.name)]), 'one object');
      if (typeof s.sink.flush !== 'function') fail('flush() is missing');
      await s.sink.flush();
      await s.close();
      const state = s.sink.health().state;
      if (state !== 'stopped') fail(`health after stop() is ${state}, not stopped`);
    },
  },
];

/**
 * The behaviour every Sink adapter must have. Call it inside a test file of the adapter:
 * `describeSinkConformance('my-sink', { setup: async () => ({ sink, target }) })`.
 */
export function describeSinkConformance(name: string, options: SinkConformanceOptions): void {
  describe(`Sink conformance: ${name}`, () => {
    for (const check of sinkChecks) it(check.name, () => check.run(options));
  });
}
