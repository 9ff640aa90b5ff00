import { describe, it } from 'vitest';
import { adapterShapeProblems } from '../adapter-shape.js';
import type { ChangeEvent } from '../change-event.js';
import type { KubeObject } from '../identity.js';
import type { Normalizer } from '../normalizer.js';

export interface NormalizerConformanceOptions {
  /** A new normalizer (started by the suite when it has start()). */
  create(): Promise<Normalizer> | Normalizer;
  /** Objects to feed it; the suite adds a ConfigMap and a cluster-scoped object. */
  readonly samples?: readonly KubeObject[];
}

function fail(message: string): never {
  throw new Error(message);
}

function defaultSamples(): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns', labels: { app: 'a' }, annotations: { note: 'x' } }, data: { key: 'value' } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] },
  ];
}

function eventFor(object: KubeObject): ChangeEvent {
  const [group, version] = (object.apiVersion ?? 'v1').includes('/') ? (object.apiVersion as string).split('/') : ['', object.apiVersion ?? 'v1'];
  return {
    identity: {
      clusterId: 'c',
      group: group as string,
      version: version as string,
      resource: `${(object.kind ?? 'thing').toLowerCase()}s`,
      kind: object.kind ?? 'Thing',
      namespace: object.metadata?.namespace ?? '',
      name: object.metadata?.name ?? 'x',
    },
    operation: 'upsert',
    created: true,
    object,
    resourceVersion: '1',
    observedAt: new Date(0).toISOString(),
    phase: 'live',
    observedBy: 'watch',
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/** One behaviour every normalizer must have; `run` throws an Error saying what is wrong. */
export interface NormalizerCheck {
  readonly name: string;
  run(options: NormalizerConformanceOptions): Promise<void>;
}

async function each(options: NormalizerConformanceOptions, body: (normalizer: Normalizer, sample: KubeObject) => Promise<void>): Promise<void> {
  const normalizer = await options.create();
  const shape = adapterShapeProblems('normalizer', normalizer);
  if (shape.length > 0) fail(`the normalizer is incomplete: ${shape.join('; ')}`);
  await normalizer.start?.();
  try {
    for (const sample of [...defaultSamples(), ...(options.samples ?? [])]) await body(normalizer, sample);
  } finally {
    await normalizer.stop?.();
  }
}

export const normalizerChecks: readonly NormalizerCheck[] = [
  {
    name: 'has a name and a phase, and returns an object or null',
    run: (options) =>
      each(options, async (normalizer, sample) => {
        const result = await normalizer.normalize(structuredClone(sample), { event: eventFor(sample) });
        if (result !== null && (typeof result !== 'object' || Array.isArray(result))) fail(`normalize() returned ${Array.isArray(result) ? 'an array' : typeof result}, not an object or null`);
      }),
  },
  {
    name: 'never mutates its input',
    run: (options) =>
      each(options, async (normalizer, sample) => {
        const frozen = deepFreeze(structuredClone(sample));
        try {
          await normalizer.normalize(frozen, { event: eventFor(frozen) });
        } catch (error) {
          if (error instanceof TypeError) fail(`normalize() changed its input (${error.message}); clone before changing`);
          throw error;
        }
      }),
  },
  {
    name: 'sanitize phase: the same input always gives the same output',
    run: (options) =>
      each(options, async (normalizer, sample) => {
        if (normalizer.phase !== 'sanitize') return;
        const a = await normalizer.normalize(structuredClone(sample), { event: eventFor(sample) });
        const b = await normalizer.normalize(structuredClone(sample), { event: eventFor(sample) });
        if (JSON.stringify(a) !== JSON.stringify(b)) fail('two runs on the same object differ: sanitize output is hashed to detect no-ops, it must be deterministic');
      }),
  },
];

/** The behaviour every Normalizer adapter must have. Call it inside a test file of the adapter. */
export function describeNormalizerConformance(name: string, options: NormalizerConformanceOptions): void {
  describe(`Normalizer conformance: ${name}`, () => {
    for (const check of normalizerChecks) it(check.name, () => check.run(options));
  });
}
