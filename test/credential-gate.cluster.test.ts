import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AdapterHealth, ChangeEvent, KubeObject, Source, SourceContext } from '@gitops-reverser/contract';
import { memoryLogger } from '@gitops-reverser/contract/conformance';
import { KernelMetrics, parseConfig, Runtime } from '@gitops-reverser/kernel';
import {
  ControlPlaneAccess,
  createCustomResourceDefinition,
  createTestNamespace,
  PLANTED_CRD,
  type PlantedCredential,
  plantedCredentials,
  plantedObject,
  plantedPath,
  toolBinaries,
} from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

// The credential gate against a real API server, sink-git and sanitizer-sops: 50 credentials of every
// kind the rule set covers, planted across ConfigMaps, Deployment env values and custom resource
// specs, are all caught in every mode; in refuse, redact and encrypt none of them reaches any object
// of the git repository (every object read with git cat-file --batch-all-objects); and the objects of
// a fresh control plane's system namespaces and of examples/ give no finding at all.

/** One line the memory logger kept. */
type LoggedLine = ReturnType<typeof memoryLogger>['lines'][number];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const access = new ControlPlaneAccess(inject('testCluster'));
const tools = toolBinaries();
const planted = plantedCredentials(50);
let ns = '';

async function api(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await access.request(method, path, body === undefined ? {} : { body });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.body.slice(0, 300)}`);
  return JSON.parse(response.body || '{}') as Record<string, unknown>;
}

beforeAll(async () => {
  ns = await createTestNamespace(access, 'planted');
  await createCustomResourceDefinition(access, { ...PLANTED_CRD, reuseExisting: true });
  for (const credential of planted) {
    const { path, body } = plantedObject(credential, ns);
    await api('POST', path, body);
  }
  await api('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'clean' }, data: { color: 'blue' } });
}, 120_000);

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** One mirror of the planted namespace with the gate in `mode`; a snapshot, then an ordered stop. */
async function mirror(mode: 'warn' | 'refuse' | 'redact' | 'encrypt') {
  const dir = mkdtempSync(join(tmpdir(), `gr-gate-${mode}-`));
  dirs.push(dir);
  writeFileSync(join(dir, 'kubeconfig'), access.kubeconfigText('admin'));
  writeFileSync(join(dir, 'redaction.key'), 'a key every replica shares, 32+ characters long');
  execFileSync(tools.ageKeygen, ['-o', join(dir, 'age.key')], { stdio: 'ignore' });
  const yaml = `apiVersion: gitops-reverser/v1alpha2
shutdown: { timeoutSeconds: 20 }
sources: [ { use: "@gitops-reverser/source-informer", cluster: e2e, with: { kubeconfig: ./kubeconfig } } ]
${mode === 'encrypt' ? 'normalizers: [ { use: "@gitops-reverser/sanitizer-sops", with: { identitiesFile: ./age.key } } ]' : ''}
sink: { use: "@gitops-reverser/sink-git", with: { cacheDir: ./cache, providers: [ { name: local, url: ./state-repo } ] } }
targets: [ { name: live, with: { provider: local, branch: main, path: clusters/e2e } } ]
credentials: { mode: ${mode}, redactionKeyFile: ./redaction.key }
rules:
  - { target: live, namespaces: [${ns}], apiGroups: ["", apps, ${PLANTED_CRD.group}], resources: [configmaps, deployments, ${PLANTED_CRD.plural}] }
`;
  const lines: LoggedLine[] = [];
  const metrics = new KernelMetrics();
  const runtime = await Runtime.create(parseConfig(yaml, join(dir, 'config.yaml')), { logger: memoryLogger(lines), metrics });
  await runtime.start();
  const report = await runtime.snapshot({ timeoutMs: 120_000 });
  await runtime.stop('mirrored');
  const counter = async (name: string, labels: Record<string, string>) => {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
    return (metric?.values ?? []).filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + Number(v.value), 0);
  };
  const repo = join(dir, 'state-repo');
  return { dir, repo, lines, report, counter, files: filesOf(repo) };
}

/** Files of the branch head, by object name (`planted-3.yaml`, `planted-3.sops.yaml`). */
function filesOf(repo: string): Map<string, string> {
  const paths = execFileSync('git', ['-C', repo, 'ls-tree', '-r', '--name-only', 'main'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  return new Map(paths.filter((path) => path.startsWith(`clusters/e2e/${ns}/`)).map((path) => [path.slice(path.lastIndexOf('/') + 1), path]));
}

function show(repo: string, path: string): string {
  return execFileSync('git', ['-C', repo, 'show', `main:${path}`], { encoding: 'utf8' });
}

/** Every git directory under `folder` (the remote and the sink's clones). */
function gitDirectories(folder: string): string[] {
  const found: string[] = [];
  const visit = (path: string) => {
    const entries = readdirSync(path);
    if (entries.includes('objects') && entries.includes('HEAD') && statSync(join(path, 'objects')).isDirectory()) found.push(path);
    for (const entry of entries) if (statSync(join(path, entry)).isDirectory() && entry !== 'objects') visit(join(path, entry));
  };
  visit(folder);
  return found;
}

/** The content of every object (blobs, trees, commits, tags; loose and packed) of every git directory under `folder`. */
function everyGitObject(folder: string): string {
  const directories = gitDirectories(folder);
  expect(directories.length).toBeGreaterThan(0);
  return directories.map((gitDir) => execFileSync('git', ['--git-dir', gitDir, 'cat-file', '--batch-all-objects', '--batch'], { maxBuffer: 1 << 30 }).toString('latin1')).join('\n');
}

function leaked(folder: string): string[] {
  const objects = everyGitObject(folder);
  return planted.filter((credential) => credential.secrets.some((secret) => objects.includes(secret))).map((credential) => `${credential.name} (${credential.kind})`);
}

/** The value at the planted credential's place in an object. */
function valueAt(object: KubeObject, credential: PlantedCredential): unknown {
  return plantedPath(credential).reduce<unknown>((value, step) => (value as Record<string | number, unknown> | undefined)?.[step], object);
}

/** Object names the gate reported (warn lines with a rule), from the log. */
function reported(lines: readonly LoggedLine[]): Set<string> {
  return new Set(
    lines
      .filter((line) => line.level === 'warn' && typeof (line.fields as { rule?: unknown }).rule === 'string')
      .map(
        (line) =>
          String((line.fields as { key: string }).key)
            .split('/')
            .pop() as string,
      ),
  );
}

describe('credential gate: 50 planted credentials', () => {
  it('every secret of the corpus is in the corpus objects (the corpus is what it claims)', () => {
    expect(planted).toHaveLength(50);
    expect(new Set(planted.map((c) => c.placement))).toEqual(new Set(['configmap', 'deployment-env', 'custom-resource']));
    for (const credential of planted) for (const secret of credential.secrets) expect(credential.value).toContain(secret);
  });

  it('warn: all 50 found, reported by name and counted; written as they are (so the git check below can see a leak)', async () => {
    const { lines, counter, files, dir, report } = await mirror('warn');
    expect(report.complete).toBe(true);
    expect([...reported(lines)].sort()).toEqual(planted.map((c) => c.name).sort());
    expect(await counter('gitops_reverser_credentials_found_total', { mode: 'warn' })).toBeGreaterThanOrEqual(50);
    expect(files.size).toBe(51);
    // The check used for the other modes finds every planted credential here.
    expect(leaked(dir)).toHaveLength(50);
    // No log line holds a credential.
    const logged = JSON.stringify(lines);
    expect(planted.filter((c) => c.secrets.some((secret) => logged.includes(secret)))).toEqual([]);
  });

  it('refuse: none of the 50 written, each refused with its code; the clean object written; no git object holds a credential', async () => {
    const { counter, files, dir, report, lines } = await mirror('refuse');
    expect([...files.keys()]).toEqual(['clean.yaml']);
    expect(await counter('gitops_reverser_events_refused_total', { adapter: 'credential-gate', code: 'GR_ERR_CREDENTIAL_FOUND' })).toBe(50);
    expect([...reported(lines)].sort()).toEqual(planted.map((c) => c.name).sort());
    expect(report.complete).toBe(false);
    expect(report.problems.join('\n')).toContain('50 object(s) of the snapshot were refused and not written (credential-gate (GR_ERR_CREDENTIAL_FOUND): 50)');
    expect(leaked(dir)).toEqual([]);
  });

  it('redact: all 50 written with a keyed marker in place of each credential; no git object holds a credential', async () => {
    const { repo, files, dir, report } = await mirror('redact');
    expect(report.complete).toBe(true);
    expect(files.size).toBe(51);
    for (const credential of planted) {
      const object = parseYaml(show(repo, files.get(`${credential.name}.yaml`) as string)) as KubeObject;
      const value = String(valueAt(object, credential));
      expect(value, credential.name).toMatch(/REDACTED:sha256-hmac:[0-9a-f]{12}/);
      for (const secret of credential.secrets) expect(value).not.toContain(secret);
    }
    expect(leaked(dir)).toEqual([]);
  });

  it('encrypt: all 50 written as SOPS files the sops CLI decrypts to the planted value; no git object holds a credential', async () => {
    const { repo, files, dir, report } = await mirror('encrypt');
    expect(report.complete).toBe(true);
    expect(files.has('clean.yaml')).toBe(true);
    for (const credential of planted) {
      const path = files.get(`${credential.name}.sops.yaml`);
      expect(path, credential.name).toBeDefined();
      const text = show(repo, path as string);
      const file = join(dir, `${credential.name}.sops.yaml`);
      writeFileSync(file, text);
      const decrypted = JSON.parse(
        execFileSync(tools.sops, ['--decrypt', '--input-type', 'yaml', '--output-type', 'json', file], { encoding: 'utf8', env: { ...process.env, SOPS_AGE_KEY_FILE: join(dir, 'age.key') } }),
      ) as KubeObject;
      expect(valueAt(decrypted, credential), credential.name).toBe(credential.value);
    }
    expect(leaked(dir)).toEqual([]);
  });
});

/** A source that hands over given objects as one snapshot (the examples are files, not cluster objects). */
class ObjectsSource implements Source {
  constructor(private readonly objects: readonly KubeObject[]) {}
  async start(context: SourceContext): Promise<void> {
    const snapshot = context.beginSnapshot();
    for (const object of this.objects) {
      const kind = object.kind ?? '';
      const clusterScoped = kind === 'Namespace' || kind === 'CustomResourceDefinition';
      const [group, version] = (object.apiVersion ?? '').includes('/') ? (object.apiVersion as string).split('/') : ['', object.apiVersion ?? ''];
      const event: Omit<ChangeEvent, 'phase' | 'snapshotId'> = {
        identity: {
          clusterId: 'examples',
          group: group as string,
          version: version as string,
          resource: `${kind.toLowerCase()}s`,
          kind,
          namespace: clusterScoped ? '' : (object.metadata?.namespace ?? 'examples'),
          name: object.metadata?.name ?? '',
        },
        operation: 'upsert',
        created: false,
        object,
        resourceVersion: '1',
        observedAt: new Date().toISOString(),
        observedBy: 'examples',
      };
      await snapshot.emit(event);
    }
    await snapshot.complete();
  }
  async stop(): Promise<void> {}
  health(): AdapterHealth {
    return { state: 'ready' };
  }
}

/** Every Kubernetes object in examples/ (gitops-reverser configs are not objects of a cluster). */
function exampleObjects(): KubeObject[] {
  const files: string[] = [];
  const visit = (folder: string) => {
    for (const entry of readdirSync(folder)) {
      const path = join(folder, entry);
      if (statSync(path).isDirectory()) {
        if (!['node_modules', 'out', 'dist'].includes(entry)) visit(path);
      } else if (/\.ya?ml$/.test(entry)) files.push(path);
    }
  };
  visit(join(root, 'examples'));
  return files
    .flatMap((file) => parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => doc.toJS() as KubeObject))
    .filter((object) => object && typeof object.kind === 'string' && typeof object.apiVersion === 'string' && !object.apiVersion.startsWith('gitops-reverser/'));
}

describe('credential gate: a clean corpus gives no finding', () => {
  const mirrorClean = async (yaml: string, source?: Source) => {
    const dir = mkdtempSync(join(tmpdir(), 'gr-gate-clean-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'kubeconfig'), access.kubeconfigText('admin'));
    const lines: LoggedLine[] = [];
    const metrics = new KernelMetrics();
    const runtime = await Runtime.create(parseConfig(yaml, join(dir, 'config.yaml')), {
      logger: memoryLogger(lines),
      metrics,
      ...(source ? { adapters: { sources: [{ cluster: 'examples', instance: source }] } } : {}),
    });
    await runtime.start();
    const report = await runtime.snapshot({ timeoutMs: 120_000 });
    await runtime.stop('mirrored');
    const total = async (name: string) => ((await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name)?.values ?? []).reduce((sum, v) => sum + Number(v.value), 0);
    return { lines, report, found: await total('gitops_reverser_credentials_found_total'), written: report.progress.objectsWritten };
  };
  const common = `apiVersion: gitops-reverser/v1alpha2
shutdown: { timeoutSeconds: 20 }
sink: { use: "@gitops-reverser/sink-git", with: { cacheDir: ./cache, providers: [ { name: local, url: ./state-repo } ] } }
targets: [ { name: live, with: { provider: local, branch: main, path: clean } } ]
`;

  it("every object of the control plane's kube-system, default and kube-public namespaces", async () => {
    const { found, written, report, lines } =
      await mirrorClean(`${common}sources: [ { use: "@gitops-reverser/source-informer", cluster: e2e, with: { kubeconfig: ./kubeconfig, excludeResources: [] } } ]
rules:
  - { target: live, namespaces: [kube-system, default, kube-public], apiGroups: ["*"], resources: ["*"], plaintextSecrets: true }
`);
    expect(report.complete).toBe(true);
    expect(written).toBeGreaterThan(5);
    expect(reported(lines)).toEqual(new Set());
    expect(found).toBe(0);
  });

  it('every object in examples/', async () => {
    const objects = exampleObjects();
    expect(objects.length).toBeGreaterThan(8);
    const { found, written, report, lines } = await mirrorClean(
      `${common}rules:
  - { target: live, apiGroups: ["*"], resources: ["*"], plaintextSecrets: true }
  - { target: live, scope: Cluster, apiGroups: ["*"], resources: ["*"] }
`,
      new ObjectsSource(objects),
    );
    expect(report.complete).toBe(true);
    expect(written).toBeGreaterThanOrEqual(objects.length);
    expect(reported(lines)).toEqual(new Set());
    expect(found).toBe(0);
  });
});
