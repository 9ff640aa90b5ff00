import type { ChangeEvent, SourceContext } from '@gitops-reverser/contract';
import { memoryLogger, noopMetrics } from '@gitops-reverser/contract/conformance';
import { createTestNamespace } from '@gitops-reverser/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { InformerSource } from '../src/informer-source.js';
import { access, kubeconfig, tempDir, until } from './e2e-helpers.js';

// Writers keep the files of objects changed after a snapshot's list (ADR 0040): that needs the
// resourceVersion each type was listed at, which only the real API server gives.

let source: InformerSource | undefined;
afterEach(async () => {
  await source?.stop();
  source = undefined;
});

async function createConfigMap(ns: string, name: string): Promise<bigint> {
  const response = await access.request('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { name } } });
  if (response.status !== 201) throw new Error(`cannot create ${name}: ${response.status} ${response.body}`);
  return BigInt((JSON.parse(response.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
}

describe('source-informer: what a snapshot is as of', () => {
  it('completes each snapshot with the resourceVersion it listed each type at: its seeds are at most that, later changes newer', async () => {
    const ns = await createTestNamespace(access, 'snap-rv');
    const before = await createConfigMap(ns, 'before');
    const events: ChangeEvent[] = [];
    const completions: { resourceVersions?: Readonly<Record<string, string>> }[] = [];
    const context: SourceContext = {
      clusterId: 'e2e',
      selection: {
        targets: ['t'],
        rules: [
          {
            target: 't',
            scope: 'Namespaced',
            clusters: [],
            namespaces: [ns],
            apiGroups: [''],
            apiVersions: [],
            resources: ['configmaps', 'secrets'],
            operations: [],
            plaintextSecrets: true,
            keyPath: 'rules[0]',
          },
        ],
      },
      logger: memoryLogger(),
      metrics: noopMetrics(),
      emit: async (event) => {
        events.push(event);
      },
      attribute: async () => undefined,
      beginSnapshot: () => ({
        snapshotId: 's1',
        emit: async (event) => {
          events.push({ ...event, phase: 'seed', snapshotId: 's1' });
        },
        complete: async (options = {}) => {
          completions.push(options);
        },
      }),
    };
    source = new InformerSource({ kubeconfig: kubeconfig(tempDir()), excludeResources: [], rediscoverySeconds: 300, watchTimeoutSeconds: 60, listPageSize: 100, listConcurrency: 2 });
    await source.start(context);
    await until(() => completions.length === 1 || undefined, 'the start snapshot');
    const versions = completions[0]?.resourceVersions ?? {};
    // Both types listed, even the one without objects; the core group is the empty one.
    expect(Object.keys(versions).sort()).toEqual(['/configmaps', '/secrets']);
    const listed = BigInt(versions['/configmaps'] ?? '0');
    expect(listed).toBeGreaterThanOrEqual(before);
    const seeds = events.filter((event) => event.phase === 'seed');
    expect(seeds.map((event) => event.identity.name)).toEqual(['before']);
    expect(seeds.every((event) => BigInt(event.resourceVersion) <= listed)).toBe(true);
    const after = await createConfigMap(ns, 'after');
    await until(() => events.find((event) => event.phase === 'live' && event.identity.name === 'after'), 'the live create');
    expect(after).toBeGreaterThan(listed);
  });
});
