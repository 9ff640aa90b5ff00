import { describe, expect, it } from 'vitest';
import { isKustomizationText } from '../src/kustomizations.js';

describe('a file at a kustomization`s name', () => {
  it.each([
    ['kustomize`s own', 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n'],
    ['a component', 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n'],
    ['without apiVersion and kind (kustomize accepts it)', 'resources:\n  - a.yaml\n'],
    ['empty', ''],
    ['one kustomize cannot read either (left alone)', 'resources: [a.yaml\n'],
  ])('is the folder`s kustomization: %s', (_, text) => {
    expect(isKustomizationText(text)).toBe(true);
  });

  it.each([
    ['a ConfigMap named kustomization', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kustomization\ndata: {}\n'],
    ['a Flux Kustomization', 'apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n'],
    ['kustomize`s apiVersion with another kind', 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: ConfigMap\n'],
  ])('is an object`s file: %s', (_, text) => {
    expect(isKustomizationText(text)).toBe(false);
  });
});
