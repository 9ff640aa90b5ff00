import { KernelMetrics, type Runtime } from '@gitops-reverser/kernel';
import { createTestNamespace, GitHttpServer } from '@gitops-reverser/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { access, api, configMap, mirrorSetup, show, subjects, until } from './e2e-helpers.js';

// A field a controller keeps changing, left out with sanitizer.removeFields, never makes a commit:
// an HPA-style scaler sets spec.replicas of a Deployment through its scale subresource 100 times.

let server: GitHttpServer;
let runtimes: Runtime[] = [];
beforeAll(async () => {
  server = new GitHttpServer({ credentials: { username: 'bot', password: 'pw' } });
  await server.start();
});
afterAll(async () => {
  await server.dispose();
});
afterEach(async () => {
  for (const runtime of runtimes) await runtime.stop('test done');
  runtimes = [];
});

async function counted(metrics: KernelMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []).filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + Number(v.value), 0);
}

describe('field excludes end to end', () => {
  it('spec.replicas changed 100 times by a scaler makes zero commits, and the file has no replicas', async () => {
    const ns = await createTestNamespace(access, 'hpa');
    await api('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              { name: 'web', image: 'registry.example.com/web:1' },
              { name: 'istio-proxy', image: 'proxy:1' },
            ],
          },
        },
      },
    });
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('marker', { step: '0' }));
    const { repo, start } = mirrorSetup(
      server,
      `  - { target: live, namespaces: [${ns}], apiGroups: ["", apps], resources: [configmaps, deployments] }`,
      {
        extra: `sanitizer:
  removeFields:
    - { path: spec.replicas, kinds: [Deployment.apps] }
    - spec.template.spec.containers[name=istio-proxy]`,
      },
      (runtime) => runtimes.push(runtime),
    );
    const metrics = new KernelMetrics();
    await start(undefined, metrics);
    await until(() => subjects(repo)[0] === 'reconciled 2 resources' || undefined, 'the seed commit');
    const path = `clusters/e2e/${ns}/apps/deployments/web.yaml`;
    const seeded = show(repo, path);
    expect(seeded).not.toContain('replicas');
    expect(seeded).not.toContain('istio-proxy');
    expect(seeded).toContain('image: registry.example.com/web:1');

    const before = await counted(metrics, 'gitops_reverser_events_received_total', { phase: 'live' });
    for (let replicas = 2; replicas <= 101; replicas++) {
      await api('PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/web/scale`, { spec: { replicas } });
    }
    // The 100 changes reached the kernel ...
    await until(async () => (await counted(metrics, 'gitops_reverser_events_received_total', { phase: 'live' })) >= before + 100 || undefined, '100 live changes');
    // ... and anything they wrote would be committed before this later change of another object.
    await api('PATCH', `/api/v1/namespaces/${ns}/configmaps/marker`, { data: { step: '1' } });
    await until(() => subjects(repo)[0] === `[UPDATE] v1/configmaps/${ns}/marker` || undefined, 'the marker commit');
    expect(subjects(repo)).toEqual([`[UPDATE] v1/configmaps/${ns}/marker`, 'reconciled 2 resources']);
    expect(show(repo, path)).toBe(seeded);
    expect(await counted(metrics, 'gitops_reverser_events_suppressed_total', { reason: 'unchanged' })).toBeGreaterThanOrEqual(100);
    const live = await api('GET', `/apis/apps/v1/namespaces/${ns}/deployments/web`);
    expect((live.json['spec'] as { replicas: number }).replicas).toBe(101);
  });
});
