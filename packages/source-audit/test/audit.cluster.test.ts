import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '@gitops-reverser/contract/conformance';
import { parseConfig, Runtime } from '@gitops-reverser/kernel';
import { ControlPlane, ControlPlaneAccess, controlPlaneBinaries, createPki, freePort, issueCertificate, until } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Two real API servers post their audit webhooks to our receiver: "main" is also watched (the audit
// source names the actors of its watch changes), "edge" is audit-only (the audit stream alone is the
// source). The same writes on both must give the same files and the same authors.

const dir = mkdtempSync(join(tmpdir(), 'gr-audit-e2e-'));
const pki = createPki(join(dir, 'pki'));
const serving = issueCertificate(pki, 'audit-listener', { commonName: 'audit-listener', sans: ['IP:127.0.0.1'] });
const MAIN_TOKEN = 'main-cluster-audit-token';
const EDGE_TOKEN = 'edge-cluster-audit-token';
const repo = join(dir, 'state-repo');
const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });

let main: ControlPlane;
let edge: ControlPlane;
let runtime: Runtime;
let port: number;
// Kept to say what went wrong when the wait below runs out.
const logger = memoryLogger();

beforeAll(async () => {
  port = await freePort();
  [main, edge] = await Promise.all([
    ControlPlane.start({ pki, dataDir: join(dir, 'main'), audit: { url: `https://127.0.0.1:${port}/audit-webhook/main`, caFile: pki.caCert, token: MAIN_TOKEN, batchMaxWaitMs: 200 } }),
    ControlPlane.start({ pki, dataDir: join(dir, 'edge'), audit: { url: `https://127.0.0.1:${port}/audit-webhook/edge`, caFile: pki.caCert, token: EDGE_TOKEN, batchMaxWaitMs: 200 } }),
  ]);
  writeFileSync(join(dir, 'main.kubeconfig'), new ControlPlaneAccess(main.info).kubeconfigText('admin'));
  const audit = (cluster: string, token: string, mode: string) =>
    `{ use: "@gitops-reverser/source-audit", cluster: ${cluster}, name: audit-${cluster}, with: { listen: { port: ${port} }, tls: { certFile: "${serving.cert}", keyFile: "${serving.key}" }, auth: { token: ${token} }, mode: ${mode} } }`;
  const yaml = `apiVersion: gitops-reverser/v1alpha2
shutdown: { timeoutSeconds: 10 }
sources:
  - { use: "@gitops-reverser/source-informer", cluster: main, with: { kubeconfig: ./main.kubeconfig } }
  - ${audit('main', MAIN_TOKEN, 'attribute')}
  - ${audit('edge', EDGE_TOKEN, 'changes')}
attribution: { waitMs: 5000 }
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: local, url: ./state-repo } ] } }
targets:
  - { name: main, with: { provider: local, branch: main, path: clusters/main } }
  - { name: edge, with: { provider: local, branch: main, path: clusters/edge } }
rules:
  - { target: main, clusters: [main], scope: Namespaced, namespaces: [team], resources: [configmaps] }
  - { target: edge, clusters: [edge], scope: Namespaced, namespaces: [team], resources: [configmaps] }
`;
  runtime = await Runtime.create(parseConfig(yaml, join(dir, 'config.yaml')), { logger });
  await runtime.start();
}, 600_000);

afterAll(async () => {
  await runtime?.stop('test done');
  await Promise.all([main?.stop(), edge?.stop()]);
});

/** Authors of the commits touching a file, newest first ([] before the branch's first commit). */
const authors = (path: string) =>
  branchExists() ? git('log', '--format=%an <%ae>|%(trailers:key=Impersonated-By,valueonly,separator=%x2C)', 'main', '--', path).trim().split('\n').filter(Boolean) : [];
const branchExists = () => {
  try {
    git('rev-parse', '--verify', '--quiet', 'refs/heads/main');
    return true;
  } catch {
    return false;
  }
};

async function call(plane: ControlPlane, method: string, path: string, options: { user?: 'admin' | 'alice' | 'bob'; token?: string; body?: unknown } = {}) {
  const response = await new ControlPlaneAccess(plane.info).request(method, path, {
    ...(options.user ? { user: options.user } : {}),
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.token ? { headers: { authorization: `Bearer ${options.token}` } } : {}),
  });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.body.slice(0, 200)}`);
  return JSON.parse(response.body || '{}') as Record<string, unknown>;
}

/** The same writes, by the same people, on one API server. */
async function writes(plane: ControlPlane): Promise<void> {
  const access = new ControlPlaneAccess(plane.info);
  await call(plane, 'POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } } });
  await call(plane, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles', {
    body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'cm-writer' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'update', 'delete'] }] },
  });
  await call(plane, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings', {
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'jane' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-writer' },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'jane' }],
    },
  });
  // 1. kubectl --as=jane, run by admin: jane is the author, admin the impersonator.
  const kubeconfig = join(dir, `${plane.info.server.split(':').pop()}.kubeconfig`);
  writeFileSync(kubeconfig, access.kubeconfigText('admin'));
  execFileSync(controlPlaneBinaries().kubectl, ['--kubeconfig', kubeconfig, '--as=jane', '-n', 'team', 'create', 'configmap', 'jane-cm', '--from-literal=owner=jane'], { stdio: 'pipe' });
  // 2. alice with her own token.
  await call(plane, 'POST', '/api/v1/namespaces/team/configmaps', { user: 'alice', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'alice-cm' }, data: { owner: 'alice' } } });
  // 3. A service account's token.
  await call(plane, 'POST', '/api/v1/namespaces/team/serviceaccounts', { body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'deployer' } } });
  await call(plane, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings', {
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'deployer' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-writer' },
      subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: 'team' }],
    },
  });
  const token = (
    await call(plane, 'POST', '/api/v1/namespaces/team/serviceaccounts/deployer/token', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } } })
  )['status'] as { token: string };
  await call(plane, 'POST', '/api/v1/namespaces/team/configmaps', { token: token.token, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sa-cm' }, data: { owner: 'deployer' } } });
  // 4. Three objects made by admin, removed by bob in one deletecollection.
  for (const name of ['batch-1', 'batch-2', 'batch-3'])
    await call(plane, 'POST', '/api/v1/namespaces/team/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { batch: 'x' } }, data: { n: name } } });
  await call(plane, 'DELETE', '/api/v1/namespaces/team/configmaps?labelSelector=batch%3Dx', { user: 'bob' });
}

describe('source-audit against two real API servers', () => {
  it('authors every commit with the real actor, watched or audit-only, the same files and authors on both', async () => {
    await writes(main);
    await writes(edge);
    const file = (cluster: string, name: string) => `clusters/${cluster}/team/configmaps/${name}.yaml`;
    // Commits each file must have: creates, and the three deletes of one deletecollection.
    const expected: Record<string, number> = { 'jane-cm': 1, 'alice-cm': 1, 'sa-cm': 1, 'batch-1': 2, 'batch-2': 2, 'batch-3': 2 };
    const missing = () =>
      ['main', 'edge'].flatMap((c) => Object.entries(expected).flatMap(([name, n]) => (authors(file(c, name)).length < n ? [`${c}/${name}: ${authors(file(c, name)).length} of ${n} commits`] : [])));
    try {
      await until(() => missing().length === 0 || undefined, 'every write and delete on both clusters', 60_000);
    } catch (error) {
      // Lost or late: which writes are not in git, what the writer and the API servers' audit webhooks said.
      const said = logger.lines.filter((line) => line.level === 'warn' || line.level === 'error').map((line) => `${line.level} ${line.message}`);
      const webhook = (plane: ControlPlane) =>
        readFileSync(join(plane.info.dataDir, 'kube-apiserver.log'), 'utf8')
          .split('\n')
          .filter((line) => /audit|webhook/i.test(line) && /error|fail|drop/i.test(line));
      throw new Error(
        `${(error as Error).message}; missing: ${missing().join(', ')}; writer: ${said.slice(-20).join(' | ')}; main's webhook: ${webhook(main).slice(-5).join(' | ')}; edge's webhook: ${webhook(edge).slice(-5).join(' | ')}`,
      );
    }
    for (const cluster of ['main', 'edge']) {
      expect(authors(file(cluster, 'jane-cm'))).toEqual(['jane <jane@main.cluster.local>|admin'.replace('main.', `${cluster}.`)]);
      expect(authors(file(cluster, 'alice-cm'))).toEqual(['alice@example.com <alice@example.com>|']);
      expect(authors(file(cluster, 'sa-cm'))).toEqual([`system:serviceaccount:team:deployer <system-serviceaccount-team-deployer@${cluster}.cluster.local>|`]);
      for (const name of ['batch-1', 'batch-2', 'batch-3']) {
        expect(authors(file(cluster, name))).toEqual([`bob <bob@${cluster}.cluster.local>|`, `admin <admin@${cluster}.cluster.local>|`]);
      }
    }
    // Audit-only writes the same content the watch does.
    for (const name of ['jane-cm', 'alice-cm', 'sa-cm']) expect(git('show', `main:${file('edge', name)}`)).toBe(git('show', `main:${file('main', name)}`));
    git('fsck', '--strict');
  });
});
