import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, Runtime, silentLogger } from '@gitops-reverser/kernel';
import { ControlPlane, createPki, freePort, issueCertificate, until } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Two API servers call one admission listener and feed one repository. The same namespace, name
// and content are written on both, by different people: each cluster's commit names its own
// writer. A fact of cluster A never authors a change of cluster B.

const dir = mkdtempSync(join(tmpdir(), 'gr-admission-two-'));
const pki = createPki(join(dir, 'pki'));
const serving = issueCertificate(pki, 'admission', { commonName: 'admission', sans: ['IP:127.0.0.1'] });
const TOKEN = 'two-clusters-admission-token-0123';
const repo = join(dir, 'state-repo');
let port: number;
let planes: Record<'east' | 'west', ControlPlane>;
let runtime: Runtime;

async function call(plane: ControlPlane, method: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await plane.request(method, path, { body, headers: { ...(method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {}), ...headers } });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.body.slice(0, 200)}`);
}

beforeAll(async () => {
  port = await freePort();
  const [east, west] = await Promise.all(
    (['east', 'west'] as const).map((cluster) => ControlPlane.start({ pki, dataDir: join(dir, cluster), admissionWebhookClient: { host: `127.0.0.1:${port}`, token: TOKEN } })),
  );
  planes = { east: east as ControlPlane, west: west as ControlPlane };
  for (const [cluster, plane] of Object.entries(planes)) {
    writeFileSync(join(dir, `${cluster}.kubeconfig`), plane.kubeconfigText('admin'));
    await call(plane, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    await call(plane, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'people' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: ['jane', 'bob'].map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name })),
    });
  }
  const sources = (['east', 'west'] as const)
    .map(
      (cluster) => `  - { use: "@gitops-reverser/source-informer", cluster: ${cluster}, with: { kubeconfig: ./${cluster}.kubeconfig } }
  - { use: "@gitops-reverser/source-admission", cluster: ${cluster}, with: { listen: { port: ${port} }, tls: { certFile: "${serving.cert}", keyFile: "${serving.key}" }, auth: { token: ${TOKEN} } } }`,
    )
    .join('\n');
  runtime = await Runtime.create(
    parseConfig(
      `apiVersion: gitops-reverser/v1alpha2
sources:
${sources}
attribution: { waitMs: 5000 }
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: local, url: ./state-repo } ] } }
targets: [ { name: live, with: { provider: local, branch: main, path: clusters, layout: "{cluster}/{namespace}/{resource}/{name}.yaml" } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [shop], resources: [configmaps] } ]
`,
      join(dir, 'config.yaml'),
    ),
    { logger: silentLogger() },
  );
  await runtime.start();
  for (const [cluster, plane] of Object.entries(planes)) {
    await call(plane, 'POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'gitops-reverser' },
      webhooks: [
        {
          name: 'attribution.gitops-reverser.io',
          clientConfig: { url: `https://127.0.0.1:${port}/admission/${cluster}`, caBundle: readFileSync(pki.caCert).toString('base64') },
          rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], operations: ['CREATE', 'UPDATE', 'DELETE'] }],
          failurePolicy: 'Ignore',
          sideEffects: 'None',
          timeoutSeconds: 2,
          admissionReviewVersions: ['v1'],
        },
      ],
    });
  }
}, 600_000);

afterAll(async () => {
  await runtime?.stop('test done');
  await Promise.all(Object.values(planes ?? {}).map((plane) => plane.stop()));
});

const authors = (cluster: string) => {
  try {
    return execFileSync('git', ['-C', repo, 'log', '--format=%an|%(trailers:key=Attribution,valueonly,separator=)', 'main', '--', `clusters/${cluster}/shop/configmaps/same.yaml`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .trim()
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
};

describe('admission facts of two clusters in one repository', () => {
  it("the same namespace, name and content written on both by different people: each commit names its own cluster's writer", async () => {
    const same = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'same' }, data: { identical: 'yes' } };
    // jane on east and bob on west, at the same moment, with identical content (and so an identical content hash).
    await Promise.all([
      call(planes.east, 'POST', '/api/v1/namespaces/shop/configmaps', same, { 'impersonate-user': 'jane' }),
      call(planes.west, 'POST', '/api/v1/namespaces/shop/configmaps', same, { 'impersonate-user': 'bob' }),
    ]);
    await until(() => (authors('east').length === 1 && authors('west').length === 1) || undefined, 'both commits', 30_000);
    await Promise.all([
      call(planes.east, 'PATCH', '/api/v1/namespaces/shop/configmaps/same', { data: { identical: 'again' } }, { 'impersonate-user': 'bob' }),
      call(planes.west, 'PATCH', '/api/v1/namespaces/shop/configmaps/same', { data: { identical: 'again' } }, { 'impersonate-user': 'jane' }),
    ]);
    await until(() => (authors('east').length === 2 && authors('west').length === 2) || undefined, 'both updates', 30_000);
    expect(authors('east')).toEqual(['bob|admission', 'jane|admission']);
    expect(authors('west')).toEqual(['jane|admission', 'bob|admission']);
  });
});
