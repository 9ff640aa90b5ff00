import { spawnSync } from 'node:child_process';
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
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  spec?: Record<string, unknown>;
}

function run(command: string, args: string[], input?: string, extraEnv: Record<string, string> = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', input, env: { ...process.env, ...extraEnv } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function render(namespace: string, valuesFile?: string, extra: string[] = []) {
  return run(helm, ['template', 'gr', chart, '--namespace', namespace, ...(valuesFile ? ['-f', join(chart, 'examples', valuesFile)] : []), ...extra]);
}

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
  for (const namespace of ['gr-default', 'gr-audit', 'gr-ha', 'gr-ssh', 'team-a', 'team-b']) await ensureNamespace(namespace);
});

describe('helm chart deploy/helm/gitops-reverser', () => {
  const cases = [
    { name: 'default', namespace: 'gr-default', values: undefined, kinds: ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Service', 'ServiceAccount'] },
    {
      name: 'audit-enabled',
      namespace: 'gr-audit',
      values: 'values-audit.yaml',
      kinds: ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Secret', 'Service', 'ServiceAccount'],
    },
    {
      name: 'HA',
      namespace: 'gr-ha',
      values: 'values-ha.yaml',
      kinds: ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', 'ServiceAccount', 'ServiceMonitor'],
    },
    { name: 'SSH', namespace: 'gr-ssh', values: 'values-ssh.yaml', kinds: ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Service', 'ServiceAccount'] },
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

      // The chart's RBAC grants exactly what the CLI generates for that config.
      const printed = run(process.execPath, [cli, 'rbac', '--config', configFile, '--service-account', 'gr-gitops-reverser', '--namespace', namespace, '--name', 'gr-gitops-reverser'], undefined, env);
      expect(printed.stderr).toBe('');
      expect(grants(manifests)).toEqual(grants(documents(printed.stdout)));
      expect(grants(manifests).every((grant) => /\|(get|list|watch)$/.test(grant))).toBe(true);
      const binding = manifests.find((m) => m.kind === 'ClusterRoleBinding') as unknown as { subjects: unknown[] };
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

  it('audit-enabled values: a self-signed serving certificate for the Service names, mounted where the audit source reads it', () => {
    const manifests = documents(render('gr-audit', 'values-audit.yaml').stdout);
    const secret = manifests.find((m) => m.kind === 'Secret') as Manifest & { type: string };
    expect(secret.type).toBe('kubernetes.io/tls');
    const cert = Buffer.from(secret.data?.['tls.crt'] as string, 'base64').toString();
    const text = run('openssl', ['x509', '-noout', '-ext', 'subjectAltName'], cert).stdout;
    expect(text).toContain('DNS:gr-gitops-reverser.gr-audit.svc');
    const service = manifests.find((m) => m.kind === 'Service')?.spec as { ports: { name: string; port: number }[] };
    expect(service.ports.map((p) => p.name)).toEqual(['http', 'audit']);
    const config = manifests.find((m) => m.kind === 'ConfigMap')?.data?.['config.yaml'] as string;
    expect(config).toContain('/etc/gitops-reverser/audit-tls/tls.crt');
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

/** The Deployment's pod spec (the chart renders exactly one Deployment). */
// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are read field by field, as the assertions need
function podSpec(manifests: readonly { kind?: unknown; spec?: unknown }[]): Record<string, any> {
  const deployment = manifests.find((m) => m.kind === 'Deployment') as { spec: { template: { spec: Record<string, unknown> } } } | undefined;
  if (!deployment) throw new Error('the chart rendered no Deployment');
  return deployment.spec.template.spec;
}
