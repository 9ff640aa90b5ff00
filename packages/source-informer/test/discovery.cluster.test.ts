import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { silentLogger } from '@gitops-reverser/kernel';
import { describe, expect, it } from 'vitest';
import { type DiscoveryResult, discover, discoverEachGroupVersion, type ServedResource } from '../src/discovery.js';
import { KubeClient } from '../src/kube-client.js';
import { kubeconfig, tempDir } from './e2e-helpers.js';

/** What the watches are resolved from: groups in order, and the whole types (subresources never are). */
function watchable(result: DiscoveryResult) {
  const key = (r: ServedResource) => `${r.group}/${r.version}/${r.resource}`;
  return {
    groups: result.groups,
    resources: result.resources.filter((r) => !r.resource.includes('/')).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)),
  };
}

/** The paths this process requests while `run` runs. */
async function requestsDuring<T>(run: () => Promise<T>): Promise<{ result: T; paths: string[] }> {
  const paths: string[] = [];
  const onStart = ({ request }: { request: ClientRequest }) => paths.push(request.path);
  diagnostics.subscribe('http.client.request.start', onStart as (message: unknown) => void);
  try {
    return { result: await run(), paths };
  } finally {
    diagnostics.unsubscribe('http.client.request.start', onStart as (message: unknown) => void);
  }
}

describe('discovery against the real API server', () => {
  it('reads every group and type from the aggregated answers of /api and /apis: two requests, the same as one per group version', async () => {
    const client = await KubeClient.load({ kubeconfig: kubeconfig(tempDir()) });
    // Other test files add and remove types on the shared server meanwhile: compared until one pair agrees.
    let aggregated = await requestsDuring(() => discover(client, silentLogger()));
    let each = await requestsDuring(() => discoverEachGroupVersion(client, silentLogger()));
    for (let attempt = 0; attempt < 5 && JSON.stringify(watchable(aggregated.result)) !== JSON.stringify(watchable(each.result)); attempt++) {
      aggregated = await requestsDuring(() => discover(client, silentLogger()));
      each = await requestsDuring(() => discoverEachGroupVersion(client, silentLogger()));
    }
    expect(aggregated.paths.sort()).toEqual(['/api', '/apis']);
    // The request per group version reads the same server: many more requests, the same answer.
    expect(each.paths.length).toBeGreaterThan(10);
    expect(watchable(aggregated.result)).toEqual(watchable(each.result));
    const configMaps = aggregated.result.resources.find((r) => r.group === '' && r.resource === 'configmaps');
    expect(configMaps).toEqual({ group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true, verbs: expect.arrayContaining(['list', 'watch']) });
    expect(aggregated.result.groups.find((g) => g.name === 'apps')?.preferredVersion).toBe('v1');
  });
});
