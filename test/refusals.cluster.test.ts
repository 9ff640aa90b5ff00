import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlPlaneAccess, createCustomResourceDefinition, createTestNamespace, freePort, until } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// Nothing refused may be pruned. Each refusal path gets its own target (its own namespace and
// folder, prune: Always), so one path's partial snapshot cannot hide another's mistake:
// - sanitize: a normalizer that throws in the sanitize phase,
// - encode:   a normalizer that throws in the encode phase (per target, after the hash),
// - secret:   a Secret no encoder protects once its rule stops allowing plain text,
// - deep:     an object nested beyond the kernel's limit,
// - forbidden: a type the source may not list (a source error),
// - control:  no refusal at all, where a deleted object's file must be pruned (so a kernel that never
//             prunes cannot pass).
// The objects are written once while nothing refuses; then, with the process stopped, each target's
// "victim" becomes refused and its "gone" object is deleted. A snapshot (the real CLI) and a `run`
// with live changes must then delete no file of the five refusing targets, and name each refuser.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'packages/kernel/bin/gitops-reverser.js');
const refuser = join(root, 'test/fixtures/refusing-normalizer.mjs');
const access = new ControlPlaneAccess(inject('testCluster'));
const dir = mkdtempSync(join(tmpdir(), 'gr-refusals-'));
const repo = join(dir, 'state-repo');

const PATHS = ['sanitize', 'encode', 'secret', 'deep', 'forbidden', 'control'] as const;
type Path = (typeof PATHS)[number];
const ns = {} as Record<Path, string>;

async function api(method: string, path: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {};
  const response = await access.request(method, path, { headers, ...(body === undefined ? {} : { body }) });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.body.slice(0, 300)}`);
  return JSON.parse(response.body || '{}');
}

const configMap = (name: string, data: Record<string, string>, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data });
const burrow = (name: string, spec: unknown) => ({ apiVersion: 'deep.example.com/v1', kind: 'Burrow', metadata: { name }, spec });

/** Files under a target's folder at the branch head. */
function files(path: Path): string[] {
  try {
    return execFileSync('git', ['-C', repo, 'ls-tree', '-r', '--name-only', 'main', '--', `t/${path}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((file) => file.slice(`t/${path}/`.length))
      .sort();
  } catch {
    return [];
  }
}

/**
 * The config: one target per path. `refusing` turns the refusals on: the normalizers refuse labelled
 * objects either way, but the Secret rule allows plain text only while `refusing` is false.
 */
function writeConfig(name: string, refusing: boolean, port = 0): string {
  const rule = (path: Path, resources: string, extra = '') =>
    `  - { target: ${path}, scope: Namespaced, namespaces: [${ns[path]}], apiGroups: ["", deep.example.com], resources: [${resources}]${extra} }`;
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `apiVersion: gitops-reverser/v1alpha2
server: { enabled: ${port > 0}, port: ${port} }
shutdown: { timeoutSeconds: 10 }
sources: [ { use: "@gitops-reverser/source-informer", cluster: e2e, with: { kubeconfig: ./kubeconfig } } ]
normalizers:
  - { use: "${refuser}", name: refuse-sanitize, with: { phase: sanitize, label: refuse-sanitize } }
  - { use: "${refuser}", name: refuse-encode, with: { phase: encode, label: refuse-encode } }
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: local, url: ./state-repo } ] } }
targets:
${PATHS.map((path) => `  - { name: ${path}, with: { provider: local, branch: main, path: t/${path}, prune: Always } }`).join('\n')}
rules:
${rule('sanitize', 'configmaps')}
${rule('encode', 'configmaps')}
${rule('secret', 'secrets', refusing ? '' : ', plaintextSecrets: true')}
${rule('deep', 'burrows')}
${rule('forbidden', refusing ? 'configmaps, services' : 'configmaps')}
${rule('control', 'configmaps')}
`,
  );
  return file;
}

async function cliRun(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  return { code, output };
}

/** What every refusing target must still hold: the files of the first, refusal-free snapshot. */
let before: Record<Path, string[]>;

beforeAll(async () => {
  for (const path of PATHS) ns[path] = await createTestNamespace(access, `refuse-${path}`);
  await createCustomResourceDefinition(access, { group: 'deep.example.com', plural: 'burrows', kind: 'Burrow', reuseExisting: true });
  // The source's user may list everything but services in the "forbidden" namespace.
  writeFileSync(join(dir, 'kubeconfig'), access.kubeconfigText('reader'));
  await api('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: `refusals-reader-${ns.control}` },
    rules: [
      { apiGroups: [''], resources: ['configmaps', 'secrets', 'namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['deep.example.com'], resources: ['burrows'], verbs: ['get', 'list', 'watch'] },
    ],
  });
  await api('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: `refusals-reader-${ns.control}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `refusals-reader-${ns.control}` },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'reader' }],
  });
  for (const path of PATHS) {
    const base =
      path === 'secret' ? `/api/v1/namespaces/${ns[path]}/secrets` : path === 'deep' ? `/apis/deep.example.com/v1/namespaces/${ns[path]}/burrows` : `/api/v1/namespaces/${ns[path]}/configmaps`;
    for (const name of ['victim', 'keep', 'gone']) {
      const body = path === 'secret' ? { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: { v: name } } : path === 'deep' ? burrow(name, { down: 1 }) : configMap(name, { v: name });
      await api('POST', base, body);
    }
  }
  await api('POST', `/api/v1/namespaces/${ns.forbidden}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } });
  const first = await cliRun(['snapshot', '--config', writeConfig('first', false)]);
  expect(first.output).toContain('snapshot complete');
  expect(first.code).toBe(0);
  before = Object.fromEntries(PATHS.map((path) => [path, files(path)])) as Record<Path, string[]>;
  for (const path of PATHS) expect(before[path], `first snapshot of ${path}`).toHaveLength(3);

  // Stopped: each victim becomes refused, each "gone" object is deleted.
  const cm = (path: Path, name: string) => `/api/v1/namespaces/${ns[path]}/configmaps/${name}`;
  await api('PATCH', cm('sanitize', 'victim'), { metadata: { labels: { 'refuse-sanitize': 'yes' } }, data: { v: 'changed' } });
  await api('PATCH', cm('encode', 'victim'), { metadata: { labels: { 'refuse-encode': 'yes' } }, data: { v: 'changed' } });
  let nested: unknown = { bottom: true };
  for (let i = 0; i < 150; i++) nested = { down: nested };
  await api('PATCH', `/apis/deep.example.com/v1/namespaces/${ns.deep}/burrows/victim`, { spec: nested });
  for (const path of PATHS) {
    const gone = path === 'secret' ? `/api/v1/namespaces/${ns[path]}/secrets/gone` : path === 'deep' ? `/apis/deep.example.com/v1/namespaces/${ns[path]}/burrows/gone` : cm(path, 'gone');
    await api('DELETE', gone);
  }
}, 300_000);

afterAll(async () => {
  await api('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/refusals-reader-${ns.control}`).catch(() => undefined);
});

const REFUSING = PATHS.filter((path) => path !== 'control');

describe('nothing refused is ever pruned (prune: Always, real API server, git CLI)', () => {
  it('seed: snapshot exits 1 naming each refuser; no file of a refusing target is deleted; the control target is pruned', async () => {
    const result = await cliRun(['snapshot', '--config', writeConfig('refusing', true)]);
    expect(result.code).toBe(1);
    // Each refusal is named with the adapter whose doing it was, in the log and in the report.
    expect(result.output).toContain('"code":"GR_ERR_NORMALIZER_FAILED","adapter":"refuse-sanitize"');
    expect(result.output).toContain('"code":"GR_ERR_NORMALIZER_FAILED","adapter":"refuse-encode"');
    expect(result.output).toContain('"code":"GR_ERR_SECRET_PLAINTEXT","adapter":"secret-guard"');
    expect(result.output).toContain('"code":"GR_ERR_EVENT_TOO_DEEP","adapter":"kernel"');
    expect(result.output).toContain(`v1/services in ${ns.forbidden}: forbidden`);
    expect(result.output).toContain('target sanitize: 1 object(s) of the snapshot were refused and not written (refuse-sanitize (GR_ERR_NORMALIZER_FAILED): 1)');
    expect(result.output).toContain('target encode: 1 object(s) of the snapshot were refused and not written (refuse-encode (GR_ERR_NORMALIZER_FAILED): 1)');
    expect(result.output).toContain('target secret: 2 object(s) of the snapshot were refused and not written (secret-guard (GR_ERR_SECRET_PLAINTEXT): 2)');
    expect(result.output).toContain('target deep: 1 object(s) of the snapshot were refused and not written (kernel (GR_ERR_EVENT_TOO_DEEP): 1)');
    for (const path of REFUSING) expect(files(path), `files of target ${path}`).toEqual(before[path]);
    expect(files('control')).toEqual(before.control.filter((file) => !file.endsWith('/gone.yaml')));
    execFileSync('git', ['-C', repo, 'fsck', '--strict']);
  });

  it('live: refused changes write nothing and delete nothing, others go on; /readyz and the metric name the refusers', async () => {
    const port = await freePort();
    const child: ChildProcess = spawn(process.execPath, [cli, 'run', '--config', writeConfig('live', true, port)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await until(() => output.includes('"msg":"gitops-reverser started"') || undefined, 'the runtime to start', 60_000);
      const head = () => execFileSync('git', ['-C', repo, 'rev-parse', 'main'], { encoding: 'utf8' }).trim();
      // Updates of each refused object, then of a bystander in every namespace (so the writer commits past them).
      await api('PATCH', `/api/v1/namespaces/${ns.sanitize}/configmaps/victim`, { data: { v: 'live' } });
      await api('PATCH', `/api/v1/namespaces/${ns.encode}/configmaps/victim`, { data: { v: 'live' } });
      await api('PATCH', `/api/v1/namespaces/${ns.secret}/secrets/victim`, { stringData: { v: 'live' } });
      await api('PATCH', `/apis/deep.example.com/v1/namespaces/${ns.deep}/burrows/victim`, { metadata: { labels: { touched: 'yes' } } });
      const headBefore = head();
      for (const path of ['sanitize', 'encode', 'forbidden', 'control'] as const) await api('PATCH', `/api/v1/namespaces/${ns[path]}/configmaps/keep`, { data: { v: 'live' } });
      await until(
        () =>
          (['sanitize', 'encode', 'forbidden', 'control'] as const).every((path) =>
            execFileSync('git', ['-C', repo, 'show', `main:t/${path}/${ns[path]}/configmaps/keep.yaml`], { encoding: 'utf8' }).includes('v: live'),
          ) || undefined,
        'the bystanders to be committed',
        60_000,
      );
      expect(head()).not.toBe(headBefore);
      for (const path of REFUSING) expect(files(path), `files of target ${path} while running`).toEqual(before[path]);
      // The victims still hold what was written before they were refused.
      expect(execFileSync('git', ['-C', repo, 'show', `main:t/sanitize/${ns.sanitize}/configmaps/victim.yaml`], { encoding: 'utf8' })).toContain('v: victim');
      const readyz = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { adapters: { name: string; state: string; reason?: string }[] };
      for (const name of ['refuse-sanitize', 'refuse-encode']) {
        expect(readyz.adapters.find((a) => a.name === name)).toMatchObject({ state: 'degraded', reason: expect.stringContaining('GR_ERR_NORMALIZER_FAILED') });
      }
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const [adapter, code] of [
        ['refuse-sanitize', 'GR_ERR_NORMALIZER_FAILED'],
        ['refuse-encode', 'GR_ERR_NORMALIZER_FAILED'],
        ['secret-guard', 'GR_ERR_SECRET_PLAINTEXT'],
        ['kernel', 'GR_ERR_EVENT_TOO_DEEP'],
      ]) {
        expect(metrics).toMatch(new RegExp(`gitops_reverser_events_refused_total\\{source="@gitops-reverser/source-informer",adapter="${adapter}",code="${code}"\\} [1-9]`));
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((done) => child.on('exit', done));
    }
    for (const path of REFUSING) expect(files(path), `files of target ${path} after the run`).toEqual(before[path]);
    execFileSync('git', ['-C', repo, 'fsck', '--strict']);
  }, 180_000);
});
