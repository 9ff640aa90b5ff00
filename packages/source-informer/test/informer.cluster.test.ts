import { createTestNamespace, createCustomResourceDefinition, GitHttpServer, TcpProxy } from '@gitops-reverser/testkit';
import { KernelMetrics, type Runtime } from '@gitops-reverser/kernel';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { access, api, cluster, configMap, files, git, mirrorSetup, type MirrorOptions, openWatches, show, subjects, tempDir, until } from './e2e-helpers.js';

/** The CLI as installed: the kernel package's bin launcher. */
const cliPath = join(dirname(createRequire(import.meta.url).resolve('@gitops-reverser/kernel/package.json')), 'bin/gitops-reverser.js');

/** The CLI in a child process; async, because the git server it pushes to runs in this process. */
async function runCliAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, stderr };
}

let server: GitHttpServer;
let runtimes: Runtime[] = [];

beforeAll(async () => {
  server = new GitHttpServer({ credentials: { username: 'bot', password: 'pw' } });
  await server.start();
});
afterAll(async () => {
  await server.dispose();
});
afterEach(async () => {
  for (const runtime of runtimes) await runtime.stop('test done');
  runtimes = [];
});

/** A fresh repository on the git server and a config writing to it. */
function setup(rules: string, options: MirrorOptions = {}) {
  return mirrorSetup(server, rules, options, (runtime) => runtimes.push(runtime));
}

describe('source-informer end to end (real API server, real git server)', () => {
  it('mirrors create, update and delete of a ConfigMap as three commits', async () => {
    const ns = await createTestNamespace(access, 'cud');
    const { repo, start } = setup(`  - { target: live, scope: Namespaced, namespaces: [${ns}], apiGroups: [""], resources: [configmaps] }`);
    await start();
    await until(() => subjects(repo)[0] === 'reconciled 0 resources' || subjects(repo).length === 0 || undefined, 'the empty seed');
    const path = `clusters/e2e/${ns}/configmaps/settings.yaml`;
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('settings', { color: 'blue' }), 'alice');
    await until(() => subjects(repo).includes(`[CREATE] v1/configmaps/${ns}/settings`) || undefined, 'the create commit');
    await api('PATCH', `/api/v1/namespaces/${ns}/configmaps/settings`, { data: { color: 'green' } });
    await until(() => subjects(repo)[0] === `[UPDATE] v1/configmaps/${ns}/settings` || undefined, 'the update commit');
    expect(show(repo, path)).toBe(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: ${ns}\ndata:\n  color: green\n`);
    await api('DELETE', `/api/v1/namespaces/${ns}/configmaps/settings`);
    await until(() => subjects(repo)[0] === `[DELETE] v1/configmaps/${ns}/settings` || undefined, 'the delete commit');
    expect(subjects(repo).filter((s) => s.includes('/settings'))).toEqual([`[DELETE] v1/configmaps/${ns}/settings`, `[UPDATE] v1/configmaps/${ns}/settings`, `[CREATE] v1/configmaps/${ns}/settings`]);
    expect(files(repo, 'clusters')).toEqual([]);
    expect(git(repo, 'log', '-1', '--format=%(trailers:key=Cluster,valueonly)', 'main').trim()).toBe('e2e');
    git(repo, 'fsck', '--strict');
  });

  it('makes no commit for a metadata-only or status-only server change', async () => {
    const ns = await createTestNamespace(access, 'noop');
    await createCustomResourceDefinition(access, { group: 'noop.example.com', plural: 'gauges', kind: 'Gauge', statusSubresource: true, reuseExisting: true });
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('quiet', { k: 'v' }));
    await api('POST', `/apis/noop.example.com/v1/namespaces/${ns}/gauges`, { apiVersion: 'noop.example.com/v1', kind: 'Gauge', metadata: { name: 'g' }, spec: { max: 10 } });
    const { repo, start } = setup(`  - { target: live, scope: Namespaced, namespaces: [${ns}], apiGroups: ["", noop.example.com], resources: [configmaps, gauges] }`);
    await start();
    await until(() => subjects(repo)[0] === 'reconciled 2 resources' || undefined, 'the seed');
    // Server-side metadata only: a finalizer and a managed-fields change; then a status update.
    await api('PATCH', `/api/v1/namespaces/${ns}/configmaps/quiet`, { metadata: { finalizers: ['example.com/hold'] } });
    await api('PATCH', `/apis/noop.example.com/v1/namespaces/${ns}/gauges/g/status`, { status: { reading: 7 } });
    // A real change afterwards proves the pipeline was alive while the no-ops passed.
    await api('PATCH', `/api/v1/namespaces/${ns}/configmaps/quiet`, { data: { k: 'changed' } });
    await until(() => subjects(repo)[0] === `[UPDATE] v1/configmaps/${ns}/quiet` || undefined, 'the real change');
    expect(subjects(repo)).toEqual([`[UPDATE] v1/configmaps/${ns}/quiet`, 'reconciled 2 resources']);
    expect(show(repo, `clusters/e2e/${ns}/noop.example.com/gauges/g.yaml`)).not.toContain('status');
    await api('PATCH', `/api/v1/namespaces/${ns}/configmaps/quiet`, { metadata: { finalizers: null } });
  });

  it('follows a CRD created later and writes its custom resources under a * rule', async () => {
    const ns = await createTestNamespace(access, 'crd');
    const { repo, start } = setup(`  - { target: live, scope: Namespaced, namespaces: [${ns}], apiGroups: ["*"], resources: ["*"] }`);
    await start(); // the namespace is empty: the seed writes nothing
    await createCustomResourceDefinition(access, { group: `${ns}.example.com`, plural: 'widgets', kind: 'Widget' });
    await api('POST', `/apis/${ns}.example.com/v1/namespaces/${ns}/widgets`, { apiVersion: `${ns}.example.com/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } });
    const path = `clusters/e2e/${ns}/${ns}.example.com/widgets/w1.yaml`;
    await until(() => files(repo, path).length === 1 || undefined, 'the custom resource file', 40_000);
    expect(show(repo, path)).toContain('size: 3');
  });

  it('writes cluster-scoped objects under _cluster', async () => {
    const ns = await createTestNamespace(access, 'scoped');
    const { repo, start } = setup(`  - { target: live, scope: Cluster, apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles] }`);
    await start();
    await until(() => subjects(repo).length > 0 || undefined, 'the seed (built-in cluster roles)');
    await api('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: `${ns}-reader` },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
    });
    const path = `clusters/e2e/_cluster/rbac.authorization.k8s.io/clusterroles/${ns}-reader.yaml`;
    await until(() => files(repo, path).length === 1 || undefined, 'the ClusterRole file');
    expect(subjects(repo)[0]).toBe(`[CREATE] rbac.authorization.k8s.io/v1/clusterroles/${ns}-reader`);
  });

  it('watches only the namespaces a rule names, never cluster-wide', async () => {
    const wanted = await createTestNamespace(access, 'wanted');
    const other = await createTestNamespace(access, 'other');
    const { repo, start } = setup(`  - { target: live, scope: Namespaced, namespaces: [${wanted}], resources: [configmaps] }`);
    const clusterWide = await openWatches('configmaps', 'cluster');
    const namespaced = await openWatches('configmaps', 'namespace');
    const runtime = await start(); // both namespaces are empty: the seed writes nothing
    await until(async () => (await openWatches('configmaps', 'namespace')) === namespaced + 1 || undefined, 'one namespaced watch');
    expect(await openWatches('configmaps', 'cluster')).toBe(clusterWide);
    await api('POST', `/api/v1/namespaces/${other}/configmaps`, configMap('elsewhere', { k: 'v' }));
    await api('POST', `/api/v1/namespaces/${wanted}/configmaps`, configMap('here', { k: 'v' }));
    await until(() => files(repo, `clusters/e2e/${wanted}/configmaps/here.yaml`).length === 1 || undefined, 'the selected object');
    expect(files(repo, `clusters/e2e/${other}`)).toEqual([]);
    const health = runtime.health();
    expect(health.adapters.find((a) => a.slot === 'source')?.state).toBe('ready');
  });

  it('seeds 2,000 existing objects as one commit (listed 7 per page, each page emitted as it arrives), and a restart with unchanged state makes none', async () => {
    const ns = await createTestNamespace(access, 'seed');
    const created: Promise<unknown>[] = [];
    for (let i = 0; i < 2000; i++) {
      created.push(api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(`cm-${String(i).padStart(4, '0')}`, { index: String(i) })));
      if (created.length >= 32) await Promise.all(created.splice(0));
    }
    await Promise.all(created);
    const { repo, start, yaml } = setup(`  - { target: live, scope: Namespaced, namespaces: [${ns}], resources: [configmaps] }`, { informer: ', listPageSize: 7' });
    const first = await start();
    // kube-root-ca.crt is published by a controller that does not run here, so exactly our 2,000.
    await until(() => subjects(repo)[0] === 'reconciled 2000 resources' || undefined, 'the seed commit', 90_000);
    expect(subjects(repo)).toEqual(['reconciled 2000 resources']);
    expect(files(repo, `clusters/e2e/${ns}/configmaps`)).toHaveLength(2000);
    await first.stop('restart');
    runtimes = runtimes.filter((r) => r !== first);
    const second = await start(yaml.replace(', listPageSize: 7', ''));
    await until(() => second.health().ready || undefined, 'the restarted runtime');
    await new Promise((r) => setTimeout(r, 2000));
    expect(subjects(repo)).toEqual(['reconciled 2000 resources']);
  });

  it('after a network partition and a compaction (410 Gone), relists and converges the repository', async () => {
    const ns = await createTestNamespace(access, 'gone');
    const template = (name: string, v: string) => ({
      apiVersion: 'v1',
      kind: 'PodTemplate',
      metadata: { name },
      template: { metadata: { labels: { v } }, spec: { containers: [{ name: 'c', image: 'example.invalid/c' }] } },
    });
    await api('POST', `/api/v1/namespaces/${ns}/podtemplates`, template('stays', '1'));
    await api('POST', `/api/v1/namespaces/${ns}/podtemplates`, template('vanishes', '1'));
    const apiPort = Number(new URL(cluster.server).port);
    const proxy = new TcpProxy('127.0.0.1', apiPort);
    const proxyPort = await proxy.start();
    const metrics = new KernelMetrics();
    const { repo, yaml, start } = setup(`  - { target: live, scope: Namespaced, namespaces: [${ns}], resources: [podtemplates] }`, { kubeServer: `https://127.0.0.1:${proxyPort}` });
    await start(yaml, metrics);
    await until(() => subjects(repo)[0] === 'reconciled 2 resources' || undefined, 'the seed');
    proxy.partition();
    await api('DELETE', `/api/v1/namespaces/${ns}/podtemplates/vanishes`);
    await api('PUT', `/api/v1/namespaces/${ns}/podtemplates/stays`, {
      ...template('stays', '2'),
      metadata: {
        name: 'stays',
        resourceVersion:
          (await api('GET', `/api/v1/namespaces/${ns}/podtemplates/stays`)).json['metadata'] &&
          ((await api('GET', `/api/v1/namespaces/${ns}/podtemplates/stays`)).json['metadata'] as { resourceVersion: string }).resourceVersion,
      },
    });
    await api('POST', `/api/v1/namespaces/${ns}/podtemplates`, template('appears', '1'));
    // Two more writes so the compaction revision lies strictly after anything the watch had seen.
    await api('POST', `/api/v1/namespaces/${ns}/podtemplates`, template('padding-1', '1'));
    await api('DELETE', `/api/v1/namespaces/${ns}/podtemplates/padding-1`);
    await access.compactEtcd();
    proxy.heal();
    const base = `clusters/e2e/${ns}/podtemplates`;
    await until(() => JSON.stringify(files(repo, base)) === JSON.stringify([`${base}/appears.yaml`, `${base}/stays.yaml`]) || undefined, 'the repository to converge', 60_000);
    expect(show(repo, `${base}/stays.yaml`)).toContain('v: "2"');
    const relists = await metrics.registry.getSingleMetricAsString('gitops_reverser_informer_relists_total');
    expect(relists).toMatch(/gitops_reverser_informer_relists_total\{resource="podtemplates\/v1@[^"]+"\} [1-9]/);
    expect(subjects(repo)).toContain(`[DELETE] v1/podtemplates/${ns}/vanishes`);
    await proxy.stop();
  });

  it('applies rule changes at run time: new watches start, removed ones release their connections, the changed target is reseeded', async () => {
    const ns = await createTestNamespace(access, 'reload');
    const group = `${ns}.reload.example.com`;
    await createCustomResourceDefinition(access, { group, plural: 'gadgets', kind: 'Gadget' });
    await api('POST', `/apis/${group}/v1/namespaces/${ns}/gadgets`, { apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: 'g1' } });
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('c1', { k: 'v' }));
    await api('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'steady' }, rules: [] });
    const before = await openWatches('gadgets');
    const { repo, yaml, dir, start } = setup(
      `  - { target: live, scope: Namespaced, namespaces: [${ns}], apiGroups: [${group}], resources: [gadgets] }\n  - { target: live, scope: Namespaced, namespaces: [${ns}], apiGroups: [rbac.authorization.k8s.io], resources: [roles] }`,
    );
    const metrics = new KernelMetrics();
    const runtime = await start(yaml, metrics);
    await until(() => subjects(repo)[0] === 'reconciled 2 resources' || undefined, 'the first seed');
    const steadyStarts = async () =>
      (await metrics.registry.getSingleMetricAsString('gitops_reverser_informer_watch_starts_total')).split('\n').find((l) => l.includes('roles.rbac.authorization.k8s.io'));
    const steadyBefore = await steadyStarts();
    expect(steadyBefore).toMatch(/ 1$/);
    await until(async () => (await openWatches('gadgets')) === before + 1 || undefined, 'the gadgets watch to open');
    // New rules: configmaps instead of gadgets.
    const { parseConfig } = await import('@gitops-reverser/kernel');
    const next = parseConfig(yaml.replace(`apiGroups: [${group}], resources: [gadgets]`, 'apiGroups: [""], resources: [configmaps]'), `${dir}/config.yaml`);
    const result = await runtime.reload(next);
    expect(result.changedTargets).toEqual(['live']);
    await until(async () => (await openWatches('gadgets')) === before || undefined, 'the gadgets watch to close');
    await until(() => files(repo, `clusters/e2e/${ns}/configmaps/c1.yaml`).length === 1 || undefined, 'the reseed of the changed target');
    expect(subjects(repo)).toEqual(['reconciled 2 resources', 'reconciled 2 resources']);
    // The roles watch was not touched by the reload: still its first connection.
    expect(await steadyStarts()).toBe(steadyBefore);
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('c2', { k: 'v' }));
    await until(() => subjects(repo)[0] === `[CREATE] v1/configmaps/${ns}/c2` || undefined, 'a live change under the new rules');
  });

  it('reports types it may not read, and writes the ones it may', async () => {
    const ns = await createTestNamespace(access, 'rbac');
    await api('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'cm-reader' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
    });
    await api('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'reader' }],
    });
    await api('POST', `/apis/rbac.authorization.k8s.io/v1/clusterroles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: `${ns}-discovery` },
      rules: [{ apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ['list', 'watch'] }],
    });
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('visible', { k: 'v' }));
    const metrics = new KernelMetrics();
    const { repo, yaml, start } = setup(`  - { target: live, scope: Namespaced, namespaces: [${ns}], resources: [configmaps, secrets] }`, { user: 'reader' });
    const runtime = await start(yaml, metrics);
    await until(() => files(repo, `clusters/e2e/${ns}/configmaps/visible.yaml`).length === 1 || undefined, 'the readable type');
    const source = runtime.health().adapters.find((a) => a.slot === 'source');
    expect(source).toMatchObject({ state: 'degraded', reason: expect.stringContaining(`v1/secrets in ${ns}: forbidden`) });
    expect(runtime.health().ready).toBe(true);
    const response = await fetch(`http://127.0.0.1:${runtime.port}/readyz`);
    expect(await response.text()).toContain('forbidden');
    expect(await metrics.registry.getSingleMetricAsString('gitops_reverser_informer_watches')).toContain('gitops_reverser_informer_watches{state="forbidden"} 1');
  });

  it('the role `gitops-reverser rbac` prints is enough for every rule, and grants nothing else', async () => {
    const ns = await createTestNamespace(access, 'least');
    const rules = [
      `  - { target: live, scope: Namespaced, namespaces: [${ns}], apiGroups: [""], resources: [configmaps] }`,
      `  - { target: live, scope: Namespaced, namespaces: [${ns}], apiGroups: [rbac.authorization.k8s.io], resources: [roles] }`,
      `  - { target: live, scope: Cluster, apiGroups: [scheduling.k8s.io], resources: [priorityclasses] }`,
    ].join('\n');
    const tokenKubeconfig = join(tempDir(), 'kubeconfig-mirror');
    const { dir, repo, yaml, start } = setup(rules, { kubeconfigFile: tokenKubeconfig });
    writeFileSync(join(dir, 'config.yaml'), yaml);
    const printed = spawnSync(process.execPath, [cliPath, 'rbac', '--config', join(dir, 'config.yaml'), '--service-account', 'mirror', '--namespace', ns, '--name', ns], { encoding: 'utf8' });
    expect(printed.stderr).toBe('');
    const manifests = printed.stdout
      .split(/^---$/m)
      .slice(1)
      .map((doc) => parseYaml(doc) as { kind: string; metadata: { namespace?: string }; rules?: { verbs: string[]; resources: string[] }[] });
    expect(manifests.map((m) => m.kind)).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
    expect(new Set(manifests.flatMap((m) => m.rules ?? []).flatMap((r) => r.verbs))).toEqual(new Set(['get', 'list', 'watch']));
    for (const manifest of manifests) {
      const plural = `${manifest.kind.toLowerCase()}s`;
      const path = manifest.metadata.namespace ? `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/${plural}` : `/apis/rbac.authorization.k8s.io/v1/${plural}`;
      await api('POST', path, manifest);
    }
    await api('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'mirror' } });
    const token = (
      (await api('POST', `/api/v1/namespaces/${ns}/serviceaccounts/mirror/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } })).json[
        'status'
      ] as { token: string }
    ).token;
    writeFileSync(tokenKubeconfig, access.kubeconfigForToken(token, 'mirror'));
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('settings', { k: 'v' }));

    const runtime = await start();
    await until(() => files(repo, `clusters/e2e/${ns}/configmaps/settings.yaml`).length === 1 || undefined, 'the ConfigMap, read with the generated role');
    await until(() => files(repo, 'clusters/e2e').some((f) => f.endsWith(`${ns}/rbac.authorization.k8s.io/roles/${ns}.yaml`)) || undefined, 'the Role, read with the generated role');
    expect(files(repo, 'clusters/e2e').some((f) => f.endsWith('scheduling.k8s.io/priorityclasses/system-cluster-critical.yaml'))).toBe(true);
    expect(runtime.health().adapters.find((a) => a.slot === 'source')).toMatchObject({ state: 'ready' });

    // Minimal: the ServiceAccount may not read Secrets, read outside its namespace, or write anything.
    const review = async (attributes: Record<string, string>) =>
      (
        (
          await api('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: { user: `system:serviceaccount:${ns}:mirror`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'], resourceAttributes: attributes },
          })
        ).json['status'] as { allowed: boolean }
      ).allowed;
    expect(await review({ namespace: ns, verb: 'list', resource: 'configmaps' })).toBe(true);
    expect(await review({ namespace: ns, verb: 'list', resource: 'secrets' })).toBe(false);
    expect(await review({ namespace: 'default', verb: 'list', resource: 'configmaps' })).toBe(false);
    expect(await review({ namespace: ns, verb: 'create', resource: 'configmaps' })).toBe(false);
    expect(await review({ verb: 'list', resource: 'namespaces' })).toBe(false);
  });

  it('`gitops-reverser snapshot` seeds, commits and pushes every target, then exits 0; a type it may not list makes it exit 1 naming it', async () => {
    const ns = await createTestNamespace(access, 'snap');
    for (let i = 0; i < 25; i++) await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(`cm-${i}`, { i: String(i) }));
    const { dir, repo, yaml } = setup(`  - { target: live, scope: Namespaced, namespaces: [${ns}], resources: [configmaps] }`);
    writeFileSync(join(dir, 'config.yaml'), yaml);
    const done = await runCliAsync(['snapshot', '--config', join(dir, 'config.yaml')]);
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('snapshot: sources seeded 1/1, 1 type(s) watched, 25 object(s) listed');
    expect(done.stdout.trimEnd().split('\n').at(-1)).toBe('snapshot complete');
    // Pushed: the server's repository holds the seed commit and every object.
    expect(subjects(repo)[0]).toBe('reconciled 25 resources');
    expect(files(repo, `clusters/e2e/${ns}/configmaps`)).toHaveLength(25);

    const partial = setup(`  - { target: live, scope: Namespaced, namespaces: [${ns}], resources: [configmaps, secrets] }`, { user: 'reader' });
    writeFileSync(join(partial.dir, 'config.yaml'), partial.yaml);
    const refused = await runCliAsync(['snapshot', '--config', join(partial.dir, 'config.yaml')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('snapshot incomplete: 1 problem(s)');
    expect(refused.stderr).toContain(`v1/secrets in ${ns}: forbidden`);
  });

  it('a custom resource nested 650 levels deep is refused with a code; start and the other objects are unaffected', async () => {
    const ns = await createTestNamespace(access, 'deep');
    await createCustomResourceDefinition(access, { group: 'deep.example.com', plural: 'burrows', kind: 'Burrow', reuseExisting: true });
    let nested: Record<string, unknown> = { bottom: true };
    for (let i = 0; i < 650; i++) nested = { down: nested };
    await api('POST', `/apis/deep.example.com/v1/namespaces/${ns}/burrows`, { apiVersion: 'deep.example.com/v1', kind: 'Burrow', metadata: { name: 'rabbit-hole' }, spec: nested });
    await api('POST', `/apis/deep.example.com/v1/namespaces/${ns}/burrows`, { apiVersion: 'deep.example.com/v1', kind: 'Burrow', metadata: { name: 'shallow' }, spec: { down: 1 } });
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('beside', { k: 'v' }));
    const { repo, start } = setup(`  - { target: live, scope: Namespaced, namespaces: [${ns}], apiGroups: ["", deep.example.com], resources: [configmaps, burrows] }`);
    const metrics = new KernelMetrics();
    await start(undefined, metrics);
    await until(() => subjects(repo)[0] === 'reconciled 2 resources' || undefined, 'the seed without the deep object');
    expect(files(repo, `clusters/e2e/${ns}`)).toEqual([`clusters/e2e/${ns}/configmaps/beside.yaml`, `clusters/e2e/${ns}/deep.example.com/burrows/shallow.yaml`]);
    const refused = (await metrics.registry.getSingleMetric('gitops_reverser_events_refused_total')?.get())?.values ?? [];
    expect(refused.map((v) => [v.labels['code'], v.labels['adapter'], v.value])).toEqual([['GR_ERR_EVENT_TOO_DEEP', 'kernel', 1]]);
  });
});
