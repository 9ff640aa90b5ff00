import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuiltImage, ClusterNode, ControlPlane, controlPlaneBinaries, GitHttpServer, gitopsReverserImage, helmBinary, missingImagePrerequisites, until } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The Helm chart in a real pod: a one-node cluster (ClusterNode: containerd + runc, CNI bridge,
 * kubelet, controller manager, scheduler, kube-proxy, all but containerd built from the API
 * server's Kubernetes module), the image built from deploy/docker/Dockerfile imported into its
 * containerd, `helm install` with the audit and admission webhooks on and every hook running: the
 * webhook-certificate Jobs (pods of the built image in the pod network) make the Secret
 * `<fullname>-webhook-tls` before the install and set the admission webhook's caBundle after it. The
 * pod must become Ready by its probes, read the cluster with its ServiceAccount (in-cluster config),
 * push to a git server on the host, be called by the API server's admission webhook and audit
 * webhook (both through the Service's ClusterIP, as on a control-plane node that runs kube-proxy),
 * keep its certificate across `helm upgrade`, and leave nothing behind after `helm uninstall` (its
 * post-delete hook deletes the Secret). Needs root, containerd, runc, CNI plugins, iptables, podman
 * and mmdebstrap: without them the suite is reported as skipped, and GR_REQUIRE_CONTAINERS=1 (set by
 * .ci/run) makes that a failure. This file starts its own control plane (its API server listens on
 * the host address and is restarted with the audit webhook), beside the shared one.
 */
const missing = [...new Set([...missingImagePrerequisites(), ...ClusterNode.missingPrerequisites()])];
if (missing.length > 0 && process.env['GR_REQUIRE_CONTAINERS'] === '1') throw new Error(`GR_REQUIRE_CONTAINERS=1 but this machine lacks ${missing.join(', ')}`);

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const chart = join(repoRoot, 'deploy/helm/gitops-reverser');
const release = 'gr';
const namespace = 'gitops-reverser';
const dataNamespace = 'team-pod';
const fullname = `${release}-gitops-reverser`;
const serviceName = `${fullname}.${namespace}.svc`;
const certificateSecret = `${fullname}-webhook-tls`;
const hookJob = `${fullname}-webhook-certificate`;
const removalJob = `${fullname}-webhook-certificate-delete`;
const credentials = { username: 'pod-bot', password: 'pod-test-password-7730' };
const auditToken = 'pod-test-audit-token-2291';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking this process (the git server the pod pushes to lives here). */
async function exec(command: string, args: readonly string[], input?: string): Promise<Result> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(input);
  const code = await new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('close', (exitCode) => done(exitCode));
  });
  return { code, stdout, stderr };
}

describe.skipIf(missing.length > 0)(`the Helm chart in a real pod${missing.length > 0 ? `: skipped, missing ${missing.join(', ')}` : ''}`, () => {
  let image: BuiltImage;
  let plane: ControlPlane;
  let node: ClusterNode;
  let git: GitHttpServer;
  let dir: string;
  let helm: string;
  let kubectlBinary: string;
  let valuesFile: string;
  let caFile: string;
  let clusterIP: string;

  const kubectl = async (args: readonly string[], input?: string, user: 'admin' | 'alice' | 'bob' = 'admin') =>
    await exec(kubectlBinary, ['--kubeconfig', user === 'admin' ? plane.kubeconfig : plane.kubeconfigFor(user), ...args], input);
  const helmRun = async (args: readonly string[]) => await exec(helm, ['--kubeconfig', plane.kubeconfig, ...args]);
  const gitCli = async (args: readonly string[]) => await exec('git', ['--git-dir', git.repoPath('state'), ...args]);
  const json = async <T>(args: readonly string[]): Promise<T> => {
    const result = await kubectl([...args, '-o', 'json']);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  };
  type SecretObject = { metadata: { uid: string; resourceVersion: string; labels?: Record<string, string> }; data: Record<string, string> };
  const certificate = async () => await json<SecretObject>(['-n', namespace, 'get', 'secret', certificateSecret]);
  const webhookConfiguration = async () =>
    await json<{ metadata: { managedFields: { manager: string; fieldsV1?: unknown }[] }; webhooks: { name: string; clientConfig: { caBundle?: string; service: Record<string, unknown> } }[] }>([
      'get',
      'validatingwebhookconfiguration',
      fullname,
      // kubectl leaves managedFields out unless asked: they say who set the caBundle.
      '--show-managed-fields',
    ]);
  /** "author|Attribution trailer|Admission-UID or Audit-ID trailer" of every commit on main that touched `file`, newest first. */
  const commitsOf = async (file: string) =>
    (
      await gitCli([
        'log',
        '--format=%an|%(trailers:key=Attribution,valueonly,separator=)|%(trailers:key=Admission-UID,valueonly,separator=)%(trailers:key=Audit-ID,valueonly,separator=)',
        'main',
        '--',
        file,
      ])
    ).stdout
      .trim()
      .split('\n')
      .filter(Boolean);
  const committed = async (name: string) => {
    const file = `clusters/in-cluster/${dataNamespace}/configmaps/${name}.yaml`;
    return await until(
      async () => {
        const found = await commitsOf(file);
        return found.length > 0 ? found : undefined;
      },
      `a commit of ${file}`,
      60_000,
    );
  };
  /** The pod's /metrics, read from this host through the Service's ClusterIP (kube-proxy routes it here, as for the API server). */
  const metrics = async () => await (await fetch(`http://${clusterIP}:8080/metrics`)).text();
  /** The value of one sample of the pod's metrics, 0 when it has none yet. */
  const sample = (text: string, name: string, labels: Record<string, string>) => {
    const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((label) => l.includes(label)));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };
  /** Reasons of the events recorded for one object (they outlive it: the hook Jobs are deleted once they succeed). */
  const eventsOf = async (kind: string, name: string) =>
    (await kubectl(['-n', namespace, 'get', 'events', '--field-selector', `involvedObject.kind=${kind},involvedObject.name=${name}`, '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}'])).stdout
      .split('\n')
      .filter(Boolean);
  /** The webhook-certificate hooks' own objects still in the cluster (Jobs, their pods, ServiceAccounts, Roles, bindings). */
  const hookObjects = async () =>
    (
      await kubectl(['get', 'jobs,pods,serviceaccounts,roles,rolebindings,clusterroles,clusterrolebindings', '--all-namespaces', '-l', 'app.kubernetes.io/component=webhook-certificate', '-o', 'name'])
    ).stdout
      .split('\n')
      .filter(Boolean);
  const readyPod = async () =>
    await until(
      async () => {
        const pods = await json<{
          items: {
            metadata: { name: string; deletionTimestamp?: string };
            status: { conditions?: { type: string; status: string }[]; containerStatuses?: { ready: boolean; restartCount: number }[] };
          }[];
        }>(['-n', namespace, 'get', 'pods', '-l', `app.kubernetes.io/name=gitops-reverser,app.kubernetes.io/instance=${release}`]);
        const live = pods.items.filter((pod) => !pod.metadata.deletionTimestamp);
        return live.length === 1 && live[0]?.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? live[0] : undefined;
      },
      'one Ready gitops-reverser pod',
      180_000,
    );

  beforeAll(async () => {
    image = gitopsReverserImage();
    helm = helmBinary();
    kubectlBinary = controlPlaneBinaries().kubectl;
    dir = mkdtempSync(join(tmpdir(), 'gr-pod-'));
    const address = ClusterNode.hostAddress();
    plane = await ControlPlane.start({ node: { address } });
    node = await ClusterNode.start(plane, { address });
    node.importImage(image.archive);

    // The git server listens on the host address: pods reach the host there through the bridge.
    git = new GitHttpServer({ credentials, host: address });
    await git.start();
    git.createRepo('state');

    for (const name of [namespace, dataNamespace]) expect((await kubectl(['create', 'namespace', name])).code).toBe(0);
    const secrets = [
      ['git-credentials', `--from-literal=url=${git.url('state')}`, `--from-literal=username=${credentials.username}`, `--from-literal=password=${credentials.password}`],
      ['audit-token', `--from-literal=token=${auditToken}`],
    ];
    for (const [name, ...literals] of secrets) expect((await kubectl(['-n', namespace, 'create', 'secret', 'generic', name as string, ...literals])).code).toBe(0);
    expect((await kubectl(['-n', dataNamespace, 'create', 'configmap', 'seeded', '--from-literal=present=before-install'])).code).toBe(0);

    const [repository, tag] = image.name.split(/:(?=[^:]+$)/) as [string, string];
    valuesFile = join(dir, 'values.yaml');
    // Both webhooks serve the hook-made Secret: the chart mounts it at audit-tls/ and admission-tls/.
    writeFileSync(
      valuesFile,
      `image: { repository: ${repository}, tag: "${tag}", pullPolicy: Never }
auditWebhook: { enabled: true }
admissionWebhook: { enabled: true }
secretEnv:
  - { name: GIT_URL, secretName: git-credentials, key: url }
  - { name: GIT_USERNAME, secretName: git-credentials, key: username }
  - { name: GIT_PASSWORD, secretName: git-credentials, key: password }
  - { name: AUDIT_TOKEN, secretName: audit-token, key: token }
config:
  apiVersion: gitops-reverser/v1alpha2
  server: { host: 0.0.0.0, port: 8080 }
  sources:
    - { use: "@gitops-reverser/source-informer", cluster: in-cluster }
    - use: "@gitops-reverser/source-audit"
      cluster: in-cluster
      with:
        listen: { host: 0.0.0.0, port: 9443 }
        tls: { certFile: /etc/gitops-reverser/audit-tls/tls.crt, keyFile: /etc/gitops-reverser/audit-tls/tls.key }
        auth: { token: "\${AUDIT_TOKEN}" }
    - use: "@gitops-reverser/source-admission"
      cluster: in-cluster
      with:
        listen: { host: 0.0.0.0, port: 9444 }
        tls: { certFile: /etc/gitops-reverser/admission-tls/tls.crt, keyFile: /etc/gitops-reverser/admission-tls/tls.key }
  # A live change waits this long for the audit fact, the exact one, before the admission fact is used:
  # generous, since a loaded test machine may hold the API server's audit batch back.
  attribution: { waitMs: 5000 }
  bus: { use: "@gitops-reverser/bus-memory" }
  sink:
    use: "@gitops-reverser/sink-git"
    with:
      cacheDir: /var/lib/gitops-reverser/cache
      commitWindow: 0
      providers: [ { name: origin, url: "\${GIT_URL}", auth: { username: "\${GIT_USERNAME}", password: "\${GIT_PASSWORD}" } } ]
  targets: [ { name: live, with: { provider: origin, branch: main, path: clusters/in-cluster } } ]
  rules:
    - { target: live, scope: Namespaced, namespaces: [${dataNamespace}], resources: [configmaps] }
`,
    );
    caFile = join(dir, 'webhook-ca.crt');
    // A timeout of its own: the first run on a machine builds what the build scripts have not (minutes).
  }, 30 * 60_000);

  afterAll(async () => {
    if (helm && plane) await helmRun(['uninstall', release, '-n', namespace, '--ignore-not-found', '--wait', '--timeout', '3m']);
    await node?.stop();
    await plane?.stop();
    await git?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('helm install runs the certificate hooks in pods of the built image; the pod becomes Ready by its probes, reads the cluster with its ServiceAccount and pushes to the git server', async () => {
    const installed = await helmRun(['install', release, chart, '-n', namespace, '-f', valuesFile, '--wait', '--timeout', '5m']);
    expect(installed.stderr).toBe('');
    expect(installed.code).toBe(0);

    // The pre-install hook made the Secret (a CA and a serving certificate it signed for the Service's
    // names); the post-install hook set every webhook's caBundle to its CA.
    const secret = await certificate();
    expect(Object.keys(secret.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    expect(secret.metadata.labels).toMatchObject({ 'app.kubernetes.io/component': 'webhook-certificate' });
    const serving = new X509Certificate(Buffer.from(secret.data['tls.crt'] as string, 'base64'));
    expect(serving.verify(new X509Certificate(Buffer.from(secret.data['ca.crt'] as string, 'base64')).publicKey)).toBe(true);
    expect(serving.checkHost(serviceName)).toBe(serviceName);
    const configuration = await webhookConfiguration();
    expect(configuration.webhooks.length).toBeGreaterThan(0);
    expect(configuration.webhooks.map((webhook) => webhook.clientConfig.caBundle)).toEqual(configuration.webhooks.map(() => secret.data['ca.crt']));
    expect(configuration.metadata.managedFields.map((entry) => entry.manager)).toContain('gitops-reverser-webhook-certificate');
    // Each run was a Job of the built image the kubelet ran to completion (pre- and post-install), and is gone.
    expect((await eventsOf('Job', hookJob)).filter((reason) => reason === 'Completed')).toHaveLength(2);
    const pulled = await kubectl(['-n', namespace, 'get', 'events', '--field-selector', 'reason=Pulled', '-o', 'jsonpath={range .items[*]}{.involvedObject.name} {.message}{"\\n"}{end}']);
    expect(pulled.stdout.split('\n').filter((line) => line.startsWith(`${hookJob}-`) && line.includes(image.name))).toHaveLength(2);
    await until(async () => ((await hookObjects()).length === 0 ? true : undefined), 'the hook Jobs, their pods and access to be deleted (hook-succeeded)', 120_000).catch(() => undefined);
    expect(await hookObjects()).toEqual([]);

    const pod = await readyPod();
    expect(pod.status.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });
    const spec = (
      await json<{ spec: { serviceAccountName: string; securityContext: Record<string, unknown>; containers: { securityContext: Record<string, unknown> }[] } }>([
        '-n',
        namespace,
        'get',
        'pod',
        pod.metadata.name,
      ])
    ).spec;
    expect(spec.serviceAccountName).toBe(fullname);
    expect(spec.securityContext).toMatchObject({ runAsUser: 10001, runAsNonRoot: true });
    expect(spec.containers[0]?.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    // The probes the kubelet runs answered: no probe failure was ever recorded.
    expect(await eventsOf('Pod', pod.metadata.name)).not.toContain('Unhealthy');

    // Its only credential is the ServiceAccount: read-only, exactly what the rules need.
    const can = async (verb: string) => (await kubectl(['auth', 'can-i', verb, 'configmaps', '-n', dataNamespace, `--as=system:serviceaccount:${namespace}:${fullname}`])).stdout.trim();
    expect([await can('list'), await can('watch'), await can('create'), await can('delete')]).toEqual(['yes', 'yes', 'no', 'no']);

    // The seed: what existed before the install, pushed to the git server on the host.
    const file = `clusters/in-cluster/${dataNamespace}/configmaps/seeded.yaml`;
    await until(async () => (await gitCli(['show', `main:${file}`])).code === 0, `${file} on main of the git server`, 60_000);
    expect((await gitCli(['show', `main:${file}`])).stdout).toContain('present: before-install');
    expect(git.log.some((entry) => entry.method === 'POST' && entry.path.endsWith('/git-receive-pack') && entry.status === 200)).toBe(true);
    expect((await gitCli(['fsck', '--strict'])).code).toBe(0);
  });

  it("the API server calls the admission webhook through the Service's ClusterIP: with no audit webhook configured, a write by bob is committed with bob as author and Attribution: admission", async () => {
    // kube-apiserver resolves a webhook's `service` clientConfig to the Service's ClusterIP (without
    // --enable-aggregator-routing), which kube-proxy routes on this host, and verifies the serving
    // certificate as <service>.<namespace>.svc against the caBundle the post-install hook set.
    clusterIP = (await json<{ spec: { clusterIP: string } }>(['-n', namespace, 'get', 'service', fullname])).spec.clusterIP;
    // kube-proxy has the Service's rules once this host reaches the pod through the ClusterIP.
    await until(async () => (await fetch(`http://${clusterIP}:8080/readyz`).catch(() => undefined))?.status === 200, `http://${clusterIP}:8080/readyz from the host`, 60_000);
    const before = sample(await metrics(), 'gitops_reverser_admission_reviews_total', { cluster: 'in-cluster', result: 'fact' });

    expect((await kubectl(['-n', dataNamespace, 'create', 'configmap', 'by-bob', '--from-literal=who=bob'], undefined, 'bob')).code).toBe(0);
    const commits = await committed('by-bob');
    expect(commits).toHaveLength(1);
    const [author, attribution, uid] = (commits[0] as string).split('|');
    expect([author, attribution]).toEqual(['bob', 'admission']);
    expect(uid).toMatch(/^[0-9a-f-]{36}$/);
    const after = await metrics();
    expect(sample(after, 'gitops_reverser_admission_reviews_total', { cluster: 'in-cluster', result: 'fact' })).toBeGreaterThan(before);
    expect(sample(after, 'gitops_reverser_admission_requests_total', { cluster: 'in-cluster', code: '200' })).toBeGreaterThan(0);
  });

  it("the API server's audit webhook reaches the pod with the hook-made CA: a write by alice is committed with alice as author and Attribution: audit", async () => {
    // The API server is not in the pod network and does not use cluster DNS: its audit webhook
    // kubeconfig names the Service's ClusterIP (kube-proxy routes it on this host), verifies the
    // serving certificate against the Service's DNS name, and trusts the Secret's CA (ADR 0035).
    writeFileSync(caFile, Buffer.from((await certificate()).data['ca.crt'] as string, 'base64'));
    await plane.restartApiServer({ audit: { url: `https://${clusterIP}:443/audit-webhook/in-cluster`, caFile, token: auditToken, tlsServerName: serviceName } });

    expect((await kubectl(['-n', dataNamespace, 'create', 'configmap', 'by-alice', '--from-literal=who=alice'], undefined, 'alice')).code).toBe(0);
    const commits = await committed('by-alice');
    // The admission webhook saw the write too: the audit fact, exact, wins; one commit.
    expect(commits).toHaveLength(1);
    const [author, attribution, auditId] = (commits[0] as string).split('|');
    expect([author, attribution]).toEqual(['alice@example.com', 'audit']);
    expect(auditId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('helm upgrade keeps the certificate (the same Secret, byte for byte): the rolled pod serves it and the API server, unchanged, still reaches both webhooks', async () => {
    const before = await certificate();
    const caBundles = (await webhookConfiguration()).webhooks.map((webhook) => webhook.clientConfig.caBundle);
    const oldPod = (await readyPod()).metadata.name;
    const upgraded = await helmRun(['upgrade', release, chart, '-n', namespace, '-f', valuesFile, '--set-string', 'podAnnotations.rolled=after-upgrade', '--wait', '--timeout', '5m']);
    expect(upgraded.stderr).toBe('');
    expect(upgraded.code).toBe(0);
    // The pre- and post-upgrade hooks ran and found nothing to change.
    expect((await eventsOf('Job', hookJob)).filter((reason) => reason === 'Completed')).toHaveLength(4);
    const after = await certificate();
    expect(after.data).toEqual(before.data);
    expect([after.metadata.uid, after.metadata.resourceVersion]).toEqual([before.metadata.uid, before.metadata.resourceVersion]);
    expect((await webhookConfiguration()).webhooks.map((webhook) => webhook.clientConfig.caBundle)).toEqual(caBundles);
    const newPod = await until(
      async () => {
        const pod = await readyPod();
        return pod.metadata.name !== oldPod ? pod : undefined;
      },
      'the rolled pod to be Ready',
      180_000,
    );
    expect(newPod.metadata.name).not.toBe(oldPod);
    await until(async () => ((await hookObjects()).length === 0 ? true : undefined), 'the upgrade hooks to be deleted', 120_000).catch(() => undefined);
    expect(await hookObjects()).toEqual([]);

    expect((await kubectl(['-n', dataNamespace, 'create', 'configmap', 'after-upgrade', '--from-literal=who=bob'], undefined, 'bob')).code).toBe(0);
    const commits = await committed('after-upgrade');
    expect(commits).toHaveLength(1);
    expect((commits[0] as string).split('|').slice(0, 2)).toEqual(['bob', 'audit']);
    // The rolled pod, whose counters started at zero, was called by the admission webhook too.
    expect(sample(await metrics(), 'gitops_reverser_admission_reviews_total', { cluster: 'in-cluster', result: 'fact' })).toBeGreaterThan(0);
  });

  it('helm uninstall leaves nothing behind: the post-delete hook deletes the certificate, then no object of the release or of its hooks, no container on the node, and the repository as it was', async () => {
    const head = (await gitCli(['rev-parse', 'main'])).stdout.trim();
    const uninstalled = await helmRun(['uninstall', release, '-n', namespace, '--wait', '--timeout', '5m']);
    expect(uninstalled.stderr).toBe('');
    expect(uninstalled.code).toBe(0);
    expect(await eventsOf('Job', removalJob)).toContain('Completed');
    expect((await kubectl(['-n', namespace, 'get', 'secret', certificateSecret])).stderr).toContain('NotFound');

    // Every namespaced and cluster-wide type the API serves, read as the admin: nothing of the release or its hooks.
    const types = (await kubectl(['api-resources', '--verbs=list', '-o', 'name'])).stdout.trim().split('\n');
    const leftovers = async () => {
      const labelled = await kubectl(['get', types.join(','), '--all-namespaces', '-l', `app.kubernetes.io/instance=${release}`, '-o', 'name']);
      const clusterWide = await kubectl(['get', 'clusterroles,clusterrolebindings,validatingwebhookconfigurations', '-o', 'name']);
      return [...labelled.stdout.split('\n'), ...clusterWide.stdout.split('\n').filter((name) => name.includes(fullname))].filter(Boolean);
    };
    await until(async () => ((await leftovers()).length === 0 ? true : undefined), 'no object of the release (pods terminated, endpoint slices collected)', 120_000).catch(() => undefined);
    expect(await leftovers()).toEqual([]);
    const namespacedTypes = (await kubectl(['api-resources', '--namespaced=true', '--verbs=list', '-o', 'name'])).stdout.trim().split('\n');
    const rest = (await kubectl(['get', namespacedTypes.filter((t) => !/^events(\.|$)/.test(t)).join(','), '-n', namespace, '-o', 'name'])).stdout.trim().split('\n').sort();
    // What remains is the namespace's own (made by Kubernetes) and the Secrets this test created:
    // no webhook certificate, no hook Job, ServiceAccount, Role or RoleBinding.
    expect(rest).toEqual(['configmap/kube-root-ca.crt', 'secret/audit-token', 'secret/git-credentials', 'serviceaccount/default']);

    await until(() => (node.containers(namespace).length === 0 ? true : undefined), 'the kubelet to remove the pod containers from containerd', 120_000).catch(() => undefined);
    expect(node.containers(namespace)).toEqual([]);

    // The repository: uninstalling committed nothing, deleted nothing.
    expect((await gitCli(['rev-parse', 'main'])).stdout.trim()).toBe(head);
    const files = (await gitCli(['ls-tree', '-r', '--name-only', 'main'])).stdout.trim().split('\n');
    // kube-root-ca.crt: the controller manager publishes it into every namespace, the rule selects it.
    expect(files).toEqual(['after-upgrade', 'by-alice', 'by-bob', 'kube-root-ca.crt', 'seeded'].map((name) => `clusters/in-cluster/${dataNamespace}/configmaps/${name}.yaml`));
    expect((await gitCli(['fsck', '--strict'])).code).toBe(0);
  });
});
