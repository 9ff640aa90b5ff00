import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AdapterHealth, ChangeEvent, KubeObject, Source, SourceContext } from '@gitops-reverser/contract';
import { memoryLogger } from '@gitops-reverser/contract/conformance';
import { KernelMetrics, Runtime, parseConfig } from '@gitops-reverser/kernel';
import { GitHttpServer, toolBinaries } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { git, tempDir, testEngines, useEngine } from './helpers.js';

// The credential gate's `encrypt` mode (docs/credentials.md, ADR 0022) with sanitizer-sops and this
// sink, end to end through the kernel: an object the gate encrypts is stored as `<name>.sops.yaml`
// (ADR 0016), and the file names and bytes do not churn. Repeated writes of an unchanged object make
// no commit (no re-encryption), a stable verdict keeps one name, a change of verdict moves the file in
// one commit (the old name removed with it), and a restart writes nothing, the clone kept or not.
// Real sops and age binaries (test/tools/build.sh), a real git server, judged with the git CLI.

const tools = toolBinaries();
let server: GitHttpServer;
beforeAll(async () => {
  server = new GitHttpServer({ credentials: { username: 'writer', password: 's3cret' } });
  await server.start();
});
afterAll(async () => server.stop());

/** A source the test drives: live events, or a snapshot of given objects. */
class DrivenSource implements Source {
  private context: SourceContext | undefined;
  async start(context: SourceContext): Promise<void> {
    this.context = context;
  }
  async stop(): Promise<void> {}
  health(): AdapterHealth {
    return { state: 'ready' };
  }
  async live(object: KubeObject): Promise<void> {
    await (this.context as SourceContext).emit({ ...eventOf(object), phase: 'live' });
  }
  async snapshot(objects: readonly KubeObject[]): Promise<void> {
    const snapshot = (this.context as SourceContext).beginSnapshot();
    for (const object of objects) await snapshot.emit(eventOf(object));
    await snapshot.complete();
  }
}

let resourceVersion = 100;
function eventOf(object: KubeObject): Omit<ChangeEvent, 'phase' | 'snapshotId'> {
  const name = object.metadata?.name as string;
  const version = String(resourceVersion++);
  return {
    identity: { clusterId: 'dev', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'shop', name },
    operation: 'upsert',
    created: false,
    object: { ...object, metadata: { ...object.metadata, resourceVersion: version } },
    resourceVersion: version,
    observedAt: new Date().toISOString(),
    observedBy: 'watch',
  };
}

const TOKEN = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';
const configMap = (name: string, data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'shop' }, data });

describe.each(testEngines())('%s engine: credentials encrypt mode and .sops.yaml names', (engine) => {
  beforeEach(() => useEngine(engine));

  let repoCounter = 0;
  async function runtimeFor(dir: string, repo: string, cacheDir: string, source: DrivenSource) {
    const yaml = `apiVersion: gitops-reverser/v1alpha2
shutdown: { timeoutSeconds: 10 }
normalizers: [ { use: "@gitops-reverser/sanitizer-sops", with: { identitiesFile: ./age.key } } ]
sink: { use: "@gitops-reverser/sink-git", with: { engine: ${engine}, cacheDir: ${cacheDir}, remoteTimeoutSeconds: 10, providers: [ { name: origin, url: "${server.url(repo)}", auth: { username: writer, password: s3cret } } ] } }
targets: [ { name: live, with: { provider: origin, branch: main, path: clusters/dev } } ]
credentials: { mode: encrypt }
rules: [ { target: live, namespaces: [shop], resources: [configmaps] } ]
`;
    const runtime = await Runtime.create(parseConfig(yaml, join(dir, 'config.yaml')), {
      logger: memoryLogger(),
      metrics: new KernelMetrics(),
      adapters: { sources: [{ cluster: 'dev', instance: source }] },
    });
    await runtime.start();
    return runtime;
  }

  it('an unchanged encrypted object makes no commit; a change keeps its .sops.yaml name; a new verdict moves the file in one commit; a restart writes nothing, with the clone kept or on a new node', async () => {
    const dir = tempDir('gr-encrypt-names-');
    const repo = `encrypt-${engine}-${repoCounter++}`;
    server.createRepo(repo);
    const remote = server.repoPath(repo);
    execFileSync(tools.ageKeygen, ['-o', join(dir, 'age.key')], { stdio: 'ignore' });
    const source = new DrivenSource();
    let runtime = await runtimeFor(dir, repo, join(dir, 'cache'), source);
    const head = () => git(remote, 'rev-parse', 'main').trim();
    const files = () => {
      try {
        return git(remote, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n').sort();
      } catch {
        return []; // no commit yet
      }
    };
    /** Every file the last commit touching `path` changed, with git's status letter. */
    const lastChangeOf = (path: string) => {
      const commit = git(remote, 'log', '-1', '--format=%H', 'main', '--', path).trim();
      return git(remote, 'show', '--format=', '--name-status', commit).trim().split('\n').sort();
    };
    const commitsTouching = (path: string) => git(remote, 'log', '--format=%H', 'main', '--', path).trim().split('\n').filter(Boolean).length;
    const decrypt = (path: string) => {
      const file = join(dir, `decrypt-${Math.random().toString(36).slice(2)}.sops.yaml`);
      writeFileSync(file, git(remote, 'show', `main:${path}`));
      return JSON.parse(
        execFileSync(tools.sops, ['--decrypt', '--input-type', 'yaml', '--output-type', 'json', file], { encoding: 'utf8', env: { ...process.env, SOPS_AGE_KEY_FILE: join(dir, 'age.key') } }),
      ) as KubeObject;
    };
    /** Partition order: once `name` is in git, everything emitted before it was handled. */
    let markers = 0;
    const settled = async () => {
      const name = `marker-${markers++}`;
      await source.live(configMap(name, { n: name }));
      await until(() => files().includes(`clusters/dev/shop/configmaps/${name}.yaml`), name);
    };
    const APP = 'clusters/dev/shop/configmaps/app.sops.yaml';
    const PLAIN_APP = 'clusters/dev/shop/configmaps/app.yaml';
    const LATER = 'clusters/dev/shop/configmaps/later.sops.yaml';
    const PLAIN_LATER = 'clusters/dev/shop/configmaps/later.yaml';

    try {
      await source.live(configMap('app', { API_TOKEN: TOKEN, LOG_LEVEL: 'info' }));
      await source.live(configMap('later', { LOG_LEVEL: 'info' }));
      await settled();
      expect(files()).toContain(APP);
      expect(files()).toContain(PLAIN_LATER);
      expect(files()).not.toContain(PLAIN_APP);
      expect(git(remote, 'show', `main:${APP}`)).not.toContain(TOKEN);
      expect(decrypt(APP).data).toEqual({ API_TOKEN: TOKEN, LOG_LEVEL: 'info' });
      const stored = git(remote, 'rev-parse', `main:${APP}`).trim();

      // The same object again, three times (new resourceVersions): no re-encryption, no commit of it.
      for (let i = 0; i < 3; i++) await source.live(configMap('app', { API_TOKEN: TOKEN, LOG_LEVEL: 'info' }));
      await settled();
      expect(git(remote, 'rev-parse', `main:${APP}`).trim()).toBe(stored);
      expect(commitsTouching(APP)).toBe(1);

      // A change of a value beside the credential: one commit, the same name, no plain file.
      await source.live(configMap('app', { API_TOKEN: TOKEN, LOG_LEVEL: 'debug' }));
      await settled();
      expect(commitsTouching(APP)).toBe(2);
      expect(files()).not.toContain(PLAIN_APP);
      expect(decrypt(APP).data).toEqual({ API_TOKEN: TOKEN, LOG_LEVEL: 'debug' });

      // `later` gets a credential: the gate now encrypts it. One commit adds the .sops.yaml and removes the plain file.
      await source.live(configMap('later', { LOG_LEVEL: 'info', API_TOKEN: TOKEN }));
      await settled();
      expect(lastChangeOf(LATER)).toEqual([`A\t${LATER}`, `D\t${PLAIN_LATER}`]);
      expect(files()).not.toContain(PLAIN_LATER);
      // Stable from there: the same object again makes no commit.
      await source.live(configMap('later', { LOG_LEVEL: 'info', API_TOKEN: TOKEN }));
      await settled();
      expect(commitsTouching(LATER)).toBe(1);

      // The credential removed: the verdict is "plain" again, and the file moves back in one commit.
      await source.live(configMap('later', { LOG_LEVEL: 'info' }));
      await settled();
      expect(lastChangeOf(PLAIN_LATER)).toEqual([`A\t${PLAIN_LATER}`, `D\t${LATER}`]);
      await source.live(configMap('later', { LOG_LEVEL: 'info', API_TOKEN: TOKEN }));
      await settled();
      expect(files()).toContain(LATER);
      expect(files()).not.toContain(PLAIN_LATER);

      // A restart (the clone kept) and a snapshot of the same objects: nothing to commit.
      await runtime.stop('restart');
      const before = head();
      const current = files().filter((path) => path.includes('/marker-'));
      runtime = await runtimeFor(dir, repo, join(dir, 'cache'), source);
      await source.snapshot([
        configMap('app', { API_TOKEN: TOKEN, LOG_LEVEL: 'debug' }),
        configMap('later', { LOG_LEVEL: 'info', API_TOKEN: TOKEN }),
        ...current.map((path) => {
          const name = path.slice(path.lastIndexOf('/') + 1, -'.yaml'.length);
          return configMap(name, { n: name });
        }),
      ]);
      await settled();
      const after = git(remote, 'log', '--format=%s', `${before}..main`).trim().split('\n');
      // Only the marker's own commit: the snapshot found every file as it is.
      expect(after).toHaveLength(1);
      expect(after[0]).toContain('marker-');

      // A new replica (an empty cache: the clone is made on its first write) and the same snapshot.
      await runtime.stop('moved to another node');
      const again = head();
      runtime = await runtimeFor(dir, repo, join(dir, 'cache-new-node'), source);
      await source.snapshot([configMap('app', { API_TOKEN: TOKEN, LOG_LEVEL: 'debug' }), configMap('later', { LOG_LEVEL: 'info', API_TOKEN: TOKEN })]);
      await settled();
      // Before, the first snapshot of a node without the clone re-encrypted every SOPS file ("reconciled 2 resources").
      expect(git(remote, 'log', '--format=%s', `${again}..main`).trim().split('\n')).toEqual([expect.stringContaining('marker-')]);
      expect(git(remote, 'rev-parse', `main:${APP}`).trim()).toBe(git(remote, 'rev-parse', `${again}:${APP}`).trim());
      git(remote, 'fsck', '--strict');
    } finally {
      await runtime.stop('test done');
    }
  });
});

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
