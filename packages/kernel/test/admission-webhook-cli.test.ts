import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createWebhookCertificate } from '../src/webhook/webhook-certificate.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = join(repoRoot, 'packages/kernel/dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'gr-admission-cli-'));

function runCli(args: string[], env: Record<string, string | undefined> = {}) {
  const merged: Record<string, string | undefined> = { ...process.env, ...env };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: repoRoot, encoding: 'utf8', env: merged });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A config whose adapters do not exist: the command must not load any. */
function config(sources: string, rules: string): string {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `apiVersion: gitops-reverser/v1alpha2
sources:
${sources}
sink: { use: ./no-such-sink.js }
targets: [ { name: live } ]
rules:
${rules}
`,
  );
  return file;
}

const admissionSource = (cluster: string) => `  - { use: "@gitops-reverser/source-admission", cluster: ${cluster}, with: { tls: { certFile: ./tls.crt, keyFile: ./tls.key } } }`;
const ca = join(dir, 'ca.crt');
writeFileSync(ca, createWebhookCertificate({ commonName: 'webhook', dnsNames: ['webhook.example'], validityDays: 1 }).caCert);

// biome-ignore lint/suspicious/noExplicitAny: the printed manifest is read field by field, as the assertions need
const manifestOf = (stdout: string) => parse(stdout.split(/^---$/m)[1] as string) as any;

describe('gitops-reverser admission-webhook', () => {
  it('prints the ValidatingWebhookConfiguration for each source-admission cluster, with the CA as caBundle, without loading adapters', () => {
    const file = config(
      `  - { use: ./no-such-informer.js, cluster: prod }\n${admissionSource('prod')}`,
      '  - { target: live, scope: Namespaced, namespaces: [shop], apiGroups: ["", apps], resources: [configmaps, deployments] }\n  - { target: live, scope: Cluster, apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles] }',
    );
    const result = runCli(['admission-webhook', '--config', file, '--url', 'https://10.0.0.5:9444', '--ca-file', ca, '--namespace', 'ops', '--name', 'gr']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^# The validating admission webhook of .*\(cluster prod\)/);
    const manifest = manifestOf(result.stdout);
    expect(manifest.metadata.name).toBe('gr');
    expect(manifest.webhooks.map((w: { name: string }) => w.name)).toEqual(['prod.attribution.gitops-reverser.io', 'namespaces-1.prod.attribution.gitops-reverser.io']);
    for (const webhook of manifest.webhooks) {
      expect(webhook).toMatchObject({ failurePolicy: 'Ignore', sideEffects: 'None', timeoutSeconds: 2, admissionReviewVersions: ['v1'] });
      expect(webhook.clientConfig.url).toBe('https://10.0.0.5:9444/admission/prod');
      expect(Buffer.from(webhook.clientConfig.caBundle, 'base64').toString()).toContain('-----BEGIN CERTIFICATE-----');
    }
    expect(manifest.webhooks[0].namespaceSelector.matchExpressions).toEqual([{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['ops'] }]);
    expect(manifest.webhooks[1].namespaceSelector.matchExpressions).toEqual([{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['shop'] }]);
    expect(manifest.webhooks[1].rules[0].resources).toEqual(['configmaps', 'deployments', 'deployments/scale']);
  });

  it('--service and --timeout-seconds 1; without --ca-file a note says whose trust is used', () => {
    const file = config(admissionSource('dev'), '  - { target: live, scope: Namespaced, resources: [configmaps] }');
    const result = runCli(['admission-webhook', '--config', file, '--service', 'gitops-reverser/gr-gitops-reverser:9444', '--timeout-seconds', '1']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('# note: no --ca-file');
    const webhook = manifestOf(result.stdout).webhooks[0];
    expect(webhook.clientConfig).toEqual({ service: { namespace: 'gitops-reverser', name: 'gr-gitops-reverser', path: '/admission/dev', port: 9444 } });
    expect(webhook.timeoutSeconds).toBe(1);
  });

  it('refuses what cannot work, naming the fix: a timeout above 2 s, an http URL, both or neither address, an unreadable CA; no admission source', () => {
    const file = config(admissionSource('dev'), '  - { target: live, scope: Namespaced, resources: [configmaps] }');
    const refused = (args: string[]) => runCli(['admission-webhook', '--config', file, ...args]);
    expect(refused(['--url', 'https://h:9444', '--timeout-seconds', '3'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--timeout-seconds "3" is not 1 or 2') });
    expect(refused(['--url', 'http://h:9444'])).toMatchObject({ code: 2, stderr: expect.stringContaining('must be https://') });
    expect(refused(['--url', 'https://h', '--service', 'a/b'])).toMatchObject({ code: 2, stderr: expect.stringContaining('exactly one of --url and --service') });
    expect(refused([])).toMatchObject({ code: 2, stderr: expect.stringContaining('fix: pass --url https://<host>:9444') });
    expect(refused(['--service', 'a/b:99999'])).toMatchObject({ code: 2, stderr: expect.stringContaining('is not <namespace>/<name>[:port]') });
    expect(refused(['--url', 'https://h', '--ca-file', join(dir, 'missing.crt')])).toMatchObject({ code: 2, stderr: expect.stringContaining('cannot be read') });
    const none = config('  - { use: "@gitops-reverser/source-informer", cluster: dev }', '  - { target: live, scope: Namespaced, resources: [configmaps] }');
    expect(runCli(['admission-webhook', '--config', none, '--url', 'https://h'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('has no @gitops-reverser/source-admission source'),
    });
  });
});

describe('gitops-reverser webhook-certificate', () => {
  it('needs --namespace, --secret and a --dns-name; outside a pod without --kubeconfig it says so', () => {
    expect(runCli(['webhook-certificate', '--namespace', 'ops'])).toMatchObject({ code: 2, stderr: expect.stringContaining('needs --namespace, --secret and at least one --dns-name') });
    expect(runCli(['webhook-certificate', '--namespace', 'ops', '--secret', 's', '--dns-name', 'a', '--validity-days', '0'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--validity-days "0"'),
    });
    expect(runCli(['webhook-certificate', '--namespace', 'ops', '--secret', 's', '--dns-name', 'a'], { KUBERNETES_SERVICE_HOST: undefined })).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('not running in a pod (KUBERNETES_SERVICE_HOST is not set): pass --kubeconfig <file>'),
    });
    // A kubeconfig that cannot be used: the code, the file and what to pass, not a bare ENOENT.
    const missing = runCli(['webhook-certificate', '--namespace', 'ops', '--secret', 's', '--dns-name', 'a', '--kubeconfig', '/nonexistent/kubeconfig']);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('GR_ERR_CLI_USAGE: --kubeconfig /nonexistent/kubeconfig cannot be used: ENOENT') });
    expect(missing.stderr).toContain('fix: pass --kubeconfig <file> with a token or client certificate');
  });

  it('--delete needs --namespace and --secret and refuses the options of making a certificate; outside a pod without --kubeconfig it says so', () => {
    const usage = 'webhook-certificate --delete needs --namespace and --secret, and takes none of --dns-name, --validity-days, --webhook-configuration';
    expect(runCli(['webhook-certificate', '--delete', '--namespace', 'ops'])).toMatchObject({ code: 2, stderr: expect.stringContaining(usage) });
    for (const extra of [
      ['--dns-name', 'a'],
      ['--validity-days', '30'],
      ['--webhook-configuration', 'w'],
    ]) {
      expect(runCli(['webhook-certificate', '--delete', '--namespace', 'ops', '--secret', 's', ...extra])).toMatchObject({ code: 2, stderr: expect.stringContaining(usage) });
    }
    expect(runCli(['webhook-certificate', '--delete', '--namespace', 'ops', '--secret', 's'], { KUBERNETES_SERVICE_HOST: undefined })).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('not running in a pod (KUBERNETES_SERVICE_HOST is not set): pass --kubeconfig <file>'),
    });
  });

  it('--help lists both commands', () => {
    const help = runCli(['--help']).stdout;
    expect(help).toContain('gitops-reverser admission-webhook --config <file>');
    expect(help).toContain('gitops-reverser webhook-certificate --namespace <ns>');
    expect(help).toContain('gitops-reverser webhook-certificate --delete --namespace <ns> --secret <name>');
  });
});
