import { describe, it } from 'vitest';
import { adapterShapeProblems, attributionFactProblem, changeEventProblem } from '../adapter-shape.js';
import type { AttributionFact } from '../bus-message.js';
import type { ChangeEvent } from '../change-event.js';
import type { RuleConfig } from '../selection.js';
import type { Source, SourceContext } from '../source.js';
import { memoryLogger, noopMetrics } from './test-doubles.js';

export interface SourceConformanceSetup {
  /** A new source, not started. */
  readonly source: Source;
  /** Rules to start it with (default: every namespaced and cluster-scoped type, target "conformance"). */
  readonly rules?: readonly RuleConfig[];
  /** Makes the source observe one change after it started (write a file, create an object...). */
  readonly produceChange?: () => Promise<void>;
  readonly teardown?: () => Promise<void>;
}

export interface SourceConformanceOptions {
  setup(): Promise<SourceConformanceSetup>;
  /** How long to wait for events (a real API server needs more than a folder). Default 3000 ms. */
  readonly settleMs?: number;
}

const CLUSTER = 'conformance';

function allRules(): RuleConfig[] {
  const base = { target: 'conformance', clusters: [], namespaces: [], apiGroups: [], apiVersions: [], resources: ['*'], operations: [], plaintextSecrets: false };
  return [
    { ...base, scope: 'Namespaced', keyPath: 'rules[0]' },
    { ...base, scope: 'Cluster', keyPath: 'rules[1]' },
  ];
}

interface Recording {
  readonly context: SourceContext;
  readonly events: ChangeEvent[];
  readonly facts: AttributionFact[];
  readonly snapshots: { id: string; completed: boolean }[];
}

function recordingContext(rules: readonly RuleConfig[]): Recording {
  const events: ChangeEvent[] = [];
  const facts: AttributionFact[] = [];
  const snapshots: { id: string; completed: boolean }[] = [];
  let n = 0;
  const context: SourceContext = {
    clusterId: CLUSTER,
    selection: { rules, targets: [...new Set(rules.map((r) => r.target))] },
    logger: memoryLogger(),
    metrics: noopMetrics(),
    emit: async (event) => {
      events.push(event);
    },
    attribute: async (fact) => {
      facts.push(fact);
    },
    beginSnapshot: () => {
      const record = { id: `snapshot-${++n}`, completed: false };
      snapshots.push(record);
      return {
        snapshotId: record.id,
        emit: async (event) => {
          if (record.completed) throw new Error(`emit after complete() on ${record.id}`);
          events.push({ ...event, phase: 'seed', snapshotId: record.id });
        },
        complete: async () => {
          record.completed = true;
        },
      };
    },
  };
  return { context, events, facts, snapshots };
}

function fail(message: string): never {
  throw new Error(message);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One behaviour every source must have; `run` throws an Error saying what is wrong. */
export interface SourceCheck {
  readonly name: string;
  run(options: SourceConformanceOptions): Promise<void>;
}

export const sourceChecks: readonly SourceCheck[] = [
  {
    name: 'starts, reports its health, stops and reports stopped',
    async run(options) {
      const setup = await options.setup();
      const shape = adapterShapeProblems('source', setup.source);
      if (shape.length > 0) fail(`the source is incomplete: ${shape.join('; ')}`);
      const recording = recordingContext(setup.rules ?? allRules());
      await setup.source.start(recording.context);
      const state = setup.source.health().state;
      if (!['starting', 'ready', 'degraded'].includes(state)) fail(`health right after start() is ${state}`);
      await setup.source.stop();
      if (setup.source.health().state !== 'stopped') fail(`health after stop() is ${setup.source.health().state}, not stopped`);
      await setup.teardown?.();
    },
  },
  {
    name: 'emits only well-formed events of its cluster, and completes every snapshot it begins',
    async run(options) {
      const setup = await options.setup();
      const recording = recordingContext(setup.rules ?? allRules());
      await setup.source.start(recording.context);
      await setup.produceChange?.();
      await sleep(options.settleMs ?? 3000);
      await setup.source.stop();
      for (const event of recording.events) {
        const problem = changeEventProblem(event);
        if (problem) fail(`emitted a malformed event (${problem}): ${JSON.stringify(event).slice(0, 300)}`);
        if (event.identity.clusterId !== CLUSTER) fail(`emitted an event of cluster "${event.identity.clusterId}", not the context's "${CLUSTER}"`);
      }
      for (const fact of recording.facts) {
        const problem = attributionFactProblem(fact);
        if (problem) fail(`handed over a malformed attribution fact (${problem}): ${JSON.stringify(fact).slice(0, 300)}`);
        if (fact.identity.clusterId !== CLUSTER) fail(`handed over a fact of cluster "${fact.identity.clusterId}", not the context's "${CLUSTER}"`);
      }
      const open = recording.snapshots.filter((s) => !s.completed);
      if (open.length > 0) fail(`began ${open.length} snapshot(s) it never completed`);
      if (setup.produceChange && recording.events.every((e) => e.phase === 'seed')) fail('observed no change after produceChange()');
      await setup.teardown?.();
    },
  },
  {
    name: 'emits nothing after stop()',
    async run(options) {
      const setup = await options.setup();
      const recording = recordingContext(setup.rules ?? allRules());
      await setup.source.start(recording.context);
      await setup.source.stop();
      const count = recording.events.length;
      await setup.produceChange?.();
      await sleep(options.settleMs ?? 3000);
      if (recording.events.length !== count) fail(`emitted ${recording.events.length - count} event(s) after stop()`);
      await setup.teardown?.();
    },
  },
];

/** The behaviour every Source adapter must have. Call it inside a test file of the adapter. */
export function describeSourceConformance(name: string, options: SourceConformanceOptions): void {
  describe(`Source conformance: ${name}`, () => {
    for (const check of sourceChecks) it(check.name, () => check.run(options), (options.settleMs ?? 3000) * 3 + 30_000);
  });
}
