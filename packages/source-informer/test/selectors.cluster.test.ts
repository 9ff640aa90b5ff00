import { randomBytes } from 'node:crypto';
import type { Runtime } from '@gitops-reverser/kernel';
import { ApiRequestRecorder, createTestNamespace, GitHttpServer } from '@gitops-reverser/testkit';
import { parse as parseYaml } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { access, api, cluster, configMap, files, kubeconfig, mirrorSetup, type MirrorOptions, show, subjects, tempDir, until } from './e2e-helpers.js';

// Label selectors end to end: objects and namespaces relabelled while running, the repository equal
// to the selected live state after each step, and the API server asked for exactly the selection
// (every request the informer sends goes through a recorder in front of the API server).

let server: GitHttpServer;
let recorder: ApiRequestRecorder;
let recorderUrl: string;
let runtimes: Runtime[] = [];

beforeAll(async () => {
  server = new GitHttpServer({ credentials: { username: 'bot', password: 'pw' } });
  await server.start();
  recorder = new ApiRequestRecorder(cluster);
  recorderUrl = await recorder.start();
});
afterAll(async () => {
  await recorder.stop();
  await server.dispose();
});
afterEach(async () => {
  for (const runtime of runtimes) await runtime.stop('test done');
  runtimes = [];
});

/** A mirror whose informer talks to the API server through the recorder. */
function setup(rules: string, options: MirrorOptions = {}) {
  return mirrorSetup(server, rules, { kubeconfigFile: kubeconfig(tempDir(), 'admin', recorderUrl), ...options }, (runtime) => runtimes.push(runtime));
}

const label = (ns: string, name: string, labels: Record<string, string | null>) => api('PATCH', `/api/v1/namespaces/${ns}/configmaps/${name}`, { metadata: { labels } });
const labelNamespace = (ns: string, labels: Record<string, string | null>) => api('PATCH', `/api/v1/namespaces/${ns}`, { metadata: { labels } });

/** ConfigMap names per namespace that the API server says match `selector` (its own evaluation of the selector). */
async function liveSelection(namespaces: readonly string[], selector?: string): Promise<string[]> {
  const names: string[] = [];
  for (const ns of namespaces) {
    const { json } = await api('GET', `/api/v1/namespaces/${ns}/configmaps${selector ? `?labelSelector=${encodeURIComponent(selector)}` : ''}`);
    for (const item of json['items'] as { metadata: { name: string } }[]) names.push(`${ns}/${item.metadata.name}`);
  }
  return names.sort();
}

/** ConfigMap names per namespace in the repository's target folder. */
function repoSelection(repo: string, path = 'clusters/e2e'): string[] {
  return files(repo, path)
    .map((file) => /^[^/]+\/[^/]+\/([^/]+)\/configmaps\/([^/]+)\.yaml$/.exec(file))
    .flatMap((m) => (m ? [`${m[1]}/${m[2]}`] : []))
    .sort();
}

/** Waits until the repository holds exactly the live selection, each file with the live object's data. */
async function converged(repo: string, expected: () => Promise<string[]>, what: string, path = 'clusters/e2e'): Promise<void> {
  await until(async () => {
    const wanted = await expected();
    if (JSON.stringify(repoSelection(repo, path)) !== JSON.stringify(wanted)) return undefined;
    for (const entry of wanted) {
      const [ns, name] = entry.split('/') as [string, string];
      const { json } = await api('GET', `/api/v1/namespaces/${ns}/configmaps/${name}`);
      const written = parseYaml(show(repo, `${path}/${ns}/configmaps/${name}.yaml`)) as { data?: unknown };
      if (JSON.stringify(written.data) !== JSON.stringify(json['data'])) return undefined;
    }
    return true;
  }, what);
}

describe('objectSelector end to end', () => {
  it('labelled in is added, labelled out is removed, unselected changes make no commit; list and watch ask the API server for the selector', async () => {
    const ns = await createTestNamespace(access, 'osel');
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('a', { v: '1' }, { labels: { mirror: 'yes' } }));
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('b', { v: '1' }, { labels: { mirror: 'no' } }));
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('c', { v: '1' }));
    const { repo, start } = setup(`  - { target: live, namespaces: [${ns}], apiGroups: [""], resources: [configmaps], objectSelector: { matchLabels: { mirror: "yes" } } }`);
    const selected = () => liveSelection([ns], 'mirror=yes');
    await start();
    await converged(repo, selected, 'the seed');
    expect(repoSelection(repo)).toEqual([`${ns}/a`]);

    await label(ns, 'b', { mirror: 'yes' });
    await converged(repo, selected, 'b labelled in');
    expect(repoSelection(repo)).toEqual([`${ns}/a`, `${ns}/b`]);

    await label(ns, 'a', { mirror: 'no' });
    await converged(repo, selected, 'a labelled out');
    expect(repoSelection(repo)).toEqual([`${ns}/b`]);

    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('d', { v: '1' }, { labels: { mirror: 'yes' } }));
    await converged(repo, selected, 'd created selected');
    await api('DELETE', `/api/v1/namespaces/${ns}/configmaps/d`);
    await converged(repo, selected, 'd deleted');

    const commits = subjects(repo).length;
    await api('PATCH', `/api/v1/namespaces/${ns}/configmaps/c`, { data: { v: '2' } });
    await api('PATCH', `/api/v1/namespaces/${ns}/configmaps/a`, { data: { v: '2' } });
    await api('PATCH', `/api/v1/namespaces/${ns}/configmaps/b`, { data: { v: '2' } });
    await converged(repo, selected, 'b changed');
    // Only b's change made a commit; the seed was the only "reconciled" one: no reseed happened.
    expect(subjects(repo).length).toBe(commits + 1);
    expect(subjects(repo).filter((s) => s.startsWith('reconciled'))).toHaveLength(1);

    // What the API server was asked: every list and watch of this namespace's ConfigMaps carries the selector.
    const requests = recorder.to(`/api/v1/namespaces/${ns}/configmaps`);
    expect(requests.filter((r) => r.query.get('watch') === '1').length).toBeGreaterThan(0);
    expect(requests.filter((r) => r.query.get('watch') !== '1').length).toBeGreaterThan(0);
    expect(requests.map((r) => r.query.get('labelSelector'))).toEqual(requests.map(() => 'mirror=yes'));
    expect(recorder.to('/api/v1/configmaps')).toEqual([]);
    // A DELETED from a selector watch is checked with a GET (a relabel, not a delete).
    expect(recorder.requests.some((r) => r.method === 'GET' && r.path === `/api/v1/namespaces/${ns}/configmaps/a`)).toBe(true);
  });

  it('rules with different selectors on one watch: the API server is asked for everything, the kernel routes each target', async () => {
    const ns = await createTestNamespace(access, 'osel2');
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('web', { v: '1' }, { labels: { app: 'web' } }));
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('db', { v: '1' }, { labels: { app: 'db' } }));
    const { repo, start } = setup(
      `  - { target: live, namespaces: [${ns}], resources: [configmaps], objectSelector: { matchLabels: { app: web } } }
  - { target: dbs, namespaces: [${ns}], resources: [configmaps], objectSelector: { matchLabels: { app: db } } }`,
      { moreTargets: ['{ name: dbs, with: { provider: origin, branch: main, path: clusters/dbs } }'] },
    );
    await start();
    await converged(repo, () => liveSelection([ns], 'app=web'), 'web in live');
    await converged(repo, () => liveSelection([ns], 'app=db'), 'db in dbs', 'clusters/dbs');
    await label(ns, 'web', { app: 'db' });
    await converged(repo, () => liveSelection([ns], 'app=web'), 'web left live');
    await converged(repo, () => liveSelection([ns], 'app=db'), 'web joined dbs', 'clusters/dbs');
    expect(repoSelection(repo, 'clusters/dbs')).toEqual([`${ns}/db`, `${ns}/web`]);
    const requests = recorder.to(`/api/v1/namespaces/${ns}/configmaps`);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => !r.query.has('labelSelector'))).toBe(true);
  });
});

describe('namespaceSelector end to end', () => {
  it('namespaces relabelled in and out while running add and remove their objects, without a reseed; watches are per selected namespace', async () => {
    const team = `shop-${randomBytes(3).toString('hex')}`;
    const inside = await createTestNamespace(access, 'nsin');
    const outside = await createTestNamespace(access, 'nsout');
    await labelNamespace(inside, { team });
    for (const ns of [inside, outside]) {
      await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('one', { v: '1' }));
      await api('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('two', { v: '1' }));
    }
    const { repo, start } = setup(`  - { target: live, resources: [configmaps], namespaceSelector: { matchLabels: { team: ${team} } } }`);
    const selectedNamespaces = async () => {
      const { json } = await api('GET', `/api/v1/namespaces?labelSelector=${encodeURIComponent(`team=${team}`)}`);
      return (json['items'] as { metadata: { name: string } }[]).map((item) => item.metadata.name);
    };
    const selected = async () => liveSelection(await selectedNamespaces());
    await start();
    await converged(repo, selected, 'the seed');
    expect(repoSelection(repo)).toEqual([`${inside}/one`, `${inside}/two`]);

    await labelNamespace(outside, { team });
    await converged(repo, selected, 'the namespace labelled in');
    expect(repoSelection(repo)).toHaveLength(4);

    await labelNamespace(inside, { team: null });
    await converged(repo, selected, 'the namespace labelled out');
    expect(repoSelection(repo)).toEqual([`${outside}/one`, `${outside}/two`]);

    await api('POST', `/api/v1/namespaces/${outside}/configmaps`, configMap('three', { v: '1' }));
    await api('POST', `/api/v1/namespaces/${inside}/configmaps`, configMap('three', { v: '1' }));
    await converged(repo, selected, 'a new object in the selected namespace only');
    expect(repoSelection(repo)).toEqual([`${outside}/one`, `${outside}/three`, `${outside}/two`]);

    const later = await createTestNamespace(access, 'nslater');
    await labelNamespace(later, { team });
    await api('POST', `/api/v1/namespaces/${later}/configmaps`, configMap('new', { v: '1' }));
    await converged(repo, selected, 'a namespace created with the label');
    expect(subjects(repo).filter((s) => s.startsWith('reconciled'))).toHaveLength(1);

    // Watches per selected namespace, never cluster-wide.
    expect(recorder.to('/api/v1/configmaps')).toEqual([]);
    expect(recorder.to(`/api/v1/namespaces/${outside}/configmaps`, 'watch').length).toBeGreaterThan(0);
    expect(recorder.to(`/api/v1/namespaces/${later}/configmaps`, 'watch').length).toBeGreaterThan(0);
    expect(recorder.to('/api/v1/namespaces', 'watch').length).toBeGreaterThan(0);
  });
});
