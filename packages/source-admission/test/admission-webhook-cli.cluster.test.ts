import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelMetrics, parseConfig, Runtime, silentLogger } from '@gitops-reverser/kernel';
import { ControlPlaneAccess, controlPlaneBinaries, createTestNamespace, freePort, TEST_USERS, until } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// The non-Helm path end to end, as the README tells it: `gitops-reverser webhook-certificate` makes the
// serving certificate (as a Secret), `gitops-reverser admission-webhook` prints the webhook
// configuration, `kubectl apply --server-side` registers it with the real API server. Then a write in
// a namespace the rules select is reviewed (its commit: the author, Attribution: admission) and a
// write in the installation's own namespace is not (no review counted; committed with Attribution: none).

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = join(root, 'packages/kernel/bin/gitops-reverser.js');
const cluster = inject('testCluster');
const access = new ControlPlaneAccess(cluster);
const dir = mkdtempSync(join(tmpdir(), 'gr-admission-cli-e2e-'));
const repo = join(dir, 'state-repo');
const CONFIGURATION = 'gitops-reverser-cli-test';
const metrics = new KernelMetrics();

let selected: string;
let own: string;
let runtime: Runtime;

/** Asynchronous: the webhook answers from this very process, so nothing here may block its event loop. */
function run(command: string, args: string[], input = ''): Promise<string> {
  return new Promise((done, fail) => {
    const child = execFile(command, args, { encoding: 'utf8', cwd: dir }, (error, stdout, stderr) => (error ? fail(new Error(`${args.join(' ')}: ${stderr || error.message}`)) : done(stdout)));
    child.stdin?.end(input);
  });
}
const gitopsReverser = (...args: string[]) => run(process.execPath, [cli, ...args]);
const kubectl = (args: string[], input?: string) => run(controlPlaneBinaries().kubectl, ['--kubeconfig', cluster.kubeconfig, ...args], input);

/** Author and Attribution trailer of each commit touching a file, newest first. */
function history(path: string): string[] {
  try {
    return execFileSync('git', ['-C', repo, 'log', '--format=%an|%(trailers:key=Attribution,valueonly,separator=)', 'main', '--', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .trim()
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
}

async function reviews(): Promise<number> {
  const text = await metrics.registry.metrics();
  return [...text.matchAll(/^gitops_reverser_admission_reviews_total\{[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

async function write(namespace: string, path: string, body: Record<string, unknown>, user: 'alice' | 'bob' = 'alice') {
  const response = await access.request('POST', `/${path.startsWith('deployments') ? 'apis/apps/v1' : 'api/v1'}/namespaces/${namespace}/${path}`, { user, body });
  if (response.status !== 201) throw new Error(`POST ${path}: ${response.status} ${response.body}`);
}

beforeAll(async () => {
  selected = await createTestNamespace(access, 'adm-selected');
  own = await createTestNamespace(access, 'adm-own');
  writeFileSync(join(dir, 'kubeconfig'), access.kubeconfigText('admin'));

  // 1. The serving certificate, made by the command the chart's hook Job runs.
  const made = await gitopsReverser('webhook-certificate', '--kubeconfig', cluster.kubeconfig, '--namespace', own, '--secret', 'webhook-tls', '--dns-name', 'localhost');
  expect(made).toContain(`Secret ${own}/webhook-tls: created`);
  const secret = JSON.parse((await access.request('GET', `/api/v1/namespaces/${own}/secrets/webhook-tls`)).body) as { data: Record<string, string> };
  for (const key of ['ca.crt', 'tls.crt', 'tls.key']) writeFileSync(join(dir, key), Buffer.from(secret.data[key] as string, 'base64'));

  // 2. The source, listening where the API server will call it.
  const port = await freePort();
  const configText = `apiVersion: gitops-reverser/v1alpha2
sources:
  - { use: "@gitops-reverser/source-informer", cluster: cli, with: { kubeconfig: ./kubeconfig } }
  - { use: "@gitops-reverser/source-admission", cluster: cli, with: { listen: { host: 127.0.0.1, port: ${port} }, tls: { certFile: ./tls.crt, keyFile: ./tls.key } } }
attribution: { waitMs: 3000 }
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: local, url: ./state-repo } ] } }
targets: [ { name: live, with: { provider: local, branch: main, path: clusters/cli } } ]
rules:
  - { target: live, scope: Namespaced, namespaces: [${selected}, ${own}], resources: [configmaps] }
  - { target: live, scope: Namespaced, apiGroups: [apps], resources: [deployments] }
`;
  writeFileSync(join(dir, 'config.yaml'), configText);
  runtime = await Runtime.create(parseConfig(configText, join(dir, 'config.yaml')), { logger: silentLogger(), metrics });
  await runtime.start();

  // 3. The webhook configuration, printed by the CLI and applied server-side.
  const printed = await gitopsReverser(
    'admission-webhook',
    '--config',
    join(dir, 'config.yaml'),
    '--url',
    `https://localhost:${port}`,
    '--ca-file',
    join(dir, 'ca.crt'),
    '--namespace',
    own,
    '--name',
    CONFIGURATION,
  );
  expect(printed).toContain(`# note: rules[0] names ${own}, the installation's own namespace`);
  const applied = await kubectl(['apply', '--server-side', '--field-manager=admission-cli-test', '-f', '-'], printed);
  expect(applied.trim()).toBe(`validatingwebhookconfiguration.admissionregistration.k8s.io/${CONFIGURATION} serverside-applied`);
}, 300_000);

afterAll(async () => {
  await access.request('DELETE', `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${CONFIGURATION}`);
  await runtime?.stop('test done');
});

describe('gitops-reverser admission-webhook + webhook-certificate against the real API server', () => {
  it('the applied configuration: deployments everywhere but the own namespace, configmaps in the selected one only; the caBundle is the generated CA', async () => {
    const live = JSON.parse((await access.request('GET', `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${CONFIGURATION}`)).body) as {
      webhooks: { name: string; failurePolicy: string; timeoutSeconds: number; namespaceSelector: unknown; clientConfig: { caBundle: string } }[];
    };
    // Deployments over all namespaces but the own one; configmaps in the selected namespace only.
    expect(live.webhooks.map(({ name, failurePolicy, timeoutSeconds, namespaceSelector }) => ({ name, failurePolicy, timeoutSeconds, namespaceSelector }))).toEqual([
      {
        name: 'cli.attribution.gitops-reverser.io',
        failurePolicy: 'Ignore',
        timeoutSeconds: 2,
        namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [own] }] },
      },
      {
        name: 'namespaces-1.cli.attribution.gitops-reverser.io',
        failurePolicy: 'Ignore',
        timeoutSeconds: 2,
        namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [selected] }] },
      },
    ]);
    // The CA given with --ca-file is the Secret's: webhook-certificate keeps both as they are.
    const again = await gitopsReverser(
      'webhook-certificate',
      '--kubeconfig',
      cluster.kubeconfig,
      '--namespace',
      own,
      '--secret',
      'webhook-tls',
      '--dns-name',
      'localhost',
      '--webhook-configuration',
      CONFIGURATION,
    );
    expect(again).toMatch(new RegExp(`^Secret ${own}/webhook-tls: kept \\(valid until \\S+\\)\nValidatingWebhookConfiguration ${CONFIGURATION}: caBundle already current\n$`));
  });

  it('a write in a selected namespace is reviewed: the commit names its author (Attribution: admission), a scale too', async () => {
    const before = await reviews();
    await write(selected, 'configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'reviewed' }, data: { a: 'b' } }, 'alice');
    await write(selected, 'deployments', deployment('web'), 'bob');
    await until(
      () => (history(`clusters/cli/${selected}/configmaps/reviewed.yaml`).length === 1 && history(`clusters/cli/${selected}/apps/deployments/web.yaml`).length === 1) || undefined,
      'both commits',
      60_000,
    );
    expect(history(`clusters/cli/${selected}/configmaps/reviewed.yaml`)).toEqual([`${TEST_USERS.alice.name}|admission`]);
    expect(history(`clusters/cli/${selected}/apps/deployments/web.yaml`)).toEqual([`${TEST_USERS.bob.name}|admission`]);
    const scaled = await access.request('PATCH', `/apis/apps/v1/namespaces/${selected}/deployments/web/scale`, {
      user: 'alice',
      body: { spec: { replicas: 3 } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(scaled.status).toBe(200);
    await until(() => history(`clusters/cli/${selected}/apps/deployments/web.yaml`).length === 2 || undefined, 'the scale commit', 60_000);
    expect(history(`clusters/cli/${selected}/apps/deployments/web.yaml`)[0]).toBe(`${TEST_USERS.alice.name}|admission`);
    expect(await reviews()).toBeGreaterThanOrEqual(before + 3);
  });

  it('a write in the installation’s own namespace is not reviewed: no review counted, committed with Attribution: none', async () => {
    const before = await reviews();
    await write(own, 'configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'not-reviewed' }, data: { a: 'b' } }, 'alice');
    await write(own, 'deployments', deployment('own-web'), 'alice');
    await until(
      () => (history(`clusters/cli/${own}/configmaps/not-reviewed.yaml`).length === 1 && history(`clusters/cli/${own}/apps/deployments/own-web.yaml`).length === 1) || undefined,
      'both commits',
      60_000,
    );
    expect(history(`clusters/cli/${own}/configmaps/not-reviewed.yaml`)).toEqual(['gitops-reverser|none']);
    expect(history(`clusters/cli/${own}/apps/deployments/own-web.yaml`)).toEqual(['gitops-reverser|none']);
    expect(await reviews()).toBe(before);
  });
});

function deployment(name: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] } },
    },
  };
}
