import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, parseConfig, Runtime, silentLogger } from '@gitops-reverser/kernel';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlPlane, controlPlaneBinaries, createPki, freePort, issueCertificate, NatsServer, TcpProxy, until } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A real API server calls our validating admission webhook (no audit webhook in these scenarios):
// every write by kubectl, a ServiceAccount or two users in a row is committed with its author and
// `Attribution: admission`. The API server presents a token through its admission kubeconfig (what a
// self-managed cluster can configure); the webhook always allows.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = mkdtempSync(join(tmpdir(), 'gr-admission-e2e-'));
const pki = createPki(join(dir, 'pki'));
const serving = issueCertificate(pki, 'admission', { commonName: 'admission', sans: ['IP:127.0.0.1'] });
const CLUSTER = 'adm';
const TOKEN = 'admission-caller-token-0123456789';
const repo = join(dir, 'state-repo');
const NS = 'shop';

const AUDIT_TOKEN = 'audit-caller-token-0123456789';
const BOTH = 'both';
const HA = 'ha';

let plane: ControlPlane;
let runtime: Runtime;
/** The admission address of the two-replica scenario: points at the replica that does not write. */
let haFront: TcpProxy;
let haFrontPort: number;
/** Where the API server's audit webhook posts: the runtime of the "both" scenario listens behind it. */
let auditFront: TcpProxy;
let auditPort: number;
/** The webhook's address as the API server knows it: a forwarder we can point at the source or at nothing. */
let front: TcpProxy;
let admissionPort: number;

const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
const file = (resource: string, name: string, group = '') => `clusters/${CLUSTER}/${NS}/${group ? `${group}/` : ''}${resource}/${name}.yaml`;

/** Author and trailers of each commit touching a file, newest first. */
function history(path: string): { author: string; attribution: string; admissionUid: string; fieldManager: string }[] {
  let log = '';
  try {
    log = git('log', '--format=%an%x01%(trailers:key=Attribution,valueonly)%x01%(trailers:key=Admission-UID,valueonly)%x01%(trailers:key=Field-Manager,valueonly)%x02', 'main', '--', path);
  } catch {
    return [];
  }
  return log
    .split('\x02')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [author = '', attribution = '', admissionUid = '', fieldManager = ''] = entry.split('\x01').map((part) => part.trim());
      return { author, attribution, admissionUid, fieldManager };
    });
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await plane.request(method, path, {
    ...(body === undefined ? {} : { body }),
    headers: { ...(method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {}), ...headers },
  });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.body.slice(0, 300)}`);
  return JSON.parse(response.body || '{}') as Record<string, unknown>;
}

/**
 * kubectl as admin, impersonating `as` when given. Asynchronous: the webhook answers from this very
 * process, so the test must not block its event loop while the API server calls it.
 */
async function kubectl(args: string[], options: { as?: string; input?: string; env?: Record<string, string> } = {}): Promise<string> {
  const child = execFile(controlPlaneBinaries().kubectl, ['--kubeconfig', join(dir, 'kubeconfig'), ...(options.as ? [`--as=${options.as}`] : []), '-n', NS, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
  });
  child.stdin?.end(options.input ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  if (code !== 0) throw new Error(`kubectl ${args.join(' ')}: exit ${code}: ${stderr}`);
  return stdout;
}

/** The ValidatingWebhookConfiguration as the chart renders it: failurePolicy Ignore, sideEffects None, 2 s. */
function webhookConfiguration(port: number) {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'gitops-reverser-test' },
    webhooks: [webhook(port, CLUSTER, NS), webhook(port, BOTH, BOTH), webhook(haFrontPort, HA, HA)],
  };
}

/** One webhook entry: the cluster id's path, the namespace it covers. */
function webhook(port: number, cluster: string, namespace: string) {
  return {
    name: `${cluster}.attribution.gitops-reverser.io`,
    clientConfig: { url: `https://127.0.0.1:${port}/admission/${cluster}`, caBundle: Buffer.from(readFileSync(pki.caCert)).toString('base64') },
    rules: [
      { apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], operations: ['CREATE', 'UPDATE', 'DELETE'], scope: 'Namespaced' },
      { apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments', 'deployments/scale'], operations: ['CREATE', 'UPDATE', 'DELETE'], scope: 'Namespaced' },
    ],
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
    failurePolicy: 'Ignore',
    sideEffects: 'None',
    timeoutSeconds: 2,
    admissionReviewVersions: ['v1'],
  };
}

beforeAll(async () => {
  admissionPort = await freePort();
  front = new TcpProxy('127.0.0.1', admissionPort);
  const frontPort = await front.start();
  haFront = new TcpProxy('127.0.0.1', 1);
  haFrontPort = await haFront.start();
  auditPort = await freePort();
  auditFront = new TcpProxy('127.0.0.1', auditPort);
  const auditFrontPort = await auditFront.start();
  plane = await ControlPlane.start({
    pki,
    dataDir: join(dir, 'plane'),
    // Every webhook address of this file (the in-process runtime's, the replicas') takes the same token.
    admissionWebhookClient: { host: '*', token: TOKEN },
    audit: { url: `https://127.0.0.1:${auditFrontPort}/audit-webhook/${BOTH}`, caFile: pki.caCert, token: AUDIT_TOKEN, batchMaxWaitMs: 200 },
  });
  writeFileSync(join(dir, 'kubeconfig'), plane.kubeconfigText('admin'));
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: BOTH } });
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: HA } });
  await call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'admission-test-people' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: ['jane', 'bob', 'carol'].map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name })),
  });
  writeFileSync(join(dir, 'informer.kubeconfig'), plane.kubeconfigText('admin'));
  runtime = await Runtime.create(
    parseConfig(
      `apiVersion: gitops-reverser/v1alpha2
sources:
  - { use: "@gitops-reverser/source-informer", cluster: ${CLUSTER}, with: { kubeconfig: ./informer.kubeconfig } }
  - { use: "@gitops-reverser/source-admission", cluster: ${CLUSTER}, with: { listen: { port: ${admissionPort} }, tls: { certFile: "${serving.cert}", keyFile: "${serving.key}" }, auth: { token: ${TOKEN} } } }
attribution: { waitMs: 5000 }
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: local, url: ./state-repo } ] } }
targets: [ { name: live, with: { provider: local, branch: main, path: clusters/${CLUSTER} } } ]
rules:
  - { target: live, scope: Namespaced, namespaces: [${NS}], apiGroups: ["", apps], resources: [configmaps, deployments] }
`,
      join(dir, 'config.yaml'),
    ),
    { logger: process.env['DEBUG_ADMISSION'] ? createLogger('debug') : silentLogger() },
  );
  await runtime.start();
  await call('POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', webhookConfiguration(frontPort));
}, 600_000);

afterAll(async () => {
  await runtime?.stop('test done');
  await plane?.stop();
  await front?.stop();
  await auditFront?.stop();
  await haFront?.stop();
});

describe('source-admission against a real API server (no audit webhook)', () => {
  it('kubectl --as=jane create / apply / edit / patch / scale / delete: each commit authored by jane, Attribution: admission', async () => {
    // Made through the webhook too, by admin: a deployment jane scales, and a configmap the others change.
    await kubectl(['create', 'configmap', 'settings', '--from-literal=color=blue'], { as: 'jane' });
    await until(() => history(file('configmaps', 'settings')).length === 1 || undefined, 'the create commit', 30_000);
    await kubectl(['apply', '-f', '-'], { as: 'jane', input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings, namespace: shop }\ndata: { color: green }\n' });
    await until(() => history(file('configmaps', 'settings')).length === 2 || undefined, 'the apply commit', 30_000);
    const editor = join(dir, 'editor.sh');
    writeFileSync(editor, '#!/bin/sh\nsed -i \'s/color: green/color: red/\' "$1"\n');
    chmodSync(editor, 0o755);
    await kubectl(['edit', 'configmap', 'settings'], { as: 'jane', env: { KUBE_EDITOR: editor } });
    await until(() => history(file('configmaps', 'settings')).length === 3 || undefined, 'the edit commit', 30_000);
    await kubectl(['patch', 'configmap', 'settings', '--type=merge', '-p', '{"data":{"size":"L"}}'], { as: 'jane' });
    await until(() => history(file('configmaps', 'settings')).length === 4 || undefined, 'the patch commit', 30_000);
    await kubectl(['delete', 'configmap', 'settings'], { as: 'jane' });
    await until(() => history(file('configmaps', 'settings')).length === 5 || undefined, 'the delete commit', 30_000);
    const settings = history(file('configmaps', 'settings'));
    expect(settings.map((c) => [c.author, c.attribution])).toEqual(Array.from({ length: 5 }, () => ['jane', 'admission']));
    expect(settings.every((c) => /^[0-9a-f-]{36}$/.test(c.admissionUid))).toBe(true);

    await kubectl(['create', 'deployment', 'web', '--image=registry.example/web:1', '--replicas=1'], { as: 'bob' });
    await until(() => history(file('deployments', 'web', 'apps')).length === 1 || undefined, 'the deployment', 30_000);
    await kubectl(['scale', 'deployment', 'web', '--replicas=3'], { as: 'jane' });
    await until(() => history(file('deployments', 'web', 'apps')).length === 2 || undefined, 'the scale commit', 30_000);
    expect(history(file('deployments', 'web', 'apps')).map((c) => [c.author, c.attribution])).toEqual([
      ['jane', 'admission'],
      ['bob', 'admission'],
    ]);
    expect(git('show', `main:${file('deployments', 'web', 'apps')}`)).toContain('replicas: 3');
  });

  it("a ServiceAccount token's write is authored by that service account", async () => {
    await call('POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'deployer' } });
    await call('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'cm-writer' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'update', 'patch', 'delete'] }],
    });
    await call('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'deployer' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-writer' },
      subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: NS }],
    });
    const token = (await call('POST', `/api/v1/namespaces/${NS}/serviceaccounts/deployer/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } }))[
      'status'
    ] as { token: string };
    await call('POST', `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-ci' }, data: { by: 'ci' } }, { authorization: `Bearer ${token.token}` });
    await until(() => history(file('configmaps', 'from-ci')).length === 1 || undefined, 'the service account commit', 30_000);
    expect(history(file('configmaps', 'from-ci'))[0]).toMatchObject({ author: 'system:serviceaccount:shop:deployer', attribution: 'admission' });
  });

  it('two users updating one object back to back: each commit its own author; identical content by a second user: the first author, no second commit', async () => {
    await kubectl(['create', 'configmap', 'shared', '--from-literal=v=0'], { as: 'carol' });
    await until(() => history(file('configmaps', 'shared')).length === 1 || undefined, 'the create', 30_000);
    await kubectl(['patch', 'configmap', 'shared', '--type=merge', '-p', '{"data":{"v":"1"}}'], { as: 'jane' });
    await kubectl(['patch', 'configmap', 'shared', '--type=merge', '-p', '{"data":{"v":"2"}}'], { as: 'bob' });
    await until(() => history(file('configmaps', 'shared')).length === 3 || undefined, 'both updates', 30_000);
    // The same content again by carol: the API server stores nothing new, so nothing is committed, and her fact authors nothing else.
    await kubectl(['patch', 'configmap', 'shared', '--type=merge', '-p', '{"data":{"v":"2"}}'], { as: 'carol' });
    await kubectl(['patch', 'configmap', 'shared', '--type=merge', '-p', '{"data":{"v":"3"}}'], { as: 'jane' });
    await until(() => history(file('configmaps', 'shared')).length === 4 || undefined, 'the last update', 30_000);
    expect(history(file('configmaps', 'shared')).map((c) => c.author)).toEqual(['jane', 'bob', 'jane', 'carol']);
  });

  it('rejects callers without the configured credentials (401/403) and survives 10,000 fuzzed bodies (4xx, no crash), still attributing real writes', async () => {
    // One agent: its keep-alive connections are reused (an agent per request would pile up open
    // connections until the listener's maxConnections refuses more).
    const agent = new Agent({ ca: readFileSync(pki.caCert), keepAlive: true, maxSockets: 8 });
    const post = (body: string | Buffer, authorization?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: admissionPort,
            path: `/admission/${CLUSTER}`,
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const review = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'x', operation: 'CREATE' } });
    expect(await post(review)).toBe(401);
    expect(await post(review, 'Bearer wrong-token-0123456789abcdef')).toBe(403);
    expect(
      await new Promise<number>((resolve) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: admissionPort,
            path: '/admission/other-cluster',
            method: 'POST',
            agent: new Agent({ ca: readFileSync(pki.caCert) }),
            headers: { authorization: `Bearer ${TOKEN}` },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.end('{}');
      }),
    ).toBe(403);

    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const shapes = [
      () => Buffer.from(Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256))),
      () =>
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          request: { uid: random() > 0.5 ? 'u' : 7, resource: random() > 0.5 ? null : { group: 5 }, operation: 'UPDATE', userInfo: 'x', object: [] },
        }),
      () =>
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          request: {
            uid: 'fuzz',
            resource: { group: '', version: 'v1', resource: 'configmaps' },
            operation: 'CREATE',
            userInfo: { username: 'mallory' },
            object: { metadata: { name: 'x'.repeat(Math.floor(random() * 5000)) } },
          },
        }),
      () => `{"request":${'['.repeat(Math.floor(random() * 2000))}`,
      () => JSON.stringify([null, true, 1, 'x']),
    ];
    const statuses = new Set<number>();
    for (let i = 0; i < 10_000; i += 50) {
      const codes = await Promise.all(Array.from({ length: 50 }, () => post((shapes[Math.floor(random() * shapes.length)] as () => string | Buffer)(), `Bearer ${TOKEN}`)));
      for (const code of codes) statuses.add(code);
    }
    expect([...statuses].every((code) => code === 200 || (code >= 400 && code < 500))).toBe(true);
    expect(runtime.health().adapters.find((a) => a.name === '@gitops-reverser/source-admission')?.state).toBe('ready');
    await kubectl(['create', 'configmap', 'after-fuzz', '--from-literal=ok=yes'], { as: 'jane' });
    await until(() => history(file('configmaps', 'after-fuzz')).length === 1 || undefined, 'a real write after the fuzzing', 30_000);
    expect(history(file('configmaps', 'after-fuzz'))[0]).toMatchObject({ author: 'jane', attribution: 'admission' });
  });

  it("audit and admission both configured: audit's exact match wins, one commit per change", async () => {
    const both = await Runtime.create(
      parseConfig(
        `apiVersion: gitops-reverser/v1alpha2
sources:
  - { use: "@gitops-reverser/source-informer", cluster: ${BOTH}, with: { kubeconfig: ./informer.kubeconfig } }
  - { use: "@gitops-reverser/source-admission", cluster: ${BOTH}, with: { listen: { port: ${admissionPort} }, tls: { certFile: "${serving.cert}", keyFile: "${serving.key}" }, auth: { token: ${TOKEN} } } }
  - { use: "@gitops-reverser/source-audit", cluster: ${BOTH}, with: { listen: { port: ${auditPort} }, tls: { certFile: "${serving.cert}", keyFile: "${serving.key}" }, auth: { token: ${AUDIT_TOKEN} } } }
attribution: { waitMs: 5000 }
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: local, url: ./both-repo } ] } }
targets: [ { name: live, with: { provider: local, branch: main, path: clusters/${BOTH} } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [${BOTH}], resources: [configmaps] } ]
`,
        join(dir, 'both.yaml'),
      ),
      { logger: silentLogger() },
    );
    await both.start();
    try {
      const bothRepo = join(dir, 'both-repo');
      const commits = () => {
        try {
          return execFileSync(
            'git',
            [
              '-C',
              bothRepo,
              'log',
              '--format=%an|%(trailers:key=Attribution,valueonly,separator=)|%(trailers:key=Audit-ID,valueonly,separator=)',
              'main',
              '--',
              `clusters/${BOTH}/${BOTH}/configmaps/pair.yaml`,
            ],
            { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
          )
            .trim()
            .split('\n')
            .filter(Boolean);
        } catch {
          return [];
        }
      };
      const inBoth = (args: string[]) => kubectl(['-n', BOTH, ...args], { as: 'jane' });
      await inBoth(['create', 'configmap', 'pair', '--from-literal=v=1']);
      await until(() => commits().length === 1 || undefined, 'the create', 30_000);
      await inBoth(['patch', 'configmap', 'pair', '--type=merge', '-p', '{"data":{"v":"2"}}']);
      await until(() => commits().length === 2 || undefined, 'the update', 30_000);
      await inBoth(['delete', 'configmap', 'pair']);
      await until(() => commits().length === 3 || undefined, 'the delete', 30_000);
      // Give a duplicate commit time to appear, if one would.
      await new Promise((r) => setTimeout(r, 1500));
      const seen = commits();
      expect(seen).toHaveLength(3);
      for (const line of seen) expect(line).toMatch(/^jane\|audit\|[0-9a-f-]{36}$/);
    } finally {
      await both.stop('test done');
    }
  });

  it('bus-nats with two replicas: the webhook reaches the replica that does not write, and every commit has its author', async () => {
    const nats = new NatsServer();
    await nats.start();
    const children: ChildProcess[] = [];
    try {
      writeFileSync(
        join(dir, 'replica.yaml'),
        `apiVersion: gitops-reverser/v1alpha2
server: { enabled: false }
shutdown: { timeoutSeconds: 5 }
sources:
  - { use: "@gitops-reverser/source-informer", cluster: ${HA}, with: { kubeconfig: ./informer.kubeconfig } }
  - { use: "@gitops-reverser/source-admission", cluster: ${HA}, with: { listen: { port: "\${ADMISSION_PORT}" }, tls: { certFile: "${serving.cert}", keyFile: "${serving.key}" }, auth: { token: ${TOKEN} } } }
attribution: { waitMs: 5000 }
bus: { use: "@gitops-reverser/bus-nats", with: { servers: ["${nats.url}"], stream: ADMHA, subjectPrefix: admha, leaseSeconds: 2, discoveryMs: 200, ackWaitSeconds: 5, messageKeys: [ { id: test, value: "admission-ha-test-message-key-0123456789" } ] } }
sink: { use: "@gitops-reverser/sink-git", with: { cacheDir: "\${REPLICA_CACHE}", providers: [ { name: origin, url: ./ha-repo } ] } }
targets: [ { name: live, with: { provider: origin, branch: main, path: clusters/${HA} } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [${HA}], resources: [configmaps] } ]
`,
      );
      const replicas = await Promise.all(
        ['a', 'b'].map(async (id) => {
          const port = await freePort();
          const child = spawn(process.execPath, [join(root, 'packages/kernel/bin/gitops-reverser.js'), 'run', '--config', join(dir, 'replica.yaml')], {
            cwd: root,
            env: { ...process.env, ADMISSION_PORT: String(port), REPLICA_CACHE: join(dir, `ha-cache-${id}`), LOG_LEVEL: 'info' },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          children.push(child);
          const replica = { port, output: '' };
          child.stdout?.on('data', (chunk) => (replica.output += chunk));
          child.stderr?.on('data', (chunk) => (replica.output += chunk));
          return replica;
        }),
      );
      await until(() => replicas.every((r) => r.output.includes('"msg":"gitops-reverser started"')) || undefined, 'both replicas started', 60_000);
      await call('POST', `/api/v1/namespaces/${HA}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'first' } });
      const writer = await until(() => replicas.find((r) => r.output.includes('this replica writes')), 'a writing replica', 60_000);
      const other = replicas.find((r) => r !== writer) as (typeof replicas)[number];
      haFront.retarget('127.0.0.1', other.port);
      const haCommits = (name: string) => {
        try {
          return execFileSync(
            'git',
            ['-C', join(dir, 'ha-repo'), 'log', '--format=%an|%(trailers:key=Attribution,valueonly,separator=)', 'main', '--', `clusters/${HA}/${HA}/configmaps/${name}.yaml`],
            { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
          )
            .trim()
            .split('\n')
            .filter(Boolean);
        } catch {
          return [];
        }
      };
      const people = ['jane', 'bob', 'carol'];
      for (const [i, person] of people.entries()) {
        await kubectl(['-n', HA, 'create', 'configmap', `ha-${i}`, `--from-literal=by=${person}`], { as: person });
      }
      for (const [i, person] of people.entries()) {
        await kubectl(['-n', HA, 'patch', 'configmap', `ha-${i}`, '--type=merge', '-p', '{"data":{"again":"yes"}}'], { as: person });
      }
      await until(() => people.every((_, i) => haCommits(`ha-${i}`).length === 2) || undefined, 'six commits', 60_000);
      for (const [i, person] of people.entries()) expect(haCommits(`ha-${i}`)).toEqual([`${person}|admission`, `${person}|admission`]);
      expect(replicas.filter((r) => r.output.includes('this replica writes'))).toHaveLength(1);
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      await nats.dispose();
    }
  }, 180_000);

  it('webhook down: writes still succeed within the timeout and are committed with Attribution: none and the Field-Manager', async () => {
    front.partition();
    try {
      const started = Date.now();
      await kubectl(['create', 'configmap', 'while-down', '--from-literal=a=b'], { as: 'jane' });
      console.log(`a write with the webhook down took ${Date.now() - started} ms`);
      await until(() => history(file('configmaps', 'while-down')).length === 1 || undefined, 'the commit without an author', 30_000);
      expect(history(file('configmaps', 'while-down'))[0]).toEqual({ author: 'gitops-reverser', attribution: 'none', admissionUid: '', fieldManager: 'kubectl-create' });
    } finally {
      front.heal();
    }
  });
});
