import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '@gitops-reverser/contract';
import { createDefaultSanitizer, createLogger, loadConfigFile, Runtime } from '@gitops-reverser/kernel';
import { ControlPlaneAccess, createCustomResourceDefinition, createTestNamespace, toolBinaries, until } from '@gitops-reverser/testkit';
import { parse } from 'yaml';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { runCli } from '../packages/kernel/src/cli/run-cli.js';

// restore and diff against the real API server, a real git repository written by the real pipeline
// (informer, sanitizer-sops, sink-git) and the real sops CLI.

const access = new ControlPlaneAccess(inject('testCluster'));
const tools = toolBinaries();
// restore decrypts with the `sops` on PATH.
process.env['PATH'] = `${tools.dir}:${process.env['PATH'] ?? ''}`;
const runtimes: Runtime[] = [];
afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.stop('test done');
});

async function api(method: string, path: string, body?: unknown, contentType = 'application/merge-patch+json'): Promise<Record<string, unknown> | undefined> {
  const response = await access.request(method, path, { ...(body === undefined ? {} : { body }), ...(method === 'PATCH' ? { headers: { 'content-type': contentType } } : {}) });
  if (response.status === 404 && method === 'GET') return undefined;
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.body.slice(0, 300)}`);
  return JSON.parse(response.body || '{}') as Record<string, unknown>;
}

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

/** A folder with a kubeconfig, an age key and a config: the informer, SOPS for Secrets, a local repository. */
function setup(
  ns: string,
  prune = 'OnEvent',
  rules = `
  - { target: live, scope: Namespaced, namespaces: [${ns}], apiGroups: ["", apps, rbac.authorization.k8s.io], resources: ["*"] }
  - { target: live, scope: Cluster, resources: [namespaces] }`,
  targetWith = '',
) {
  const dir = mkdtempSync(join(tmpdir(), 'gr-restore-'));
  writeFileSync(join(dir, 'kubeconfig'), access.kubeconfigText('admin'));
  const key = join(dir, 'key.agekey');
  execFileSync(tools.ageKeygen, ['-o', key], { stdio: 'ignore' });
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `apiVersion: gitops-reverser/v1alpha2
shutdown: { timeoutSeconds: 10 }
sources: [ { use: "@gitops-reverser/source-informer", cluster: e2e, with: { kubeconfig: ./kubeconfig } } ]
normalizers: [ { use: "@gitops-reverser/sanitizer-sops", with: { identitiesFile: ./key.agekey } } ]
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: local, url: ./state.git } ] } }
targets: [ { name: live, with: { provider: local, branch: main, path: clusters/e2e, prune: ${prune}${targetWith} } } ]
rules:${rules}
`,
  );
  const repo = join(dir, 'state.git');
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
  const files = () => {
    try {
      return git('ls-tree', '-r', '--name-only', 'main').trim().split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  const start = async () => {
    const runtime = await Runtime.create(loadConfigFile(config), { logger: createLogger('warn') });
    await runtime.start();
    runtimes.push(runtime);
    return runtime;
  };
  const stop = async (runtime: Runtime) => {
    await runtime.stop('test step');
    runtimes.splice(runtimes.indexOf(runtime), 1);
  };
  return { dir, key, config, repo, git, files, start, stop, kubeconfig: join(dir, 'kubeconfig') };
}

/** 50 objects of 6 kinds: 20 ConfigMaps, 10 Deployments, 5 each of Secrets, ServiceAccounts, Services and Roles. */
async function createObjects(ns: string): Promise<number> {
  const at = (path: string) => `/api/v1/namespaces/${ns}/${path}`;
  for (let i = 0; i < 20; i++)
    await api('POST', at('configmaps'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, labels: { app: 'shop' } }, data: { index: String(i), text: `value ${i}` } });
  for (let i = 0; i < 5; i++) {
    await api('POST', at('secrets'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: `secret-${i}` }, type: 'Opaque', data: { password: Buffer.from(`hunter-${i}`).toString('base64') } });
    await api('POST', at('serviceaccounts'), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: `sa-${i}` } });
    await api('POST', at('services'), { apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}` }, spec: { selector: { app: `a${i}` }, ports: [{ port: 80 + i, targetPort: 8080 }] } });
    await api('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: `role-${i}` },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
    });
  }
  for (let i = 0; i < 10; i++) {
    await api('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `web-${i}` },
      spec: {
        replicas: 1 + (i % 3),
        selector: { matchLabels: { app: `web-${i}` } },
        template: { metadata: { labels: { app: `web-${i}` } }, spec: { containers: [{ name: 'web', image: `nginx:1.${i}` }] } },
      },
    });
  }
  return 50;
}

/** Deletes every object of the namespace and the namespace itself, all the way (no controller-manager runs here to finish it). */
async function deleteNamespace(ns: string): Promise<void> {
  for (const [base, resource] of [
    ['/api/v1', 'configmaps'],
    ['/api/v1', 'secrets'],
    ['/api/v1', 'serviceaccounts'],
    ['/api/v1', 'services'],
    ['/apis/rbac.authorization.k8s.io/v1', 'roles'],
    ['/apis/apps/v1', 'deployments'],
  ] as const) {
    const list = (await api('GET', `${base}/namespaces/${ns}/${resource}`)) as { items: { metadata: { name: string } }[] };
    for (const item of list.items) await api('DELETE', `${base}/namespaces/${ns}/${resource}/${item.metadata.name}`);
  }
  await api('DELETE', `/api/v1/namespaces/${ns}`);
  const terminating = (await api('GET', `/api/v1/namespaces/${ns}`)) as KubeObject | undefined;
  if (terminating) await api('PUT', `/api/v1/namespaces/${ns}/finalize`, { ...terminating, spec: { finalizers: [] } });
  await until(async () => ((await api('GET', `/api/v1/namespaces/${ns}`)) === undefined ? true : undefined), `namespace ${ns} gone`);
}

/** Every object the repository held for the namespace at a commit, decrypted, next to the live object, both as the kernel sanitizes. */
async function compareWithLive(git: (...args: string[]) => string, commit: string, ns: string, key: string) {
  const sanitizer = createDefaultSanitizer();
  const paths = git('ls-tree', '-r', '--name-only', commit, '--', `clusters/e2e/${ns}`, `clusters/e2e/_cluster/namespaces/${ns}.yaml`).trim().split('\n').filter(Boolean);
  const mismatches: string[] = [];
  for (const path of paths) {
    const text = git('show', `${commit}:${path}`);
    const stored = (path.endsWith('.sops.yaml') ? JSON.parse(sopsDecrypt(text, key)) : parse(text)) as KubeObject;
    const { sops: _sops, ...wanted } = stored;
    const group = (wanted.apiVersion as string).includes('/') ? `/apis/${wanted.apiVersion}` : `/api/${wanted.apiVersion}`;
    const resource = path.split('/').slice(-2, -1)[0] as string;
    const live = await api('GET', `${group}${wanted.kind === 'Namespace' ? '' : `/namespaces/${ns}`}/${resource}/${wanted.metadata?.name}`);
    if (!live) mismatches.push(`${path}: missing`);
    else if (JSON.stringify(sortKeys(await sanitizer.normalize(live as KubeObject, undefined as never))) !== JSON.stringify(sortKeys(wanted))) mismatches.push(`${path}: differs`);
  }
  return { paths, mismatches };
}

function sopsDecrypt(text: string, key: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gr-sops-')), 'x.sops.yaml');
  writeFileSync(file, text);
  return execFileSync(tools.sops, ['--decrypt', '--input-type', 'yaml', '--output-type', 'json', file], { encoding: 'utf8', env: { ...process.env, SOPS_AGE_KEY_FILE: key } });
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

describe('gitops-reverser restore', () => {
  it('brings back a deleted namespace of 50 objects of 6 kinds (a SOPS Secret among them) as it was; the dry run before changes nothing', async () => {
    const ns = await createTestNamespace(access, 'restore');
    const count = await createObjects(ns);
    const { git, files, start, stop, config, key, kubeconfig, dir } = setup(ns);
    let daemon = await start();
    await until(() => files().filter((f) => f.startsWith(`clusters/e2e/${ns}/`)).length === count || undefined, 'the seed of 50 objects');
    expect(files()).toContain(`clusters/e2e/_cluster/namespaces/${ns}.yaml`);
    expect(files().filter((f) => f.startsWith(`clusters/e2e/${ns}/secrets/`) && f.endsWith('.sops.yaml'))).toHaveLength(5);
    const before = git('rev-parse', 'main').trim();
    // Commit times have whole seconds: let the delete land in a later second than "before".
    await new Promise((r) => setTimeout(r, 1100));
    const at = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 1100));

    await deleteNamespace(ns);
    await until(() => (files().some((f) => f.includes(`/${ns}`)) ? undefined : true), 'the deletes committed');
    await stop(daemon);

    const dryRun = await cli('restore', ns, '--at', at, '--config', config, '--identities', key, '--kubeconfig', kubeconfig);
    expect(dryRun.stderr).toBe('');
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(`into cluster e2e (${access.server}`);
    expect(dryRun.stdout).toContain(`commit ${before.slice(0, 12)}`);
    expect(dryRun.stdout.match(/^ {2}create {5}/gm)).toHaveLength(count + 1);
    expect(dryRun.stdout).toContain('dry run (server): 1 of 51 write(s) checked by the API server, none kept; 50 not checked: their namespace');
    expect(await api('GET', `/api/v1/namespaces/${ns}`)).toBeUndefined();

    // The daemon watches while the restore writes: its commits are the restore's, by field manager.
    daemon = await start();
    await new Promise((r) => setTimeout(r, 2000));
    const applied = await cli('restore', ns, '--at', at, '--config', config, '--identities', key, '--kubeconfig', kubeconfig, '--apply', '--output', 'json');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const result = JSON.parse(applied.stdout) as { mode: string; cluster: { to: string; verified: string }; objects: { kind: string; action: string; result: string }[] };
    expect(result.mode).toBe('apply');
    expect(result.cluster.verified).toContain('sources[0]');
    expect(result.objects.map((o) => o.kind).slice(0, 1)).toEqual(['Namespace']);
    expect(result.objects.filter((o) => o.action === 'create' && o.result === 'written')).toHaveLength(count + 1);

    const { paths, mismatches } = await compareWithLive(git, before, ns, key);
    expect(paths).toHaveLength(count + 1);
    expect(mismatches).toEqual([]);
    const live = (await api('GET', `/api/v1/namespaces/${ns}/configmaps/cm-3`)) as { metadata: { managedFields: { manager: string }[] } };
    expect(live.metadata.managedFields.map((m) => m.manager)).toEqual(['gitops-reverser-restore']);
    await until(() => (files().filter((f) => f.startsWith(`clusters/e2e/${ns}/`)).length === count ? true : undefined), 'the restored objects committed again');
    expect(git('log', '-1', '--format=%B', 'main', '--', `clusters/e2e/${ns}/configmaps/cm-3.yaml`)).toContain('Field-Manager: gitops-reverser-restore');
    await stop(daemon);

    // A second restore finds nothing to do; a kubeconfig of another API server is refused.
    const again = await cli('restore', ns, '--at', at, '--config', config, '--identities', key, '--kubeconfig', kubeconfig);
    expect(again.code).toBe(0);
    expect(again.stdout.match(/^ {2}unchanged/gm)).toHaveLength(count + 1);
    const other = join(dir, 'other-kubeconfig');
    const port = Number(new URL(access.server).port);
    writeFileSync(other, access.kubeconfigText('admin').replace(access.server, `https://127.0.0.1:${port === 1 ? 2 : 1}`));
    const refused = await cli('restore', ns, '--at', at, '--config', config, '--identities', key, '--kubeconfig', other);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('GR_ERR_RESTORE_CLUSTER');
    expect(refused.stderr).toContain('--to-cluster');
  });
});

describe('gitops-reverser restore of custom resources', () => {
  it('re-creates a deleted CustomResourceDefinition first, waits until its type is served, then its objects', async () => {
    const ns = await createTestNamespace(access, 'crd');
    const group = `${ns}.example.com`;
    await createCustomResourceDefinition(access, { group, plural: 'gadgets', kind: 'Gadget' });
    for (const name of ['g1', 'g2', 'g3']) await api('POST', `/apis/${group}/v1/namespaces/${ns}/gadgets`, { apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name }, spec: { size: name } });
    const { files, start, stop, config, kubeconfig } = setup(
      ns,
      'OnEvent',
      `
  - { target: live, scope: Namespaced, namespaces: [${ns}], apiGroups: ["${group}"], resources: ["*"] }
  - { target: live, scope: Cluster, apiGroups: [apiextensions.k8s.io], resources: [customresourcedefinitions] }`,
    );
    const daemon = await start();
    await until(() => files().filter((f) => f.includes(`/${group}/gadgets/`)).length === 3 || undefined, 'the seed');
    await stop(daemon);
    await new Promise((r) => setTimeout(r, 1100));
    const at = new Date().toISOString();
    // The CRD goes, and with it every Gadget (the API server's own finalizer removes them).
    await api('DELETE', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.${group}`);
    await until(async () => ((await api('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.${group}`)) === undefined ? true : undefined), 'the CRD gone');

    const selector = `path:clusters/e2e`;
    const dryRun = await cli('restore', selector, '--at', at, '--config', config, '--kubeconfig', kubeconfig, '--output', 'json');
    expect(dryRun.stderr).toBe('');
    expect(dryRun.code).toBe(0);
    const planned = (JSON.parse(dryRun.stdout) as { objects: { kind: string; name: string; action: string; result?: string }[] }).objects.filter((o) => o.action !== 'unchanged');
    expect(planned.map((o) => [o.kind, o.name, o.action, o.result])).toEqual([
      ['CustomResourceDefinition', `gadgets.${group}`, 'create', 'checked'],
      ['Gadget', 'g1', 'create', 'not checked'],
      ['Gadget', 'g2', 'create', 'not checked'],
      ['Gadget', 'g3', 'create', 'not checked'],
    ]);
    expect(await api('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.${group}`)).toBeUndefined();

    const applied = await cli('restore', selector, '--at', at, '--config', config, '--kubeconfig', kubeconfig, '--apply');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('applied: 4 object(s) written');
    for (const name of ['g1', 'g2', 'g3']) expect((await api('GET', `/apis/${group}/v1/namespaces/${ns}/gadgets/${name}`))?.['spec']).toEqual({ size: name });
  });
});

describe('history, diff and restore of a file a person wrote with two objects', () => {
  it('two ConfigMaps in one file without metadata.namespace under a kustomization`s namespace: a live change is one object`s history, diff is in step, restore re-creates both in their namespace', async () => {
    const ns = await createTestNamespace(access, 'multidoc');
    for (const [name, v] of [
      ['one', '1'],
      ['two', '2'],
    ])
      await api('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v } });
    const { dir, repo, git, start, stop, config, kubeconfig } = setup(ns, 'OnEvent', undefined, ', omitNamespace: true');
    let daemon = await start();
    const layoutPath = (name: string) => `clusters/e2e/${ns}/configmaps/${name}.yaml`;
    const at = (path: string) => {
      try {
        return git('show', `main:${path}`);
      } catch {
        return undefined;
      }
    };
    await until(() => (at(layoutPath('one')) && at(layoutPath('two')) ? true : undefined), 'the seed');
    await stop(daemon);

    // A person keeps both in one file of their own, without metadata.namespace: the kustomization sets it.
    const clone = join(dir, 'person');
    execFileSync('git', ['clone', '--quiet', repo, clone]);
    const file = 'clusters/e2e/apps/shop/configs.yaml';
    const shop = join(clone, 'clusters/e2e/apps/shop');
    mkdirSync(shop, { recursive: true });
    const seeded = { one: at(layoutPath('one')) as string, two: at(layoutPath('two')) as string };
    const document = (name: 'one' | 'two') => seeded[name].replace(`  namespace: ${ns}\n`, '');
    expect(document('one')).not.toContain('namespace');
    writeFileSync(join(shop, 'configs.yaml'), `# the shop's settings, applied with kubectl apply -k\n${document('one')}---\n${document('two')}`);
    writeFileSync(join(shop, 'kustomization.yaml'), `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${ns}\nresources:\n  - configs.yaml\n`);
    execFileSync('git', ['-C', clone, 'rm', '--quiet', layoutPath('one'), layoutPath('two')]);
    execFileSync('git', ['-C', clone, 'add', '-A']);
    execFileSync('git', ['-C', clone, '-c', 'user.name=Pat Person', '-c', 'user.email=pat@example.com', 'commit', '--quiet', '-m', 'the shop settings in one file']);
    execFileSync('git', ['-C', clone, 'push', '--quiet', 'origin', 'HEAD:main']);

    // A live change of one of them: the daemon edits its document in place, the other untouched.
    daemon = await start();
    await new Promise((r) => setTimeout(r, 1500));
    await api('PATCH', `/api/v1/namespaces/${ns}/configmaps/one`, { data: { v: '9' } });
    await until(() => (at(file)?.includes('v: "9"') ? true : undefined), 'the live change written into the person`s file');
    expect(at(file)).toContain(`# the shop's settings, applied with kubectl apply -k\n`);
    expect(at(file)).toContain(`---\n${document('two')}`);
    expect(at(layoutPath('one'))).toBeUndefined();
    await stop(daemon);

    // history: the live change is one's alone.
    type Entry = { operation: string; path: string; previousPath?: string; object?: { namespace: string; name: string }; fields: { path: string; before?: unknown; after?: unknown }[] };
    const historyOf = async (name: string) => {
      const run = await cli('history', `ConfigMap/${ns}/${name}`, '--config', config, '--output', 'json');
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      return (JSON.parse(run.stdout) as { targets: { changes: Entry[] }[] }).targets[0]?.changes ?? [];
    };
    const one = await historyOf('one');
    expect(one.map((c) => [c.operation, c.path, c.previousPath])).toEqual([
      ['UPDATE', file, undefined],
      ['MOVE', file, layoutPath('one')],
      ['CREATE', layoutPath('one'), undefined],
    ]);
    expect(one[0]?.fields).toEqual([{ path: 'data.v', before: '1', after: '9' }]);
    const two = await historyOf('two');
    expect(two.map((c) => [c.operation, c.path, c.previousPath])).toEqual([
      ['MOVE', file, layoutPath('two')],
      ['CREATE', layoutPath('two'), undefined],
    ]);
    const ofFile = await cli('history', `path:${file}`, '--config', config);
    expect(ofFile.code).toBe(0);
    expect(ofFile.stdout).toContain(`object: ConfigMap ${ns}/one`);
    expect(ofFile.stdout).toContain(`object: ConfigMap ${ns}/two`);

    // diff: each object is compared with its own document by values: in step, kept where the person put them.
    const diff = await cli('diff', '--config', config, '--output', 'json');
    expect(diff.stderr).toBe('');
    const report = JSON.parse(diff.stdout) as { inStep: boolean; targets: { differences: { state: string; drift: boolean; object: { namespace: string; name: string }; storedPath?: string }[] }[] };
    const ours = (report.targets[0]?.differences ?? []).filter((d) => d.object.namespace === ns || d.object.name === ns);
    expect(ours.filter((d) => d.drift)).toEqual([]);
    expect(ours.map((d) => [d.state, d.object.namespace, d.object.name, d.storedPath])).toEqual([
      ['moved', ns, 'one', file],
      ['moved', ns, 'two', file],
    ]);
    expect(diff.code).toBe(0);

    // Both deleted while the daemon watches (the file goes with them); restore brings both back in their namespace.
    daemon = await start();
    await new Promise((r) => setTimeout(r, 1500));
    const when = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 1100));
    for (const name of ['one', 'two']) await api('DELETE', `/api/v1/namespaces/${ns}/configmaps/${name}`);
    await until(() => (at(file) === undefined ? true : undefined), 'the deletes committed');
    await stop(daemon);
    const restored = await cli('restore', ns, '--at', when, '--config', config, '--kubeconfig', kubeconfig, '--apply', '--output', 'json');
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    const objects = (JSON.parse(restored.stdout) as { objects: { kind: string; namespace: string; name: string; action: string; result?: string; path: string }[] }).objects;
    expect(objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.namespace, o.name, o.action, o.result, o.path])).toEqual([
      [ns, 'one', 'create', 'written', file],
      [ns, 'two', 'create', 'written', file],
    ]);
    expect((await api('GET', `/api/v1/namespaces/${ns}/configmaps/one`))?.['data']).toEqual({ v: '9' });
    expect((await api('GET', `/api/v1/namespaces/${ns}/configmaps/two`))?.['data']).toEqual({ v: '2' });
  });
});

describe('gitops-reverser diff', () => {
  it('exits 1 after out-of-band changes while the daemon is stopped, 0 after a seed', async () => {
    const ns = await createTestNamespace(access, 'diff');
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { color: 'blue' } });
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'doomed' }, data: { a: '1' } });
    await api('POST', `/api/v1/namespaces/${ns}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, data: { password: Buffer.from('s3cret').toString('base64') } });
    const { files, start, stop, config } = setup(ns);
    const daemon = await start();
    await until(() => files().filter((f) => f.startsWith(`clusters/e2e/${ns}/`)).length === 3 || undefined, 'the seed');
    await stop(daemon);

    const inStep = await cli('diff', '--config', config);
    expect(inStep.stderr).toBe('');
    expect(inStep.stdout).toContain('in step');
    expect(inStep.code).toBe(0);

    // Out of band, nobody watching: an edit, a new object, a delete, a Secret changed.
    await api('PATCH', `/api/v1/namespaces/${ns}/configmaps/settings`, { data: { color: 'green' } });
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'newcomer' }, data: { b: '2' } });
    await api('DELETE', `/api/v1/namespaces/${ns}/configmaps/doomed`);
    await api('PATCH', `/api/v1/namespaces/${ns}/secrets/db`, { data: { password: Buffer.from('changed').toString('base64') } });
    const drifted = await cli('diff', '--config', config, '--output', 'json');
    expect(drifted.stderr).toBe('');
    expect(drifted.code).toBe(1);
    const report = JSON.parse(drifted.stdout) as { inStep: boolean; targets: { differences: { state: string; drift: boolean; object: { name: string }; fields?: unknown[] }[] }[] };
    const differences = (report.targets[0]?.differences ?? []).filter((d) => ['settings', 'newcomer', 'doomed', 'db'].includes(d.object.name));
    expect(differences.map((d) => [d.state, d.object.name, d.drift]).sort()).toEqual([
      ['different', 'db', true],
      ['different', 'settings', true],
      ['gone', 'doomed', false],
      ['missing', 'newcomer', true],
    ]);
    expect(differences.find((d) => d.object.name === 'settings')?.fields).toEqual([{ path: 'data.color', before: 'blue', after: 'green' }]);
    const text = await cli('diff', '--config', config);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('~ data.color: "blue" -> "green"');
    expect(text.stdout).toContain('drifted: the next seed would change 3 object(s)');

    // A seed (the one-shot export) brings the repository in step; the file of the deleted object stays (prune OnEvent).
    const snapshot = await cli('snapshot', '--config', config);
    expect(snapshot.code).toBe(0);
    const after = await cli('diff', '--config', config);
    expect(after.stdout).toContain('in step');
    expect(after.stdout).toContain(`gone       ConfigMap ${ns}/doomed`);
    expect(after.code).toBe(0);
  });
});
