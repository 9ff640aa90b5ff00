import { describeNormalizerConformance } from '@gitops-reverser/contract/conformance';
import { describe, expect, it } from 'vitest';
import { IgnoreMarked } from '../src/index.js';

// 1. The slot's conformance suite, shipped with the contract: what every normalizer must do.
describeNormalizerConformance('__PACKAGE_NAME__', {
  create: () => new IgnoreMarked({ annotation: 'gitops-reverser.io/ignore' }),
  samples: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'skip', namespace: 'ns', annotations: { 'gitops-reverser.io/ignore': 'true' } } }],
});

// 2. Tests of its own behaviour.
describe('IgnoreMarked', () => {
  const normalizer = new IgnoreMarked({ annotation: 'a/ignore', label: 'l/ignore' });
  const object = (annotations: Record<string, string> = {}, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', annotations, labels } });

  it('drops objects marked by annotation or label, keeps the rest unchanged', () => {
    expect(normalizer.normalize(object({ 'a/ignore': 'true' }))).toBeNull();
    expect(normalizer.normalize(object({}, { 'l/ignore': 'true' }))).toBeNull();
    const kept = object({ 'a/ignore': 'false' });
    expect(normalizer.normalize(kept)).toBe(kept);
  });
});
