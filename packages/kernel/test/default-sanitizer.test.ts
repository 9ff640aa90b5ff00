import { describeNormalizerConformance } from '@gitops-reverser/contract/conformance';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@gitops-reverser/contract';
import { contentHash, createDefaultSanitizer, renderYaml } from '../src/index.js';

const sanitize = (object: KubeObject, config?: Parameters<typeof createDefaultSanitizer>[0]) => createDefaultSanitizer(config).normalize(object, { event: {} as never }) as KubeObject;

const serverMetadata = {
  uid: 'u',
  resourceVersion: '5',
  generation: 3,
  creationTimestamp: 't',
  deletionTimestamp: 't',
  deletionGracePeriodSeconds: 30,
  managedFields: [{ manager: 'kubectl' }],
  selfLink: '/x',
  ownerReferences: [{ name: 'o' }],
  finalizers: ['f'],
  generateName: 'g-',
};

describe('default sanitizer', () => {
  it('removes status and every server-owned metadata field, keeping name, namespace, labels', () => {
    const out = sanitize({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' }, ...serverMetadata },
      spec: { replicas: 2 },
      status: { readyReplicas: 2 },
    });
    expect(out).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } }, spec: { replicas: 2 } });
  });

  it('removes tool and server annotations and drops an emptied annotations map', () => {
    const out = sanitize({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'deployment.kubernetes.io/revision': '4' } },
    });
    expect(out.metadata).toEqual({ name: 'web' });
    const kept = sanitize({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', annotations: { 'team.example.com/owner': 'me', 'deployment.kubernetes.io/revision': '1' } } });
    expect(kept.metadata?.annotations).toEqual({ 'team.example.com/owner': 'me' });
  });

  it('removes allocated Service fields but keeps a headless clusterIP: None', () => {
    const spec = {
      clusterIP: '10.0.0.5',
      clusterIPs: ['10.0.0.5'],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
      healthCheckNodePort: 31000,
      ports: [{ port: 80 }],
      selector: { app: 'web' },
    };
    expect(sanitize({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec })['spec']).toEqual({ ports: [{ port: 80 }], selector: { app: 'web' } });
    expect(sanitize({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ...spec, clusterIP: 'None' } })['spec']).toEqual({
      clusterIP: 'None',
      ports: [{ port: 80 }],
      selector: { app: 'web' },
    });
  });

  it('keeps every other top-level field (StorageClass provisioner, Secret stringData)', () => {
    const sc = { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast' }, provisioner: 'x.io/disk', parameters: { t: 'ssd' }, reclaimPolicy: 'Delete' };
    expect(sanitize(sc)).toEqual(sc);
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'Opaque', stringData: { a: 'b' }, data: { c: 'ZA==' } };
    expect(sanitize(secret)).toEqual(secret);
  });

  it('applies configured extra removals, per kind when kinds are given', () => {
    const config = {
      removeFields: [
        { path: 'spec.replicas', kinds: ['Deployment'] },
        { path: 'data.noise', kinds: [] },
      ],
      removeAnnotations: ['example.com/*'],
      removeLabels: ['pod-template-hash'],
    };
    const out = sanitize(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'd', labels: { 'pod-template-hash': 'x', app: 'a' }, annotations: { 'example.com/a': '1', 'example.com/b': '2' } },
        spec: { replicas: 3, paused: false },
      },
      config,
    );
    expect(out).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', labels: { app: 'a' } }, spec: { paused: false } });
    const other = sanitize({ apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'r' }, spec: { replicas: 3 } }, config);
    expect(other['spec']).toEqual({ replicas: 3 });
  });

  it('removes list items by key and values below them (field path syntax), per kind or Kind.group', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', annotations: { 'example.com/build': '7', team: 'shop' } },
      spec: {
        replicas: 4,
        template: {
          spec: {
            containers: [
              { name: 'web', image: 'web:1', resources: { limits: { cpu: '1' } } },
              { name: 'istio-proxy', image: 'proxy:1' },
            ],
          },
        },
      },
    };
    const out = sanitize(deployment, {
      removeFields: [
        { path: 'spec.replicas', kinds: ['Deployment.apps'] },
        { path: 'spec.template.spec.containers[name=istio-proxy]', kinds: [] },
        { path: 'spec.template.spec.containers[*].resources', kinds: ['Deployment'] },
        { path: 'metadata.annotations["example.com/build"]', kinds: [] },
        { path: 'spec.replicas', kinds: ['Deployment.extensions'] },
      ],
      removeAnnotations: [],
      removeLabels: [],
    });
    expect(out).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', annotations: { team: 'shop' } },
      spec: { template: { spec: { containers: [{ name: 'web', image: 'web:1' }] } } },
    });
    // Kind.group for the core group is "Kind." (an empty group).
    expect(sanitize({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } }, { removeFields: [{ path: 'data', kinds: ['ConfigMap.'] }] })).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
    });
  });

  it('built-in lists can be switched off one by one or all, and entries of them kept', () => {
    const object = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'shop', uid: 'u', finalizers: ['x'], labels: { 'kubernetes.io/metadata.name': 'shop', team: 'a' }, annotations: { 'deployment.kubernetes.io/revision': '3' } },
      status: { phase: 'Active' },
    };
    expect(sanitize(object)).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'a' } } });
    expect(sanitize(object, { defaults: { status: true, serverOwnedMetadata: true, annotations: true, labels: false, serviceAllocations: true } }).metadata?.labels).toEqual(object.metadata.labels);
    expect(sanitize(object, { keepMetadata: ['finalizers'], keepAnnotations: ['deployment.kubernetes.io/*'] }).metadata).toEqual({
      name: 'shop',
      finalizers: ['x'],
      labels: { team: 'a' },
      annotations: { 'deployment.kubernetes.io/revision': '3' },
    });
    // defaults: false removes nothing of its own; what the config lists still goes.
    const none = { status: false, serverOwnedMetadata: false, annotations: false, labels: false, serviceAllocations: false };
    expect(sanitize(object, { defaults: none })).toEqual(object);
    expect(sanitize(object, { defaults: none, removeLabels: ['team'], removeFields: [{ path: 'status', kinds: [] }] })).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { ...object.metadata, labels: { 'kubernetes.io/metadata.name': 'shop' } },
    });
    // keep* exempts entries of the built-in lists only.
    expect(sanitize(object, { keepLabels: ['team'], removeLabels: ['team'] }).metadata?.labels).toBeUndefined();
  });

  it('a Deployment scaled by a controller hashes the same once spec.replicas is removed', () => {
    const config = { removeFields: [{ path: 'spec.replicas', kinds: ['Deployment'] }] };
    const at = (replicas: number, resourceVersion: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', resourceVersion, generation: replicas },
      spec: { replicas, selector: { matchLabels: { app: 'web' } } },
      status: { replicas },
    });
    expect(contentHash(renderYaml(sanitize(at(7, '9'), config)))).toBe(contentHash(renderYaml(sanitize(at(2, '3'), config))));
  });

  it('never mutates its input, and its output shares no object or array with it', () => {
    const input = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', uid: 'u', labels: { app: 'a' } }, spec: { clusterIP: '10.0.0.1', ports: [{ port: 80 }], when: new Date(0) }, status: {} };
    const copy = structuredClone(input);
    const out = sanitize(input, { removeFields: [{ path: 'spec.ports', kinds: [] }], removeAnnotations: [], removeLabels: [] });
    expect(input).toEqual(copy);
    (out.metadata?.labels as Record<string, string>)['app'] = 'changed';
    (out['spec'] as { when: Date }).when.setTime(5);
    expect(input).toEqual(copy);
    expect(out['spec']).toEqual({ when: new Date(5) });
  });

  it('makes a status-only or server-metadata-only change hash the same', () => {
    const before = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', resourceVersion: '1', managedFields: [] }, data: { k: 'v' }, status: { x: 1 } };
    const after = { ...before, metadata: { ...before.metadata, resourceVersion: '2', managedFields: [{ manager: 'm' }] }, status: { x: 2 } };
    expect(contentHash(renderYaml(sanitize(after)))).toBe(contentHash(renderYaml(sanitize(before))));
    const changed = { ...before, data: { k: 'w' } };
    expect(contentHash(renderYaml(sanitize(changed)))).not.toBe(contentHash(renderYaml(sanitize(before))));
  });
});

describe('renderYaml', () => {
  it('puts apiVersion, kind, metadata first, name and namespace first in metadata, sorts the rest', () => {
    const yaml = renderYaml({ spec: { b: 1, a: 2 }, metadata: { labels: { z: '1', a: '2' }, namespace: 'ns', name: 'x' }, kind: 'K', data: {}, apiVersion: 'v1' });
    expect(yaml).toBe('apiVersion: v1\nkind: K\nmetadata:\n  name: x\n  namespace: ns\n  labels:\n    a: "2"\n    z: "1"\ndata: {}\nspec:\n  a: 2\n  b: 1\n');
  });

  it('is deterministic regardless of key insertion order', () => {
    const a = renderYaml({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { x: '1', y: '2' } });
    const b = renderYaml({ data: { y: '2', x: '1' }, metadata: { name: 'a' }, kind: 'ConfigMap', apiVersion: 'v1' });
    expect(a).toBe(b);
  });

  it('keeps list order and quotes strings a YAML 1.1 reader would misread', () => {
    const yaml = renderYaml({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { flag: 'yes', other: 'on', time: '12:30', list: 'b' }, items: ['b', 'a'] });
    expect(yaml).toContain('flag: "yes"');
    expect(yaml).toContain('other: "on"');
    expect(yaml).toContain('time: "12:30"');
    expect(yaml).toContain('items:\n  - b\n  - a\n');
  });

  it('writes multi-line strings as block scalars', () => {
    expect(renderYaml({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { 'app.conf': 'a=1\nb=2\n' } })).toContain('app.conf: |\n    a=1\n    b=2\n');
  });
});

describe('contentHash', () => {
  it('is a 16-digit xxhash64 hex string, stable for equal text', () => {
    expect(contentHash('abc')).toMatch(/^[0-9a-f]{16}$/);
    expect(contentHash('abc')).toBe(contentHash('abc'));
    expect(contentHash('abc')).not.toBe(contentHash('abd'));
  });
});

describeNormalizerConformance('default sanitizer', {
  create: () => createDefaultSanitizer({ removeFields: [{ path: 'spec.replicas', kinds: [] }], removeAnnotations: ['example.com/*'], removeLabels: ['tmp'] }),
  samples: [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'n', uid: 'u', annotations: { 'example.com/a': 'x' } }, spec: { clusterIP: '10.0.0.1', ports: [{ port: 80 }] }, status: {} },
  ],
});

describe('GitOps controllers bookkeeping', () => {
  it('drops what Flux and Argo CD write onto the objects they apply, and keeps what a person writes for them', () => {
    const out = sanitize({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'app',
        namespace: 'shop',
        labels: { app: 'web', 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system', 'helm.toolkit.fluxcd.io/name': 'web' },
        annotations: {
          'argocd.argoproj.io/tracking-id': 'shop:/ConfigMap:shop/app',
          'argocd.argoproj.io/installation-id': 'prod',
          'kustomize.toolkit.fluxcd.io/checksum': 'abc',
          'config.kubernetes.io/origin': 'path: app.yaml',
          'kustomize.toolkit.fluxcd.io/prune': 'disabled',
          'argocd.argoproj.io/sync-wave': '2',
        },
      },
      data: { a: '1' },
    });
    expect(out.metadata).toEqual({
      name: 'app',
      namespace: 'shop',
      labels: { app: 'web' },
      annotations: { 'kustomize.toolkit.fluxcd.io/prune': 'disabled', 'argocd.argoproj.io/sync-wave': '2' },
    });
  });
});
