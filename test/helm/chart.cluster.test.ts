import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '@gitops-reverser/kernel';
import { ControlPlaneAccess, controlPlaneBinaries, createCustomResourceDefinition, helmBinary } from '@gitops-reverser/testkit';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const chart = join(repoRoot, 'deploy/helm/gitops-reverser');
const cli = join(repoRoot, 'packages/kernel/bin/gitops-reverser.js');
const cluster = inject('testCluster');
const access = new ControlPlaneAccess(cluster);
/** Values for ${VAR} in the example configs: the chart sets them from Secrets in a pod. */
const env = { GIT_URL: 'https://git.example.com/org/state.git', GIT_USERNAME: 'bot', GIT_PASSWORD: 'pw-from-a-secret-9731', AUDIT_TOKEN: 'a-token-of-sixteen-chars' };

let helm: string;
let kubectl: string;

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  spec?: Record<string, unknown>;
}

function run(command: string, args: string[], input?: string, extraEnv: Record<string, string> = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', input, env: { ...process.env, ...extraEnv } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function render(namespace: string, valuesFile?: string, extra: string[] = [], release = 'gr') {
  return run(helm, ['template', release, chart, '--namespace', namespace, ...(valuesFile ? ['-f', join(chart, 'examples', valuesFile)] : []), ...extra]);
}

/** Helm hooks (the webhook-certificate Jobs and their access) run around an install and after an uninstall; the rest is the release. */
const isHook = (manifest: Manifest) => manifest.metadata.annotations?.['helm.sh/hook'] !== undefined;
/** Hooks of the post-delete event only (the Secret's removal), or of every other event. */
const isDeleteHook = (manifest: Manifest) => manifest.metadata.annotations?.['helm.sh/hook'] === 'post-delete';

function documents(yaml: string): Manifest[] {
  return parseAllDocuments(yaml)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
}

/** Every grant as "namespace|group|resource|verb", so a merged and an unmerged role compare equal. */
function grants(manifests: Manifest[]): string[] {
  const out = new Set<string>();
  for (const manifest of manifests) {
    if (manifest.kind !== 'Role' && manifest.kind !== 'ClusterRole') continue;
    for (const rule of manifest.rules ?? []) {
      for (const group of rule.apiGroups) for (const resource of rule.resources) for (const verb of rule.verbs) out.add(`${manifest.metadata.namespace ?? '*'}|${group}|${resource}|${verb}`);
    }
  }
  return [...out].sort();
}

async function ensureNamespace(name: string): Promise<void> {
  const response = await access.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
  if (response.status !== 201 && response.status !== 409) throw new Error(`namespace ${name}: ${response.status} ${response.body}`);
}

beforeAll(async () => {
  helm = helmBinary();
  kubectl = controlPlaneBinaries().kubectl;
  // The HA values turn the ServiceMonitor on: its CRD, as prometheus-operator installs it (schema-less here).
  await createCustomResourceDefinition(access, { group: 'monitoring.coreos.com', plural: 'servicemonitors', kind: 'ServiceMonitor', reuseExisting: true });
  for (const namespace of ['gr-default', 'gr-audit', 'gr-ha', 'gr-ssh', 'gr-admission', 'gr-install', 'team-a', 'team-b']) await ensureNamespace(namespace);
});

describe('helm chart deploy/helm/gitops-reverser', () => {
  const cases = [
    { name: 'default', namespace: 'gr-default', values: undefined, kinds: ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'NetworkPolicy', 'Service', 'ServiceAccount'] },
    {
      name: 'audit-enabled',
      namespace: 'gr-audit',
      values: 'values-audit.yaml',
      // Role, RoleBinding, ServiceAccount and Job of the webhook-certificate hook and of its post-delete hook included.
      kinds: [
        'ClusterRole',
        'ClusterRoleBinding',
        'ConfigMap',
        'Deployment',
        'Job',
        'Job',
        'NetworkPolicy',
        'Role',
        'Role',
        'Role',
        'Role',
        'RoleBinding',
        'RoleBinding',
        'RoleBinding',
        'RoleBinding',
        'Service',
        'ServiceAccount',
        'ServiceAccount',
        'ServiceAccount',
      ],
    },
    {
      name: 'admission-enabled',
      namespace: 'gr-admission',
      values: 'values-admission.yaml',
      // The hook's ClusterRole and binding patch the caBundle of the webhook configuration.
      kinds: [
        'ClusterRole',
        'ClusterRole',
        'ClusterRoleBinding',
        'ClusterRoleBinding',
        'ConfigMap',
        'Deployment',
        'Job',
        'Job',
        'NetworkPolicy',
        'Role',
        'Role',
        'Role',
        'Role',
        'RoleBinding',
        'RoleBinding',
        'RoleBinding',
        'RoleBinding',
        'Service',
        'ServiceAccount',
        'ServiceAccount',
        'ServiceAccount',
        'ValidatingWebhookConfiguration',
      ],
    },
    {
      name: 'HA',
      namespace: 'gr-ha',
      values: 'values-ha.yaml',
      kinds: ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', 'ServiceAccount', 'ServiceMonitor'],
    },
    { name: 'SSH', namespace: 'gr-ssh', values: 'values-ssh.yaml', kinds: ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'NetworkPolicy', 'Service', 'ServiceAccount'] },
  ];

  for (const { name, namespace, values, kinds } of cases) {
    it(`${name} values: lints, renders manifests the API server accepts (server-side dry-run), a valid config and the role \`gitops-reverser rbac\` prints`, () => {
      expect(run(helm, ['lint', chart, ...(values ? ['-f', join(chart, 'examples', values)] : [])])).toMatchObject({ code: 0, stdout: expect.stringContaining('0 chart(s) failed') });
      const rendered = render(namespace, values);
      expect(rendered.stderr).toBe('');
      expect(rendered.code).toBe(0);
      const manifests = documents(rendered.stdout);
      expect(manifests.map((m) => m.kind).sort()).toEqual(kinds);

      const applied = run(kubectl, ['--kubeconfig', cluster.kubeconfig, 'apply', '--server-side', '--dry-run=server', '--field-manager=chart-test', '-f', '-'], rendered.stdout);
      expect(applied.stderr).toBe('');
      expect(applied.code).toBe(0);
      expect(applied.stdout.trim().split('\n')).toHaveLength(manifests.length);
      expect(applied.stdout).not.toMatch(/^(?!.*serverside-applied \(server dry run\)).+$/m);

      // The ConfigMap holds a config the kernel accepts.
      const configText = manifests.find((m) => m.kind === 'ConfigMap')?.data?.['config.yaml'] as string;
      const dir = mkdtempSync(join(tmpdir(), 'gr-chart-'));
      const configFile = join(dir, 'config.yaml');
      writeFileSync(configFile, configText);
      expect(() => parseConfig(configText, configFile, { env })).not.toThrow();

      // The chart's RBAC grants exactly what the CLI generates for that config (the hook's own access aside).
      const release = manifests.filter((m) => !isHook(m));
      const printed = run(process.execPath, [cli, 'rbac', '--config', configFile, '--service-account', 'gr-gitops-reverser', '--namespace', namespace, '--name', 'gr-gitops-reverser'], undefined, env);
      expect(printed.stderr).toBe('');
      expect(grants(release)).toEqual(grants(documents(printed.stdout)));
      expect(grants(release).every((grant) => /\|(get|list|watch)$/.test(grant))).toBe(true);
      const binding = release.find((m) => m.kind === 'ClusterRoleBinding') as unknown as { subjects: unknown[] };
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'gr-gitops-reverser', namespace }]);

      // Non-root on a read-only root filesystem; probes on /healthz and /readyz.
      const pod = podSpec(manifests);
      expect(pod['securityContext']).toMatchObject({ runAsNonRoot: true });
      expect(pod['containers'][0]).toMatchObject({
        securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
        livenessProbe: { httpGet: { path: '/healthz' } },
        readinessProbe: { httpGet: { path: '/readyz' } },
      });
    });
  }

  it('audit-enabled values: no certificate in the render; the hook makes one for the Service names, in the Secret mounted where the audit source reads it', () => {
    const manifests = documents(render('gr-audit', 'values-audit.yaml').stdout);
    expect(manifests.filter((m) => m.kind === 'Secret')).toEqual([]);
    const job = manifests.find((m) => m.kind === 'Job' && !isDeleteHook(m)) as Manifest;
    expect(job.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade,post-install,post-upgrade',
      'argocd.argoproj.io/hook': 'PreSync,PostSync',
    });
    const args = podSpecOf(job)['containers'][0].args as string[];
    expect(args).toEqual([
      'webhook-certificate',
      '--namespace=gr-audit',
      '--secret=gr-gitops-reverser-webhook-tls',
      '--dns-name=gr-gitops-reverser',
      '--dns-name=gr-gitops-reverser.gr-audit',
      '--dns-name=gr-gitops-reverser.gr-audit.svc',
      '--dns-name=gr-gitops-reverser.gr-audit.svc.cluster.local',
      '--validity-days=3650',
    ]);
    const volumes = podSpec(manifests)['volumes'] as { name: string; secret?: { secretName: string } }[];
    expect(volumes.find((v) => v.name === 'audit-tls')?.secret?.secretName).toBe('gr-gitops-reverser-webhook-tls');
    const service = manifests.find((m) => m.kind === 'Service')?.spec as { ports: { name: string; port: number }[] };
    expect(service.ports.map((p) => p.name)).toEqual(['http', 'audit']);
    const config = manifests.find((m) => m.kind === 'ConfigMap')?.data?.['config.yaml'] as string;
    expect(config).toContain('/etc/gitops-reverser/audit-tls/tls.crt');

    // After `helm uninstall` a Job of its own deletes that Secret (Argo CD: PostDelete), unless it is kept.
    const deletion = manifests.filter(isDeleteHook);
    expect(deletion.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual(['Job', 'Role', 'RoleBinding', 'ServiceAccount'].map((kind) => `${kind}/gr-gitops-reverser-webhook-certificate-delete`));
    for (const hook of deletion) {
      expect(hook.metadata.annotations).toMatchObject({
        'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
        'argocd.argoproj.io/hook': 'PostDelete',
        'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation,HookSucceeded',
      });
    }
    const deleteJob = deletion.find((m) => m.kind === 'Job') as Manifest;
    expect(podSpecOf(deleteJob)['containers'][0].args).toEqual(['webhook-certificate', '--delete', '--namespace=gr-audit', '--secret=gr-gitops-reverser-webhook-tls']);
    expect(podSpecOf(deleteJob)['containers'][0].image).toBe(podSpecOf(job)['containers'][0].image);
    expect(deletion.find((m) => m.kind === 'Role')?.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], resourceNames: ['gr-gitops-reverser-webhook-tls'], verbs: ['get', 'delete'] }]);
    const kept = documents(render('gr-audit', 'values-audit.yaml', ['--set', 'webhookCertificate.keepOnUninstall=true']).stdout);
    expect(kept.filter(isDeleteHook)).toEqual([]);
    expect(kept.filter(isHook).map((m) => m.kind)).toContain('Job');
  });

  it('admission-enabled values: the webhook configuration is what `gitops-reverser admission-webhook` prints for the same config, also for mixed rules and two clusters', () => {
    const compare = (extra: string[]) => {
      const rendered = render('gr-admission', 'values-admission.yaml', extra);
      expect(rendered.stderr).toBe('');
      const manifests = documents(rendered.stdout);
      const configuration = manifests.find((m) => m.kind === 'ValidatingWebhookConfiguration') as unknown as { webhooks: { clientConfig: Record<string, unknown> }[] };
      const dir = mkdtempSync(join(tmpdir(), 'gr-chart-admission-'));
      const configFile = join(dir, 'config.yaml');
      writeFileSync(configFile, manifests.find((m) => m.kind === 'ConfigMap')?.data?.['config.yaml'] as string);
      const printed = run(
        process.execPath,
        [cli, 'admission-webhook', '--config', configFile, '--service', 'gr-admission/gr-gitops-reverser:9444', '--namespace', 'gr-admission', '--name', 'gr-gitops-reverser'],
        undefined,
        env,
      );
      expect(printed.stderr).toBe('');
      const cliWebhooks = (documents(printed.stdout)[0] as unknown as { webhooks: unknown[] }).webhooks;
      expect(configuration.webhooks).toEqual(cliWebhooks);
      return configuration.webhooks;
    };
    const webhooks = compare([]);
    expect(webhooks.map((w) => w.clientConfig)).toEqual([0, 1].map(() => ({ service: { namespace: 'gr-admission', name: 'gr-gitops-reverser', path: '/admission/in-cluster', port: 9444 } })));

    // Namespace sets that overlap, operations, wildcards, duplicates, a rule for one cluster only, the own namespace named.
    const admission = (cluster: string) => ({
      use: '@gitops-reverser/source-admission',
      cluster,
      with: { listen: { host: '0.0.0.0', port: 9444 }, tls: { certFile: '/etc/gitops-reverser/admission-tls/tls.crt', keyFile: '/etc/gitops-reverser/admission-tls/tls.key' } },
    });
    const sources = [
      { use: '@gitops-reverser/source-informer', cluster: 'prod' },
      admission('prod'),
      { use: '@gitops-reverser/source-informer', cluster: 'dev', with: { kubeconfig: '/etc/gitops-reverser/dev/kubeconfig' } },
      admission('dev'),
    ];
    const rules = [
      { target: 'live', scope: 'Namespaced', namespaces: ['team-b', 'team-a'], resources: ['configmaps'] },
      { target: 'live', scope: 'Namespaced', namespaces: ['team-c'], resources: ['configmaps'] },
      { target: 'live', scope: 'Namespaced', namespaces: ['team-c', 'gr-admission'], apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], operations: ['DELETE', 'CREATE'] },
      { target: 'live', scope: 'Namespaced', clusters: ['dev'], apiGroups: ['*'], resources: ['*'], operations: ['*'] },
      { target: 'live', scope: 'Cluster', apiGroups: ['rbac.authorization.k8s.io'], apiVersions: ['v1'], resources: ['clusterroles', 'clusterroles'] },
      { target: 'live', scope: 'Namespaced', apiGroups: ['', 'apps'], resources: ['replicationcontrollers', 'replicasets'], operations: ['UPDATE'] },
      { target: 'live', scope: 'Namespaced', namespaces: ['team-a'], resources: ['configmaps'] },
    ];
    const mixed = compare(['--set-json', `config.sources=${JSON.stringify(sources)}`, '--set-json', `config.rules=${JSON.stringify(rules)}`]);
    expect(mixed.map((w) => (w as unknown as { name: string }).name)).toEqual([
      'prod.attribution.gitops-reverser.io',
      'namespaces-1.prod.attribution.gitops-reverser.io',
      'namespaces-2.prod.attribution.gitops-reverser.io',
      'dev.attribution.gitops-reverser.io',
      'namespaces-1.dev.attribution.gitops-reverser.io',
      'namespaces-2.dev.attribution.gitops-reverser.io',
    ]);
  });

  it('admission-enabled values: Service port, container port, certificate mount and NetworkPolicy for the webhook; the hook may patch only that configuration', () => {
    const manifests = documents(render('gr-admission', 'values-admission.yaml').stdout);
    const service = manifests.find((m) => m.kind === 'Service')?.spec as { ports: { name: string; port: number; targetPort: string }[] };
    expect(service.ports.find((p) => p.name === 'admission')).toMatchObject({ port: 9444, targetPort: 'admission' });
    const container = podSpec(manifests)['containers'][0] as { ports: { name: string; containerPort: number }[]; volumeMounts: { name: string; mountPath: string }[] };
    expect(container.ports.find((p) => p.name === 'admission')?.containerPort).toBe(9444);
    expect(container.volumeMounts).toContainEqual({ name: 'admission-tls', mountPath: '/etc/gitops-reverser/admission-tls', readOnly: true });
    expect((podSpec(manifests)['volumes'] as { name: string; secret?: { secretName: string } }[]).find((v) => v.name === 'admission-tls')?.secret?.secretName).toBe('gr-gitops-reverser-webhook-tls');
    const policy = manifests.find((m) => m.kind === 'NetworkPolicy')?.spec as { ingress: unknown[] };
    expect(policy.ingress).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }] }, { ports: [{ port: 'admission', protocol: 'TCP' }], from: [{ ipBlock: { cidr: '10.0.0.0/28' } }] }]);
    const hookRules = manifests.filter((m) => isHook(m) && (m.kind === 'Role' || m.kind === 'ClusterRole')).flatMap((m) => (m as unknown as { rules: unknown[] }).rules);
    expect(hookRules).toHaveLength(4);
    expect(hookRules).toEqual(
      expect.arrayContaining([
        { apiGroups: [''], resources: ['secrets'], resourceNames: ['gr-gitops-reverser-webhook-tls'], verbs: ['get'] },
        // Kubernetes cannot limit create by name.
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
        { apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations'], resourceNames: ['gr-gitops-reverser'], verbs: ['get', 'patch'] },
        // The post-delete hook's.
        { apiGroups: [''], resources: ['secrets'], resourceNames: ['gr-gitops-reverser-webhook-tls'], verbs: ['get', 'delete'] },
      ]),
    );
    // The default NetworkPolicy: only the http port, from anyone (httpFrom empty).
    const defaults = documents(render('gr-default').stdout).find((m) => m.kind === 'NetworkPolicy')?.spec as { ingress: unknown[]; policyTypes: string[] };
    expect(defaults).toMatchObject({ policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 'http', protocol: 'TCP' }] }] });
  });

  it('`helm template` renders the same bytes every time with both webhooks on: nothing random, no lookup (Argo CD renders this way)', () => {
    const args = ['--set', 'auditWebhook.enabled=true'];
    const first = render('gr-admission', 'values-admission.yaml', args);
    expect(first.code, first.stderr).toBe(0);
    expect(render('gr-admission', 'values-admission.yaml', args).stdout).toBe(first.stdout);
    expect(first.stdout).not.toContain('BEGIN CERTIFICATE');
  });

  it('refuses webhook values that cannot work, naming the fix', () => {
    const refused = (values: string | undefined, ...extra: string[]) => render('gr-admission', values, extra);
    expect(refused(undefined, '--set', 'admissionWebhook.enabled=true').stderr).toContain('admissionWebhook.enabled needs the source in config.sources');
    expect(refused('values-admission.yaml', '--set', 'admissionWebhook.timeoutSeconds=3').stderr).toContain('admissionWebhook.timeoutSeconds 3: use 1 or 2');
    expect(refused('values-admission.yaml', '--set', 'admissionWebhook.tlsSecretName=mine').stderr).toContain('admissionWebhook.tlsSecretName is set without admissionWebhook.caBundle');
    expect(refused('values-admission.yaml', '--set', 'config.sources[1].with.listen.host=127.0.0.1').stderr).toContain('listens on 127.0.0.1: the API server cannot reach that in a pod');
    expect(refused('values-admission.yaml', '--set', 'config.sources[1].with.listen.port=9555').stderr).toContain('listens on port 9555 but admissionWebhook.port is 9444');
    expect(refused(undefined, '--set-json', 'networkPolicy.from=[]').stderr).toContain('networkPolicy.from was split');
    expect(refused('values-audit.yaml', '--set', 'auditWebhook.certificateValidityDays=30').stderr).toContain('moved to webhookCertificate.validityDays');
    // A Secret of one's own with its CA: no hook at all.
    const own = documents(render('gr-admission', 'values-admission.yaml', ['--set', 'admissionWebhook.tlsSecretName=mine', '--set', 'admissionWebhook.caBundle=Q0E=']).stdout);
    expect(own.filter(isHook)).toEqual([]);
    const configuration = own.find((m) => m.kind === 'ValidatingWebhookConfiguration') as unknown as { webhooks: { clientConfig: { caBundle: string } }[] };
    expect(configuration.webhooks.every((w) => w.clientConfig.caBundle === 'Q0E=')).toBe(true);
  });

  it('install, upgrade and uninstall (hooks run as their Jobs would: their arguments, their ServiceAccounts): the certificate is made once, the caBundle is right after each, helm upgrade keeps it, uninstall deletes it', async () => {
    const release = 'gri';
    const namespace = 'gr-install';
    const values = ['-f', join(chart, 'examples', 'values-admission.yaml')];
    const kube = ['--kubeconfig', cluster.kubeconfig];
    const manifests = documents(render(namespace, 'values-admission.yaml', [], release).stdout);
    const hooks = manifests.filter((m) => isHook(m) && !isDeleteHook(m));
    const job = hooks.find((m) => m.kind === 'Job') as Manifest;
    const jobArgs = podSpecOf(job)['containers'][0].args as string[];
    const secretName = `${release}-gitops-reverser-webhook-tls`;
    const configurationName = `${release}-gitops-reverser`;
    const dir = mkdtempSync(join(tmpdir(), 'gr-chart-install-'));

    // The hook's access, applied for real (no kubelet here runs the Job: the test runs its command instead).
    const hookAccess = hooks.filter((m) => m.kind !== 'Job');
    const applied = run(kubectl, [...kube, 'apply', '--server-side', '--field-manager=chart-test', '-f', '-'], hookAccess.map((m) => `---\n${JSON.stringify(m)}\n`).join(''));
    expect(applied.stderr).toBe('');
    const serviceAccount = podSpecOf(job)['serviceAccountName'] as string;
    /** A kubeconfig with a token of `account`, as its Job's pod would have. */
    const kubeconfigOf = async (account: string) => {
      const token = await access.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${account}/token`, {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
      });
      expect(token.status).toBe(201);
      const file = join(dir, `${account}.kubeconfig`);
      writeFileSync(file, access.kubeconfigForToken((JSON.parse(token.body) as { status: { token: string } }).status.token, account));
      return file;
    };
    const hookKubeconfig = await kubeconfigOf(serviceAccount);
    const hookRun = (args = jobArgs) => run(process.execPath, [cli, ...args, '--kubeconfig', hookKubeconfig]);
    const secretData = async () => (JSON.parse((await access.request('GET', `/api/v1/namespaces/${namespace}/secrets/${secretName}`)).body) as { data: Record<string, string> }).data;
    const configuration = async () =>
      JSON.parse((await access.request('GET', `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${configurationName}`)).body) as {
        webhooks: { name: string; timeoutSeconds: number; clientConfig: { caBundle?: string } }[];
      };
    try {
      // pre-install: the Secret is made; the configuration does not exist yet.
      const pre = hookRun();
      expect(pre.stderr).toBe('');
      expect(pre.stdout).toMatch(new RegExp(`^Secret ${namespace}/${secretName}: created .*\\nValidatingWebhookConfiguration ${configurationName}: not there yet`));
      const first = await secretData();
      const serving = new X509Certificate(Buffer.from(first['tls.crt'] as string, 'base64'));
      expect(serving.verify(new X509Certificate(Buffer.from(first['ca.crt'] as string, 'base64')).publicKey)).toBe(true);
      expect(serving.checkHost(`${release}-gitops-reverser.${namespace}.svc`)).toBe(`${release}-gitops-reverser.${namespace}.svc`);

      // The release itself (hooks aside), then post-install: every webhook trusts the Secret's CA.
      const installed = run(helm, ['install', release, chart, '--namespace', namespace, ...values, '--no-hooks', ...kube]);
      expect(installed.code, installed.stderr).toBe(0);
      expect((await configuration()).webhooks.every((w) => w.clientConfig.caBundle === undefined)).toBe(true);
      const post = hookRun();
      expect(post.stdout).toContain(`Secret ${namespace}/${secretName}: kept`);
      expect(post.stdout).toContain(`ValidatingWebhookConfiguration ${configurationName}: caBundle set on 2 webhook(s)`);
      expect((await configuration()).webhooks.map((w) => w.clientConfig.caBundle)).toEqual([first['ca.crt'], first['ca.crt']]);

      // helm upgrade with a changed value: the caBundle it never set survives the three-way merge.
      const upgraded = run(helm, ['upgrade', release, chart, '--namespace', namespace, ...values, '--set', 'admissionWebhook.timeoutSeconds=1', '--no-hooks', ...kube]);
      expect(upgraded.code, upgraded.stderr).toBe(0);
      const afterUpgrade = await configuration();
      expect(afterUpgrade.webhooks.map((w) => [w.timeoutSeconds, w.clientConfig.caBundle])).toEqual([
        [1, first['ca.crt']],
        [1, first['ca.crt']],
      ]);
      // pre- and post-upgrade: nothing to do; the certificate is the same one.
      for (let i = 0; i < 2; i++) expect(hookRun().stdout).toMatch(/: kept \(valid until .*\n.*: caBundle already current\n$/);
      expect(await secretData()).toEqual(first);

      // The hook's ServiceAccount may not read any other Secret.
      const other = hookRun(jobArgs.map((arg) => (arg.startsWith('--secret=') ? '--secret=some-other-secret' : arg)));
      expect(other.code).toBe(1);
      expect(other.stderr).toContain('GR_ERR_WEBHOOK_CERTIFICATE: cannot read Secret gr-install/some-other-secret');
      expect(other.stderr).toContain('HTTP 403');

      // Uninstall removes the configuration; the Secret is not part of the release, so it is still there.
      expect(run(helm, ['uninstall', release, '--namespace', namespace, '--no-hooks', ...kube]).code).toBe(0);
      expect((await access.request('GET', `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${configurationName}`)).status).toBe(404);
      expect(await secretData()).toEqual(first);

      // post-delete: the removal hook's own access, then its command as its Job runs it, deletes the Secret.
      const removal = manifests.filter(isDeleteHook);
      const removalJob = removal.find((m) => m.kind === 'Job') as Manifest;
      const removalArgs = podSpecOf(removalJob)['containers'][0].args as string[];
      const removalAccess = removal.filter((m) => m.kind !== 'Job');
      expect(run(kubectl, [...kube, 'apply', '--server-side', '--field-manager=chart-test', '-f', '-'], removalAccess.map((m) => `---\n${JSON.stringify(m)}\n`).join('')).stderr).toBe('');
      const removalKubeconfig = await kubeconfigOf(podSpecOf(removalJob)['serviceAccountName'] as string);
      const removalRun = (args = removalArgs) => run(process.execPath, [cli, ...args, '--kubeconfig', removalKubeconfig]);
      // It may touch no other Secret.
      const otherRemoval = removalRun(removalArgs.map((arg) => (arg.startsWith('--secret=') ? '--secret=some-other-secret' : arg)));
      expect(otherRemoval.code).toBe(1);
      expect(otherRemoval.stderr).toContain('GR_ERR_WEBHOOK_CERTIFICATE: cannot read Secret gr-install/some-other-secret');
      expect(removalRun()).toMatchObject({ code: 0, stdout: `Secret ${namespace}/${secretName}: deleted\n`, stderr: '' });
      expect((await access.request('GET', `/api/v1/namespaces/${namespace}/secrets/${secretName}`)).status).toBe(404);
      expect(removalRun()).toMatchObject({ code: 0, stdout: `Secret ${namespace}/${secretName}: not there\n` });
      // A Secret of that name someone made (without the labels webhook-certificate gives) is theirs: kept.
      const own = await access.request('POST', `/api/v1/namespaces/${namespace}/secrets`, {
        body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: secretName }, type: 'kubernetes.io/tls', data: first },
      });
      expect(own.status).toBe(201);
      expect(removalRun().stdout).toBe(`Secret ${namespace}/${secretName}: kept (not made by webhook-certificate: it lacks the label app.kubernetes.io/component=webhook-certificate)\n`);
      expect(await secretData()).toEqual(first);
    } finally {
      run(helm, ['uninstall', release, '--namespace', namespace, '--ignore-not-found', '--no-hooks', ...kube]);
      await access.request('DELETE', `/api/v1/namespaces/${namespace}/secrets/${secretName}`);
    }
  });

  it('service.clusterIP fixes the Service address (the audit webhook kubeconfig names it); unset, the API server allocates one', () => {
    const serviceOf = (extra: string[]) => {
      const rendered = render('gr-default', undefined, extra);
      expect(rendered.code).toBe(0);
      return documents(rendered.stdout).find((m) => m.kind === 'Service') as unknown as { spec: { clusterIP?: string } };
    };
    expect(serviceOf([]).spec.clusterIP).toBeUndefined();
    expect(serviceOf(['--set', 'service.clusterIP=10.0.0.77']).spec.clusterIP).toBe('10.0.0.77');
  });

  it('refuses more than one replica without the durable bus, naming the fix', () => {
    const refused = render('gr-default', undefined, ['--set', 'replicaCount=2']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('replicaCount 2 needs the durable bus: set config.bus.use to "@gitops-reverser/bus-nats"');
  });

  it('keeps Secrets out of values: credentials reach the pod as env from Secrets', () => {
    const manifests = documents(render('gr-ha', 'values-ha.yaml').stdout);
    const container = podSpec(manifests)['containers'][0];
    expect(container['env']).toContainEqual({ name: 'GIT_PASSWORD', valueFrom: { secretKeyRef: { name: 'git-credentials', key: 'password' } } });
    expect(JSON.stringify(manifests.filter((m) => m.kind === 'ConfigMap'))).not.toContain(env.GIT_PASSWORD);
  });

  it('HA values: the NATS bus uses TLS with a client certificate, an nkey and the message key, every file from a mounted Secret', () => {
    const manifests = documents(render('gr-ha', 'values-ha.yaml').stdout);
    const configText = manifests.find((m) => m.kind === 'ConfigMap')?.data?.['config.yaml'] as string;
    const bus = parseConfig(configText, '/etc/gitops-reverser/config.yaml', { env }).bus.with as {
      tls: Record<string, string>;
      nkeySeedFile: string;
      messageKeys: { file?: string; value?: string }[];
      allowUnsignedMessages?: boolean;
    };
    const files = [bus.tls['caFile'], bus.tls['certFile'], bus.tls['keyFile'], bus.nkeySeedFile, ...bus.messageKeys.map((key) => key.file)];
    expect(files.every((file) => typeof file === 'string')).toBe(true);
    expect(bus.messageKeys.every((key) => key.value === undefined)).toBe(true);
    expect(bus.allowUnsignedMessages).toBeUndefined();
    const container = podSpec(manifests)['containers'][0] as { volumeMounts: { name: string; mountPath: string }[] };
    const volumes = podSpec(manifests)['volumes'] as { name: string; secret?: { secretName: string } }[];
    const secretMounts = container.volumeMounts.filter((mount) => volumes.find((volume) => volume.name === mount.name)?.secret);
    for (const file of files)
      expect(
        secretMounts.some((mount) => (file as string).startsWith(`${mount.mountPath}/`)),
        `${file} is in a mounted Secret`,
      ).toBe(true);
  });
});

/** The pod spec of a Job or Deployment. */
// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are read field by field, as the assertions need
function podSpecOf(manifest: { spec?: unknown }): Record<string, any> {
  return (manifest.spec as { template: { spec: Record<string, unknown> } }).template.spec;
}

/** The Deployment's pod spec (the chart renders exactly one Deployment). */
// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are read field by field, as the assertions need
function podSpec(manifests: readonly { kind?: unknown; spec?: unknown }[]): Record<string, any> {
  const deployment = manifests.find((m) => m.kind === 'Deployment') as { spec: { template: { spec: Record<string, unknown> } } } | undefined;
  if (!deployment) throw new Error('the chart rendered no Deployment');
  return deployment.spec.template.spec;
}
