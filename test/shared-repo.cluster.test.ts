import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual, promisify } from 'node:util';
import type { KubeObject } from '@gitops-reverser/contract';
import { memoryLogger } from '@gitops-reverser/contract/conformance';
import { createDefaultSanitizer, parseConfig, Runtime } from '@gitops-reverser/kernel';
import type { GitEngineName } from '@gitops-reverser/sink-git';
import { ControlPlaneAccess, controlPlaneBinaries, createTestNamespace, GitHttpServer, until } from '@gitops-reverser/testkit';
import { parseAllDocuments, stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { allowedRange, AWKWARD_STRINGS, changedPaths, firstChangeOutside, random, type TextRange } from '../packages/sink-git/test/edit-locality.js';
import { testEngines } from '../packages/sink-git/test/helpers.js';

// A repository that people and GitOps controllers share, end to end: the real API server through
// the informer source and the kernel, sink-git pushing to a real `git http-backend`, people working
// with the git CLI, Flux and Argo CD played by the built kubectl applying the committed folder with
// their field managers and bookkeeping, and `kubectl kustomize` rendering the folder
// (docs/sharing-the-repository.md, ADR 0020). Where objects go and how files are edited does not
// depend on the git engine (the engines differ in how they fetch and push), so the test in which a
// person's push has to be fetched mid-run runs once per engine and the others with the default one.

const access = new ControlPlaneAccess(inject('testCluster'));
const { kubectl } = controlPlaneBinaries();
const corpusDir = join(import.meta.dirname, '..', 'packages/sink-git/test/fixtures/hand-written');
let server: GitHttpServer;
let runtimes: Runtime[] = [];
/** Temporary folders of the test running, removed after it. */
const folders: string[] = [];

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
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const execFileAsync = promisify(execFile);
const git = (repo: string, ...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
// The git server runs in this process: commands that talk to it must not block the event loop.
const gitAsync = async (...args: string[]) => (await execFileAsync('git', args, { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }, maxBuffer: 1 << 26 })).stdout;
const kubectlRun = async (...args: string[]) => (await execFileAsync(kubectl, ['--kubeconfig', access.kubeconfig, ...args], { maxBuffer: 1 << 26 })).stdout;

const KINDS = {
  ConfigMap: { apiVersion: 'v1', plural: 'configmaps', folder: 'configmaps' },
  Service: { apiVersion: 'v1', plural: 'services', folder: 'services' },
  ServiceAccount: { apiVersion: 'v1', plural: 'serviceaccounts', folder: 'serviceaccounts' },
  Deployment: { apiVersion: 'apps/v1', plural: 'deployments', folder: 'apps/deployments' },
} as const;
type Kind = keyof typeof KINDS;
const SELECTED = 'apiGroups: ["", apps], resources: [configmaps, services, serviceaccounts, deployments]';

function apiPath(kind: Kind, namespace: string, name?: string): string {
  const { apiVersion, plural } = KINDS[kind];
  return `${apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`}/namespaces/${namespace}/${plural}${name ? `/${name}` : ''}`;
}

async function api(method: string, path: string, body?: unknown, contentType?: string): Promise<KubeObject> {
  const response = await access.request(method, path, { ...(body === undefined ? {} : { body }), ...(contentType ? { headers: { 'content-type': contentType } } : {}) });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.body.slice(0, 500)}`);
  return JSON.parse(response.body) as KubeObject;
}

const createObject = (namespace: string, object: KubeObject) => api('POST', apiPath(object.kind as Kind, namespace), { ...object, metadata: { ...object.metadata, namespace } });
const patchObject = (kind: Kind, namespace: string, name: string, patch: unknown) => api('PATCH', apiPath(kind, namespace, name), patch, 'application/merge-patch+json');
const deleteObject = (kind: Kind, namespace: string, name: string) => api('DELETE', apiPath(kind, namespace, name));

const sanitizer = createDefaultSanitizer();
/** What the sink is to write for a live object: the kernel's default sanitizer's output. */
function sanitized(object: KubeObject): KubeObject {
  return sanitizer.normalize(object, { identity: undefined } as never) as KubeObject;
}

/** Every selected live object of `namespaces`, sanitized, as the API server lists them. */
async function liveObjects(namespaces: readonly string[]): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for (const namespace of namespaces) {
    for (const kind of Object.keys(KINDS) as Kind[]) {
      const list = (await api('GET', apiPath(kind, namespace))) as unknown as { items: KubeObject[] };
      for (const item of list.items) out.push(sanitized({ ...item, apiVersion: KINDS[kind].apiVersion, kind }));
    }
  }
  return byKey(out);
}

const keyOf = (o: KubeObject) => `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
const byKey = (objects: KubeObject[]) => [...objects].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));

// A small workload of every selected kind.
const configMap = (name: string, data: Record<string, string>, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(annotations ? { annotations } : {}) },
  data,
});
const deployment = (name: string, replicas: number): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels: { app: name }, annotations: { 'example.com/owner': 'shop' } },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'web', image: 'registry.example.com/web:1.4.2', ports: [{ containerPort: 8080 }], env: [{ name: 'MODE', value: 'production' }] }] },
    },
  },
});
const service = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, annotations: { 'example.com/owner': 'shop' } },
  spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
});
const serviceAccount = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, annotations: { 'example.com/owner': 'shop' } } });

let repoCounter = 0;

/** A repository on the git server, and a runtime over the real API server writing into it. */
function setup(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), `gr-${prefix}-`));
  folders.push(dir);
  const name = `${prefix}-${repoCounter++}`;
  server.createRepo(name);
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, access.kubeconfigText('admin'));
  const logger = memoryLogger();
  /** What the runtime logged as errors: none is expected in these tests (a failed write is retried, and logged). */
  const errors = () => logger.lines.filter((line) => line.level === 'error' || line.level === 'fatal').map((line) => line.message);
  /** Starts the runtime and waits for its first snapshot to be written and pushed. */
  const start = async (options: { targets: string; rules: string; engine?: GitEngineName }) => {
    const yaml = `apiVersion: gitops-reverser/v1alpha2
shutdown: { timeoutSeconds: 10 }
sources: [ { use: "@gitops-reverser/source-informer", cluster: e2e, with: { kubeconfig: ${kubeconfig} } } ]
sink:
  use: "@gitops-reverser/sink-git"
  with:
    commitWindow: 0
    engine: ${options.engine ?? 'isomorphic-git'}
    cacheDir: ${join(dir, 'cache')}
    providers: [ { name: origin, url: "${server.url(name)}", auth: { username: bot, password: pw } } ]
targets:
${options.targets}
rules:
${options.rules}
`;
    const runtime = await Runtime.create(parseConfig(yaml, join(dir, 'config.yaml')), { logger });
    runtimes.push(runtime);
    await runtime.start();
    const report = await runtime.snapshot({ timeoutMs: 60_000 });
    expect(report.problems).toEqual([]);
    return runtime;
  };
  let clones = 0;
  /** A person's clone, with the git CLI. */
  const clone = async () => {
    const path = join(dir, `person-${clones++}`);
    await gitAsync('clone', '--quiet', server.url(name, true), path);
    git(path, 'config', 'user.name', 'A Person');
    git(path, 'config', 'user.email', 'person@example.com');
    git(path, 'config', 'core.autocrlf', 'false');
    return path;
  };
  return { dir, remote: server.repoPath(name), start, clone, errors };
}

async function commitAndPush(clone: string, message: string): Promise<void> {
  git(clone, 'add', '-A');
  git(clone, 'commit', '--quiet', '-m', message);
  await gitAsync('-C', clone, 'push', '--quiet', 'origin', 'HEAD:main');
}

/** Files of the remote's main under `path`. */
function filesAt(remote: string, path: string, ref = 'main'): string[] {
  return git(remote, 'ls-tree', '-r', '--name-only', ref, '--', path).trim().split('\n').filter(Boolean).sort();
}

/** The bytes of `paths` at `ref` of a repository, read in one `git cat-file --batch`. */
function blobs(remote: string, ref: string, paths: readonly string[]): Map<string, string> {
  const out = execFileSync('git', ['-C', remote, 'cat-file', '--batch'], { input: paths.map((p) => `${ref}:${p}\n`).join(''), maxBuffer: 1 << 28 });
  const texts = new Map<string, string>();
  let at = 0;
  for (const path of paths) {
    const newline = out.indexOf(0x0a, at);
    const header = out.subarray(at, newline).toString('utf8');
    const match = /^[0-9a-f]+ blob (\d+)$/.exec(header);
    if (!match) throw new Error(`${ref}:${path}: ${header}`);
    const size = Number(match[1]);
    texts.set(path, out.subarray(newline + 1, newline + 1 + size).toString('utf8'));
    at = newline + 1 + size + 1;
  }
  return texts;
}

/** The remote's main as a folder on disk (a checkout without a clone). */
function exportTree(remote: string, into: string): string {
  rmSync(into, { recursive: true, force: true });
  mkdirSync(into, { recursive: true });
  execFileSync('sh', ['-c', `git -C "${remote}" archive main | tar -x -C "${into}"`]);
  return into;
}

/** `kubectl kustomize` of a folder, as the objects it renders, sorted. */
async function kustomize(folder: string): Promise<KubeObject[]> {
  return byKey(
    parseAllDocuments(await kubectlRun('kustomize', folder))
      .map((d) => d.toJS() as KubeObject)
      .filter(Boolean),
  );
}

/** Waits for `produce()` to equal `expected` (a real effect: commits reaching the remote), then asserts it. */
async function eventually<T>(produce: () => T | Promise<T>, expected: T, what: string, timeoutMs = 60_000): Promise<void> {
  let last: T | undefined;
  await until(
    async () => {
      last = await produce();
      return isDeepStrictEqual(last, expected) || undefined;
    },
    what,
    timeoutMs,
  ).catch(() => undefined);
  expect(last, what).toEqual(expected);
}

/** Every YAML document of the files under `folder` (kustomizations left out). */
function documentsUnder(folder: string): KubeObject[] {
  const out: KubeObject[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.ya?ml$/.test(name) && name !== 'kustomization.yaml') {
        for (const document of parseAllDocuments(readFileSync(path, 'utf8'))) if (document.contents) out.push(document.toJS() as KubeObject);
      }
    }
  };
  walk(folder);
  return out;
}

describe('GitOps controllers applying the committed folder (real API server, informer, real git server, the built kubectl)', () => {
  describe.each([
    { layout: 'kustomizations: Create and omitNamespace, applied with `kubectl apply -k` as Flux builds it', options: ', kustomizations: Create, omitNamespace: true', kustomized: true },
    { layout: 'the default layout without kustomizations, applied file by file', options: '', kustomized: false },
  ])('$layout', ({ options, kustomized }) => {
    it('server-side applies under kustomize-controller with Flux labels, and Argo CD applies with its tracking annotation, make no commit; their bookkeeping never reaches git', async () => {
      const ns = await createTestNamespace(access, 'gitops');
      const { dir, remote, start, clone, errors } = setup('gitops');
      const objects = [
        configMap('app-config', { 'settings.yaml': 'replicas: 2\nfeature: on\n', mode: 'fast' }, { 'example.com/owner': 'shop' }),
        configMap('flags', { beta: 'true', limit: '10' }),
        deployment('web', 2),
        service('web'),
        serviceAccount('web'),
      ];
      for (const object of objects) await createObject(ns, object);
      const runtime = await start({
        targets: `  - { name: live, with: { provider: origin, branch: main, path: clusters/e2e${options} } }`,
        rules: `  - { target: live, scope: Namespaced, namespaces: [${ns}], ${SELECTED} }`,
      });
      const objectFiles = filesAt(remote, 'clusters/e2e').filter((path) => !path.endsWith('kustomization.yaml'));
      expect(objectFiles).toHaveLength(objects.length);
      const before = git(remote, 'rev-parse', 'main').trim();
      const suppressedBefore = await unchangedEvents(runtime);

      const checkout = await clone();
      const folder = join(checkout, 'clusters/e2e');
      const apply = async (manifests: KubeObject[], ...flags: string[]) => {
        const file = join(dir, `apply-${Math.random().toString(36).slice(2, 8)}.yaml`);
        writeFileSync(file, manifests.map((m) => stringify(m)).join('---\n'));
        await kubectlRun('apply', ...flags, '-f', file);
      };
      // Flux: kustomize-controller builds the folder and applies it server-side, as its field manager.
      if (kustomized) await kubectlRun('apply', '--server-side', '--field-manager=kustomize-controller', '--force-conflicts', '-k', folder);
      else await kubectlRun('apply', '--server-side', '--field-manager=kustomize-controller', '--force-conflicts', '-R', '-f', folder);
      const manifests = kustomized ? await kustomize(folder) : documentsUnder(folder);
      expect(manifests).toHaveLength(objects.length);
      // ... with the labels it puts on every object it applies (its garbage collection finds them by these).
      const fluxLabels = { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' };
      await apply(
        manifests.map((m) => ({ ...m, metadata: { ...m.metadata, labels: { ...m.metadata?.labels, ...fluxLabels } } })),
        '--server-side',
        '--field-manager=kustomize-controller',
        '--force-conflicts',
      );
      // Argo CD: its tracking annotation (annotation tracking, the default since Argo CD 3), applied
      // client-side (its default) and server-side (ServerSideApply=true).
      const tracked = manifests.map((m) => ({
        ...m,
        metadata: {
          ...m.metadata,
          annotations: {
            ...m.metadata?.annotations,
            'argocd.argoproj.io/tracking-id': `shop:${m.apiVersion?.includes('/') ? m.apiVersion.split('/')[0] : ''}/${m.kind}:${ns}/${m.metadata?.name}`,
            'argocd.argoproj.io/installation-id': 'argocd-e2e',
          },
        },
      }));
      await apply(tracked, '--field-manager=argocd-controller');
      await apply(tracked, '--server-side', '--field-manager=argocd-controller', '--force-conflicts');

      // The applies reached the cluster: every object carries both controllers' bookkeeping.
      for (const object of objects) {
        const live = await api('GET', apiPath(object.kind as Kind, ns, object.metadata?.name));
        expect(live.metadata?.labels?.['kustomize.toolkit.fluxcd.io/name'], keyOf(live)).toBe('apps');
        expect(live.metadata?.annotations?.['argocd.argoproj.io/tracking-id'], keyOf(live)).toContain(`:${ns}/`);
        const managers = ((live.metadata as { managedFields?: { manager: string }[] }).managedFields ?? []).map((f) => f.manager);
        expect(managers, keyOf(live)).toEqual(expect.arrayContaining(['kustomize-controller', 'argocd-controller']));
      }
      // One real change per kind after the applies: each watch delivers in order, so once these four
      // commits are on the remote every event the applies caused has been through the runtime.
      const sentinels = [objects[0], objects[2], objects[3], objects[4]] as KubeObject[];
      for (const object of sentinels) await patchObject(object.kind as Kind, ns, object.metadata?.name as string, { metadata: { annotations: { 'example.com/sentinel': 'after-the-applies' } } });
      await until(() => git(remote, 'log', '--format=%s', `${before}..main`).trim().split('\n').filter(Boolean).length >= sentinels.length || undefined, 'the sentinel commits');
      const idle = await runtime.snapshot({ timeoutMs: 30_000 });
      expect(idle.problems).toEqual([]);

      // Zero commits from the applies: exactly the sentinels' changes, one added line each.
      const subjects = git(remote, 'log', '--format=%s', `${before}..main`).trim().split('\n').sort();
      expect(subjects).toEqual(sentinels.map((o) => `[UPDATE] ${o.apiVersion}/${KINDS[o.kind as Kind].plural}/${ns}/${o.metadata?.name}`).sort());
      const changed = git(remote, 'diff', '--unified=0', before, 'main')
        .split('\n')
        .filter((line) => /^[+-]/.test(line) && !/^(\+\+\+|---) /.test(line));
      expect(changed).toEqual(sentinels.map(() => '+    example.com/sentinel: after-the-applies'));
      // The runtime saw the applies and found nothing to write.
      expect((await unchangedEvents(runtime)) - suppressedBefore).toBeGreaterThanOrEqual(objects.length);
      // Neither controller's bookkeeping, nor kubectl's, is anywhere in the history.
      const history = git(remote, 'log', '--all', '-p', '--format=%H %s');
      for (const word of ['argocd.argoproj.io', 'kustomize.toolkit.fluxcd.io', 'last-applied-configuration', 'managedFields', 'flux-system']) expect(history).not.toContain(word);
      git(remote, 'fsck', '--strict');
      expect(errors()).toEqual([]);
    });
  });
});

/** Events the kernel dropped because the sanitized object was what it last published. */
async function unchangedEvents(runtime: Runtime): Promise<number> {
  const { values } = await runtime.metrics.eventsSuppressed.get();
  return values.filter((v) => v.labels['reason'] === 'unchanged').reduce((total, v) => total + v.value, 0);
}

// The hand-written corpus of the in-place editor's unit test, as files a person committed, with the
// objects they describe live in the API server.
const CORPUS = readdirSync(corpusDir)
  .filter((name) => name.endsWith('.yaml'))
  .sort()
  .map((name) => ({ name, text: readFileSync(join(corpusDir, name), 'utf8') }));
/** Copies of the corpus (each its own folder and object names), so a batch changes many documents at once. */
const COPIES = 6;
const CHANGES = 1000;
const BATCH = 20;

/** A copy of a corpus file: its objects in `namespace`, their names suffixed; every other byte as written. */
function corpusCopy(text: string, copy: number, namespace: string): string {
  return text.replace(/^( {2}namespace: )shop(\r?)$/gm, `$1${namespace}$2`).replace(/^( {2}name: )([a-z0-9-]+)(\r?)$/gm, `$1$2-${copy}$3`);
}

/** How kubectl reads YAML (1.1, no timestamps) and how most other tools do (1.2): a file must mean the same to both. */
const READERS = [{ version: '1.1' as const, customTags: (tags: unknown[]) => tags.filter((tag) => typeof tag === 'string' || (tag as { tag?: string }).tag !== 'tag:yaml.org,2002:timestamp') }, {}];

function readAs(text: string, reader: (typeof READERS)[number]): unknown[] {
  return parseAllDocuments(text, reader as never).map((document) => {
    expect(document.errors).toEqual([]);
    return document.toJS({ maxAliasCount: -1 });
  });
}

interface LiveDocument {
  readonly path: string;
  readonly index: number;
  readonly kind: Kind;
  readonly name: string;
  live: KubeObject;
  expected: KubeObject;
}

const LABEL_VALUES = ['alpha', 'yes', 'no', 'on', 'off', 'true', 'null', '123', '1.5', '0x10', '', 'v1.2.3', 'a_b', 'x-y', 'Y', '007'];
const IMAGES = ['registry.example.com/web', 'ghcr.io/shop/app', 'nginx'];

function pick<T>(list: readonly T[], next: () => number): T {
  return list[Math.floor(next() * list.length)] as T;
}

/** The items in a random order (Fisher-Yates). */
function shuffle<T>(items: readonly T[], next: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** A map with one key set, added or removed. */
function changedMap(map: Record<string, unknown> | undefined, value: () => unknown, next: () => number, serial: number): Record<string, unknown> {
  const out = { ...map };
  const keys = Object.keys(out);
  const roll = next();
  if (keys.length > 0 && roll < 0.25) delete out[pick(keys, next)];
  else if (keys.length === 0 || roll < 0.5) out[`added-${serial}`] = value();
  else out[pick(keys, next)] = value();
  return out;
}

/** A list with one item set, inserted or removed. */
function changedList<T>(list: readonly T[] | undefined, value: () => T, next: () => number): T[] {
  const out = [...(list ?? [])];
  const roll = next();
  if (out.length > 1 && roll < 0.3) out.splice(Math.floor(next() * out.length), 1);
  else if (out.length === 0 || roll < 0.6) out.splice(Math.floor(next() * (out.length + 1)), 0, value());
  else out[Math.floor(next() * out.length)] = value();
  return out;
}

/**
 * One random change of a live object that the API server accepts: labels and annotations of every
 * object, ConfigMap data, a Deployment's replicas, images, args, env, command and pod annotations, a
 * Service's selector and ports, a ServiceAccount's token mount and pull secrets.
 */
function mutateLive(object: KubeObject, next: () => number, serial: number): void {
  const metadata = object.metadata as Record<string, unknown>;
  const text = () => pick(AWKWARD_STRINGS, next);
  const labelValue = () => pick(LABEL_VALUES, next);
  const roll = next();
  if (roll < 0.12) {
    metadata['labels'] = changedMap(metadata['labels'] as Record<string, unknown>, labelValue, next, serial);
    return;
  }
  if (roll < 0.24) {
    metadata['annotations'] = changedMap(metadata['annotations'] as Record<string, unknown>, text, next, serial);
    return;
  }
  switch (object.kind as Kind) {
    case 'ConfigMap':
      object['data'] = changedMap(object['data'] as Record<string, unknown>, text, next, serial);
      return;
    case 'ServiceAccount':
      if (next() < 0.5) object['automountServiceAccountToken'] = !object['automountServiceAccountToken'];
      else object['imagePullSecrets'] = changedList(object['imagePullSecrets'] as { name: string }[], () => ({ name: `pull-${serial}` }), next);
      return;
    case 'Deployment': {
      const spec = object['spec'] as DeploymentSpec;
      const container = pick(spec.template.spec.containers, next);
      const which = next();
      if (which < 0.15) spec.replicas = (spec.replicas + 1 + Math.floor(next() * 5)) % 10;
      else if (which < 0.3) container.image = `${pick(IMAGES, next)}:${serial}`;
      else if (which < 0.5) container.args = changedList(container.args, text, next);
      else if (which < 0.7) {
        const env = changedList(container.env, () => ({ name: `ADDED_${serial}`, value: text() }), next);
        container.env = env.map((entry) => (entry.name.startsWith('ADDED_') || next() < 0.5 ? entry : { name: entry.name, value: text() }));
      } else if (which < 0.8) container.command = changedList(container.command, text, next);
      else spec.template.metadata.annotations = changedMap(spec.template.metadata.annotations, text, next, serial);
      return;
    }
    case 'Service': {
      const spec = object['spec'] as ServiceSpec;
      const used = new Set(spec.ports.map((p) => p.port));
      let free = 1024 + ((serial * 7919) % 60_000);
      while (used.has(free)) free++;
      const which = next();
      if (which < 0.35) spec.selector = changedMap(spec.selector, labelValue, next, serial);
      else if (which < 0.65 || (which >= 0.85 && spec.ports.length === 1)) pick(spec.ports, next).port = free;
      else if (which < 0.85) spec.ports.push({ name: `p-${serial}`, port: free, targetPort: 1024 + (serial % 1000), protocol: 'TCP' });
      else spec.ports.splice(Math.floor(next() * spec.ports.length), 1);
      return;
    }
  }
}

/** The parts of a live Deployment and Service the random changes reach. */
interface DeploymentSpec {
  replicas: number;
  template: { metadata: { annotations?: Record<string, unknown> }; spec: { containers: { image: string; args?: string[]; command?: string[]; env?: { name: string; value?: string }[] }[] } };
}
interface ServiceSpec {
  selector?: Record<string, unknown>;
  ports: { name?: string; port: number; targetPort?: number | string; protocol?: string }[];
}

describe('a hand-written corpus under live changes (real API server, informer, real git server, the git CLI as the person)', () => {
  it('1,000 random live changes through the API server: each file reads as the sanitized live object, and outside the changed values every byte stays', async () => {
    const ns = await createTestNamespace(access, 'corpus');
    const { dir, remote, start, clone, errors } = setup('corpus');
    // A person commits the corpus (copies of it, one folder each) into the target folder.
    const person = await clone();
    const documents: LiveDocument[] = [];
    const written = new Map<string, string>();
    for (let copy = 0; copy < COPIES; copy++) {
      for (const { name, text } of CORPUS) {
        const path = `clusters/e2e/apps/copy-${copy}/${name}`;
        const copied = corpusCopy(text, copy, ns);
        mkdirSync(dirname(join(person, path)), { recursive: true });
        writeFileSync(join(person, path), copied);
        written.set(path, copied);
        for (const [index, data] of readAs(copied, READERS[0] as never).entries()) {
          if (!data) continue;
          const object = data as KubeObject;
          const live = await createObject(ns, object);
          documents.push({ path, index, kind: object.kind as Kind, name: object.metadata?.name as string, live, expected: sanitized(live) });
        }
      }
    }
    await commitAndPush(person, 'the shop, by hand');
    expect(documents).toHaveLength(COPIES * 7);
    const paths = [...written.keys()].sort();

    const checkFiles = (texts: Map<string, string>) => {
      for (const path of paths) {
        const text = texts.get(path) as string;
        for (const reader of READERS) {
          const read = readAs(text, reader);
          for (const document of documents.filter((d) => d.path === path)) expect(read[document.index], `${path}#${document.index} (${JSON.stringify(reader)})`).toEqual(document.expected);
        }
      }
    };
    const landed = (texts: Map<string, string>, changed: readonly LiveDocument[]) =>
      changed.every((d) => isDeepStrictEqual(parseAllDocuments(texts.get(d.path) as string)[d.index]?.toJS({ maxAliasCount: -1 }), d.expected));

    // The runtime starts on the person's commit: its seed finds every object in the person's files
    // and brings them to the live object (fields the API server defaulted are added), in place.
    await start({ targets: '  - { name: live, with: { provider: origin, branch: main, path: clusters/e2e } }', rules: `  - { target: live, scope: Namespaced, namespaces: [${ns}], ${SELECTED} }` });
    expect(filesAt(remote, 'clusters/e2e')).toEqual(paths);
    let texts = blobs(remote, 'main', paths);
    checkFiles(texts);
    for (const path of paths) {
      const comments = (written.get(path) as string).split(/\r?\n/).filter((line) => line.trim().startsWith('#'));
      for (const comment of comments) expect(texts.get(path), `${path} keeps "${comment}"`).toContain(comment);
      if (path.endsWith('crlf.yaml')) expect((texts.get(path) as string).replace(/\r\n/g, '')).not.toContain('\n');
    }

    const next = random(20_260_424);
    let serial = 0;
    let changes = 0;
    let localityChecked = 0;
    let aliased = 0;
    for (let batch = 0; changes < CHANGES; batch++) {
      // A batch: distinct documents, one random change each, through the API server.
      const chosen = shuffle(documents, next).slice(0, Math.min(BATCH, CHANGES - changes));
      const before = new Map(chosen.map((d) => [d, d.expected]));
      for (const document of chosen) {
        const { managedFields: _, ...metadata } = document.live.metadata as Record<string, unknown>;
        let desired: KubeObject;
        do {
          desired = structuredClone({ ...document.live, metadata });
          mutateLive(desired, next, ++serial);
        } while (isDeepStrictEqual(sanitized(desired), document.expected));
        document.live = await api('PUT', apiPath(document.kind, ns, document.name), desired);
        document.expected = sanitized(document.live);
        changes++;
      }
      let latest = texts;
      await until(() => {
        latest = blobs(remote, 'main', paths);
        return landed(latest, chosen) || undefined;
      }, `batch ${batch} on the remote`).catch(() => undefined);
      // (had it not landed in time, this names the documents that differ)
      checkFiles(latest);
      // Outside the changed values every byte stays: per file, the parts of the previous text that
      // the batch's changes could not touch are all still there, in order.
      for (const path of paths) {
        const previous = texts.get(path) as string;
        const now = latest.get(path) as string;
        const changedHere = chosen.filter((d) => d.path === path);
        if (changedHere.length === 0) {
          expect(now, `${path}: nothing of it changed in batch ${batch}`).toBe(previous);
          continue;
        }
        const ranges: TextRange[] = [];
        let anchored = false;
        for (const document of changedHere) {
          for (const at of changedPaths(before.get(document), document.expected)) {
            const range = allowedRange(previous, document.index, at);
            anchored ||= range.aliased;
            ranges.push(range);
          }
        }
        if (anchored) {
          aliased++;
          continue;
        }
        const outside = firstChangeOutside(previous, now, ranges);
        expect(outside, `${path} batch ${batch}: changed outside the changed values\n--- before\n${previous}\n--- after\n${now}`).toBeUndefined();
        localityChecked++;
      }
      texts = latest;
    }
    expect(changes).toBe(CHANGES);
    // Anchored values may show their change where their aliases are; everything else was checked.
    expect(localityChecked).toBeGreaterThan(aliased * 4);
    // What people wrote at the top of their files outlives every change below it.
    for (const path of paths) {
      for (const comment of ['# The web front end.', '# Everything the checkout service needs', '# edited on Windows', '# its configuration', '# the main container']) {
        if ((written.get(path) as string).includes(comment)) expect(texts.get(path), `${path} keeps "${comment}"`).toContain(comment);
      }
    }
    // kubectl itself reads every file as the live object.
    const tree = exportTree(remote, join(dir, 'final'));
    // (one pretty-printed JSON object per document, each closed by a `}` at the start of a line)
    const printed = await kubectlRun('create', '--dry-run=client', '-o', 'json', '-R', '-f', join(tree, 'clusters/e2e'));
    const read = printed.split(/(?<=^\})\n(?=\{)/m).map((json) => JSON.parse(json) as KubeObject);
    expect(byKey(read)).toEqual(byKey(documents.map((d) => d.expected)));
    git(remote, 'fsck', '--strict');
    expect(errors()).toEqual([]);
    // 16-50 s on the 2-core VM, by its load: room for a busier one.
  }, 300_000);
});

describe.each(testEngines())('a person and the cluster changing the same values (engine %s)', (engine) => {
  it('a person`s commit changes values the cluster keeps changing: each live value lands in place, the person`s comments stay', async () => {
    const ns = await createTestNamespace(access, 'wins');
    const { remote, start, clone, errors } = setup('wins');
    await createObject(ns, deployment('shop-web', 3));
    await createObject(ns, configMap('tuning', { threshold: '10', mode: 'fast' }));
    await start({
      engine,
      targets: '  - { name: live, with: { provider: origin, branch: main, path: clusters/e2e } }',
      rules: `  - { target: live, scope: Namespaced, namespaces: [${ns}], ${SELECTED} }`,
    });
    const deploymentFile = `clusters/e2e/${ns}/apps/deployments/shop-web.yaml`;
    const configFile = `clusters/e2e/${ns}/configmaps/tuning.yaml`;
    expect(filesAt(remote, 'clusters/e2e')).toEqual([deploymentFile, configFile].sort());

    // The person raises replicas and the threshold in git, with comments, and pushes; nothing
    // applies the commit to the cluster.
    const person = await clone();
    const rendered = readFileSync(join(person, deploymentFile), 'utf8');
    expect(rendered).toContain('\n  replicas: 3\n');
    const personsDeployment = `# The shop's front end. Replicas: the cluster decides; this file records it.\n${rendered.replace('\n  replicas: 3\n', '\n  replicas: 5 # raised by hand for the sale\n')}`;
    writeFileSync(join(person, deploymentFile), personsDeployment);
    const renderedConfig = readFileSync(join(person, configFile), 'utf8');
    expect(renderedConfig).toContain('\n  threshold: "10"\n');
    const personsConfig = renderedConfig.replace('\n  threshold: "10"\n', '\n  # tuned by hand\n  threshold: "99" # was 10\n');
    writeFileSync(join(person, configFile), personsConfig);
    await commitAndPush(person, 'scale up for the sale');
    const show = (path: string) => () => git(remote, 'show', `main:${path}`);

    // The cluster keeps changing replicas: each value lands where the person's was, beside the comment.
    for (const replicas of [4, 6, 7]) {
      await patchObject('Deployment', ns, 'shop-web', { spec: { replicas } });
      await eventually(show(deploymentFile), personsDeployment.replace('replicas: 5 #', `replicas: ${replicas} #`), `replicas ${replicas} in the person's file`);
    }
    // Another value of the ConfigMap changes: the threshold goes back to the cluster's, in place;
    // then the cluster changes the threshold itself, twice.
    await patchObject('ConfigMap', ns, 'tuning', { data: { mode: 'slow' } });
    await eventually(show(configFile), personsConfig.replace('"99" #', '"10" #').replace('mode: fast', 'mode: slow'), 'the cluster`s threshold back in the person`s file');
    for (const threshold of ['20', '30']) {
      await patchObject('ConfigMap', ns, 'tuning', { data: { threshold } });
      await eventually(show(configFile), personsConfig.replace('"99" #', `"${threshold}" #`).replace('mode: fast', 'mode: slow'), `threshold ${threshold} in the person's file`);
    }
    // Every change after the person's commit is one commit of the sink's, on top of it.
    const subjects = git(remote, 'log', '--format=%s', 'main').trim().split('\n');
    expect(subjects.slice(0, 7)).toEqual([...Array(3).fill(`[UPDATE] v1/configmaps/${ns}/tuning`), ...Array(3).fill(`[UPDATE] apps/v1/deployments/${ns}/shop-web`), 'scale up for the sale']);
    git(remote, 'fsck', '--strict');
    expect(errors()).toEqual([]);
  });
});

describe('`kubectl kustomize` of the target folder (real API server, informer, real git server, the built kubectl)', () => {
  it('renders exactly the selected live objects after creates, updates and deletes: kustomizations created per folder, and a person`s kustomization above folders without one', async () => {
    const [a, b, c] = [await createTestNamespace(access, 'ka'), await createTestNamespace(access, 'kb'), await createTestNamespace(access, 'kc')] as [string, string, string];
    const { dir, remote, start, clone, errors } = setup('kustomize');
    // Before the runtime starts, a person writes the kustomization of one target folder: it governs
    // the namespace folders below it, which have none of their own.
    const person = await clone();
    mkdirSync(join(person, 'clusters/kept'), { recursive: true });
    writeFileSync(
      join(person, 'clusters/kept/kustomization.yaml'),
      '# Flux applies ./clusters/kept; gitops-reverser lists here what it writes below.\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []   # filled in by gitops-reverser\n',
    );
    writeFileSync(join(person, 'clusters/kept/README.md'), '# kept\n');
    await commitAndPush(person, 'a kustomization for clusters/kept');
    await createObject(a, configMap('a1', { k: '1' }));
    await createObject(a, deployment('web', 1));
    await createObject(a, service('web'));
    await createObject(c, configMap('c1', { k: '1' }));
    await createObject(c, serviceAccount('c-sa'));
    await start({
      targets: [
        '  - { name: flux, with: { provider: origin, branch: main, path: clusters/flux, kustomizations: Create, omitNamespace: true } }',
        '  - { name: kept, with: { provider: origin, branch: main, path: clusters/kept } }',
      ].join('\n'),
      rules: [`  - { target: flux, scope: Namespaced, namespaces: [${a}, ${b}], ${SELECTED} }`, `  - { target: kept, scope: Namespaced, namespaces: [${c}], ${SELECTED} }`].join('\n'),
    });
    const tree = join(dir, 'tree');
    const rendered = async (folder: string) => await kustomize(join(exportTree(remote, tree), folder));
    const renders = async () => ({ flux: await rendered('clusters/flux'), kept: await rendered('clusters/kept') });
    const lives = async () => ({ flux: await liveObjects([a, b]), kept: await liveObjects([c]) });
    await eventually(renders, await lives(), 'the seed rendered as the live objects');

    // Creates (one in a namespace folder that does not exist yet), updates and deletes.
    await createObject(b, configMap('b1', { k: '1' }));
    await createObject(b, service('web'));
    await createObject(c, configMap('c2', { k: '2' }));
    await createObject(c, deployment('c-web', 2));
    await patchObject('Deployment', a, 'web', { spec: { replicas: 3 } });
    await patchObject('ConfigMap', c, 'c1', { data: { k: 'changed' } });
    await deleteObject('ConfigMap', a, 'a1');
    await eventually(renders, await lives(), 'creates, updates and deletes rendered as the live objects');

    // Every object of one namespace deleted: its folder and kustomizations go, and it is unlisted above.
    await deleteObject('Deployment', a, 'web');
    await deleteObject('Service', a, 'web');
    await deleteObject('ConfigMap', c, 'c1');
    await deleteObject('ServiceAccount', c, 'c-sa');
    await eventually(renders, await lives(), 'a namespace emptied, rendered as the live objects');
    expect(filesAt(remote, `clusters/flux/${a}`)).toEqual([]);
    expect(filesAt(remote, 'clusters/flux').filter((path) => !path.endsWith('/kustomization.yaml') && path !== 'clusters/flux/kustomization.yaml')).toHaveLength(2);
    // The person's kustomization keeps its comments; its list is what the sink wrote below it.
    // (the two were created through different watches: either may have been listed first)
    const kept = git(remote, 'show', 'main:clusters/kept/kustomization.yaml');
    const listed = /^resources: \[(.*)\] {3}# filled in by gitops-reverser\n$/m.exec(kept)?.[1]?.split(', ');
    expect([...(listed ?? [])].sort()).toEqual([`${c}/apps/deployments/c-web.yaml`, `${c}/configmaps/c2.yaml`]);
    expect(kept).toBe(
      `# Flux applies ./clusters/kept; gitops-reverser lists here what it writes below.\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [${listed?.join(', ')}]   # filled in by gitops-reverser\n`,
    );
    expect(git(remote, 'show', 'main:clusters/kept/README.md')).toBe('# kept\n');
    git(remote, 'fsck', '--strict');
    expect(errors()).toEqual([]);
  });
});
