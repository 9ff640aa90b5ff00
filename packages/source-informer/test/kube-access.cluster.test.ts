import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueCertificate, TEST_USERS } from '@gitops-reverser/testkit';
import { describe, expect, it } from 'vitest';
import { KubeApiError, KubeClient } from '../src/kube-client.js';
import { readKubeAccess } from '../src/kube-access.js';
import { cluster, tempDir } from './e2e-helpers.js';

// The kubeconfig reader against the real API server: each way of authenticating is checked by what
// the server answers, not by the headers we think we sent.
function kubeconfigFile(dir: string, user: string, clusterExtra = `certificate-authority: "${cluster.caCert}"`): string {
  const file = join(dir, 'kubeconfig');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
current-context: test
clusters: [ { name: c, cluster: { server: "${cluster.server}", ${clusterExtra} } } ]
contexts: [ { name: test, context: { cluster: c, user: u } }, { name: other, context: { cluster: c, user: nobody } } ]
users: [ { name: u, user: ${user} }, { name: nobody, user: {} } ]
`,
  );
  return file;
}

async function namespaces(file: string, context?: string): Promise<string[]> {
  const client = await KubeClient.load({ kubeconfig: file, ...(context ? { context } : {}) });
  const list = await client.getJson<{ items: { metadata: { name: string } }[] }>('/api/v1/namespaces');
  return list.items.map((item) => item.metadata.name);
}

describe('kubeconfig reading without @kubernetes/client-node', () => {
  it('a bearer token with an inline CA', async () => {
    const file = kubeconfigFile(tempDir(), `{ token: "${TEST_USERS.admin.token}" }`);
    expect(readKubeAccess({ kubeconfig: file })).toBeDefined();
    expect(await namespaces(file)).toContain('kube-system');
  });

  it('a token file and a CA path relative to the kubeconfig, read again at every request', async () => {
    const dir = tempDir();
    copyFileSync(cluster.caCert, join(dir, 'ca.crt'));
    writeFileSync(join(dir, 'token'), `${TEST_USERS.reader.token}\n`);
    const file = kubeconfigFile(dir, '{ tokenFile: ./token }', 'certificate-authority: ./ca.crt');
    const client = await KubeClient.load({ kubeconfig: file });
    // reader may not list namespaces: the server saw reader's token.
    const refused = await client.getJson('/api/v1/namespaces').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(KubeApiError);
    expect((refused as KubeApiError).status).toBe(403);
    // The token rotates in the file (as a projected ServiceAccount token does): the next request uses it.
    writeFileSync(join(dir, 'token'), `${TEST_USERS.admin.token}\n`);
    expect((await client.getJson<{ items: unknown[] }>('/api/v1/namespaces')).items.length).toBeGreaterThan(0);
  });

  it('a client certificate and key (files), and impersonation with as:', async () => {
    const dir = tempDir();
    const { cert, key } = issueCertificate({ dir, caCert: cluster.caCert, caKey: cluster.caKey }, 'cert-admin', { commonName: 'cert-admin', organization: 'system:masters', clientAuth: true });
    const file = kubeconfigFile(dir, `{ client-certificate: "${cert}", client-key: "${key}" }`);
    expect(await namespaces(file)).toContain('default');
    const impersonating = kubeconfigFile(tempDir(), `{ token: "${TEST_USERS.admin.token}", as: "${TEST_USERS.reader.name}" }`);
    const refused = await namespaces(impersonating).catch((e: unknown) => e);
    expect((refused as KubeApiError).status).toBe(403);
    expect((refused as Error).message).toContain(TEST_USERS.reader.name);
  });

  it('insecure-skip-tls-verify without a CA; an unknown context is named', async () => {
    const file = kubeconfigFile(tempDir(), `{ token: "${TEST_USERS.admin.token}" }`, 'insecure-skip-tls-verify: true');
    expect(await namespaces(file)).toContain('default');
    await expect(KubeClient.load({ kubeconfig: file, context: 'missing' })).rejects.toThrow('context "missing" is not in the kubeconfig');
  });

  it('an exec credential plugin is left to @kubernetes/client-node, which runs it', async () => {
    const dir = tempDir();
    const plugin = join(dir, 'plugin.cjs');
    writeFileSync(plugin, `process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: '${TEST_USERS.admin.token}' } }));\n`);
    const file = kubeconfigFile(dir, `{ exec: { apiVersion: client.authentication.k8s.io/v1, command: "${process.execPath}", args: ["${plugin}"], interactiveMode: Never } }`);
    expect(readKubeAccess({ kubeconfig: file })).toBeUndefined();
    expect(await namespaces(file)).toContain('kube-system');
  });
});
