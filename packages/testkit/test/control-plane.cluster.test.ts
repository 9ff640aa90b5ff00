import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AdmissionWebhook, AuditReceiver, ControlPlaneAccess, createTestNamespace, freePort, TEST_USERS, until } from '../src/index.js';

const cluster = inject('testCluster');
const access = new ControlPlaneAccess(cluster);

function client(user: 'admin' | 'alice' = 'admin', impersonate?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(access.kubeconfigText(user, impersonate ? { impersonate } : {}));
  return kc;
}

interface WatchEvent {
  type: string;
  object: { metadata?: { name?: string; resourceVersion?: string }; code?: number; message?: string; data?: Record<string, string> };
}

/** Starts a watch and collects its events until stopped. */
async function collectWatch(kc: k8s.KubeConfig, path: string, query: Record<string, string>) {
  const events: WatchEvent[] = [];
  let ended: unknown;
  const controller = await new k8s.Watch(kc).watch(
    path,
    query,
    (type, object) => events.push({ type, object: object as WatchEvent['object'] }),
    (error) => (ended = error ?? 'ended'),
  );
  return { events, stop: () => controller.abort(), ended: () => ended };
}

describe('the test control plane (real kube-apiserver + etcd)', () => {
  let namespace: string;
  const audit = new AuditReceiver();

  beforeAll(async () => {
    namespace = await createTestNamespace(access, 'proof');
    await audit.listen(cluster.auditPort, { cert: cluster.auditCert, key: cluster.auditKey });
  });
  afterAll(async () => {
    await audit.close();
  });

  it('serves a CRD and its custom resources through discovery', async () => {
    const kc = client();
    const crds = kc.makeApiClient(k8s.ApiextensionsV1Api);
    await crds.createCustomResourceDefinition({
      body: {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'widgets.proof.example.com' },
        spec: {
          group: 'proof.example.com',
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } } }],
        },
      },
    });
    const discovery = kc.makeApiClient(k8s.CustomObjectsApi);
    let list: k8s.V1APIResourceList | undefined;
    const deadline = Date.now() + 20_000;
    while (!list?.resources.some((r) => r.name === 'widgets')) {
      if (Date.now() > deadline) throw new Error('widgets never appeared in discovery');
      list = await discovery.getAPIResources({ group: 'proof.example.com', version: 'v1' }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(list.resources.find((r) => r.name === 'widgets')).toMatchObject({ kind: 'Widget', namespaced: true, verbs: expect.arrayContaining(['list', 'watch']) });
    const groups = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
    expect(groups.groups.map((g) => g.name)).toContain('proof.example.com');
    await discovery.createNamespacedCustomObject({
      group: 'proof.example.com',
      version: 'v1',
      namespace,
      plural: 'widgets',
      body: { apiVersion: 'proof.example.com/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } },
    });
    const got = (await discovery.getNamespacedCustomObject({ group: 'proof.example.com', version: 'v1', namespace, plural: 'widgets', name: 'w1' })) as { spec?: { size?: number } };
    expect(got).toMatchObject({ kind: 'Widget', metadata: { name: 'w1', namespace }, spec: { size: 3 } });
  });

  it('streams ADDED, MODIFIED and DELETED for a ConfigMap to a watch', async () => {
    const kc = client();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const start = await core.listNamespacedConfigMap({ namespace });
    const watch = await collectWatch(kc, `/api/v1/namespaces/${namespace}/configmaps`, { resourceVersion: start.metadata?.resourceVersion ?? '0' });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'watched' }, data: { color: 'blue' } } });
    await core.replaceNamespacedConfigMap({ namespace, name: 'watched', body: { metadata: { name: 'watched' }, data: { color: 'green' } } });
    await core.deleteNamespacedConfigMap({ namespace, name: 'watched' });
    await until(() => watch.events.length >= 3, 'three watch events');
    watch.stop();
    expect(watch.events.map((e) => [e.type, e.object.metadata?.name, e.object.data?.['color']])).toEqual([
      ['ADDED', 'watched', 'blue'],
      ['MODIFIED', 'watched', 'green'],
      ['DELETED', 'watched', 'green'],
    ]);
  });

  it('answers 410 Gone to a watch from a compacted resourceVersion', async () => {
    const kc = client();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const template = (label: string) => ({
      metadata: { name: 'old', labels: { v: label } },
      template: { metadata: { labels: { v: label } }, spec: { containers: [{ name: 'c', image: 'example.invalid/c' }] } },
    });
    const created = await core.createNamespacedPodTemplate({ namespace, body: template('1') });
    // Two writes after the watched version: etcd keeps the compaction revision itself, so the watch
    // (which starts one after its resourceVersion) must start strictly below it.
    await core.replaceNamespacedPodTemplate({ namespace, name: 'old', body: template('2') });
    await core.replaceNamespacedPodTemplate({ namespace, name: 'old', body: template('3') });
    await access.compactEtcd();
    const watch = await collectWatch(kc, `/api/v1/namespaces/${namespace}/podtemplates`, { resourceVersion: created.metadata?.resourceVersion as string });
    const error = await until(() => watch.events.find((e) => e.type === 'ERROR'), 'the ERROR event');
    watch.stop();
    expect(error.object).toMatchObject({ kind: 'Status', code: 410, message: expect.stringContaining('too old') });
  });

  it('posts an audit EventList for a ConfigMap create, naming the requesting user', async () => {
    const core = client('alice').makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'audited' }, data: { k: 'v' } } });
    const event = await audit.waitFor((e) => e.verb === 'create' && e.objectRef?.namespace === namespace && e.objectRef?.name === 'audited');
    expect(event).toMatchObject({
      stage: 'ResponseComplete',
      user: { username: TEST_USERS.alice.name, uid: TEST_USERS.alice.uid, groups: expect.arrayContaining(['devs']) },
      objectRef: { resource: 'configmaps', namespace, name: 'audited', apiVersion: 'v1' },
      responseStatus: { code: 201 },
    });
    expect(event.responseObject).toMatchObject({ kind: 'ConfigMap', data: { k: 'v' } });
    expect(audit.bodies.some((b) => (b as { kind?: string }).kind === 'EventList')).toBe(true);
  });

  it('shows both users for an impersonated request', async () => {
    const core = client('admin', TEST_USERS.bob.name).makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'impersonated' }, data: { k: 'v' } } });
    const event = await audit.waitFor((e) => e.verb === 'create' && e.objectRef?.name === 'impersonated');
    expect(event.user.username).toBe(TEST_USERS.admin.name);
    expect(event.impersonatedUser?.username).toBe(TEST_USERS.bob.name);
  });

  it('calls a validating admission webhook registered on a loopback HTTPS URL, with the user', async () => {
    const webhook = new AdmissionWebhook(access, `proof-${namespace}`);
    await webhook.register({ port: await freePort(), cert: cluster.auditCert, key: cluster.auditKey, resources: ['configmaps'] });
    try {
      const core = client('alice').makeApiClient(k8s.CoreV1Api);
      // Registration takes a moment to reach the admission chain: retry until the webhook saw a create.
      const deadline = Date.now() + 20_000;
      let n = 0;
      while (!webhook.requests.some((r) => r.namespace === namespace && r.operation === 'CREATE')) {
        if (Date.now() > deadline) throw new Error('the webhook was never called');
        await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `admitted-${n++}` } } });
        await new Promise((r) => setTimeout(r, 200));
      }
      const request = webhook.requests.find((r) => r.namespace === namespace) as NonNullable<(typeof webhook.requests)[number]>;
      expect(request.userInfo.username).toBe(TEST_USERS.alice.name);
      expect(request.resource).toEqual({ group: '', version: 'v1', resource: 'configmaps' });
    } finally {
      await webhook.unregister();
    }
  });
});
