import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PlannedTarget } from '@gitops-reverser/contract';
import { GitHttpServer } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GIT_SINK_OPTIONS, GitSink } from '../src/git-sink.js';
import { parseCommitMessage } from '../src/commit-record.js';
import { GitStoredHistory } from '../src/git-stored-history.js';
import { change, contextFor, git, items, marker, tempDir } from './helpers.js';

// The stored history against repositories the sink itself wrote, moved around by a person with the git CLI.

const alice = { username: 'alice@example.com' };
const bob = { username: 'bob' };
const carol = { username: 'system:serviceaccount:ops:carol' };

function setup(targetExtra = '') {
  const dir = tempDir('gr-history-');
  const repo = join(dir, 'state-repo');
  const context = contextFor(
    `providers: [ { name: origin, url: ./state-repo } ]
targets: [ { name: live, provider: origin, branch: main, path: clusters/dev${targetExtra} } ]
`,
    dir,
  );
  const target: PlannedTarget = context.targets()[0] as PlannedTarget;
  const newSink = async () => {
    const sink = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, providers: context.providers });
    await sink.start(context);
    return sink;
  };
  const historyOf = (sink: GitSink) => new GitStoredHistory((partition) => sink.repositoryOf(partition));
  return { dir, repo, context, target, newSink, historyOf, partition: context.partition('live') };
}

/** A person's clone of a local repository: they edit with the git CLI and push. */
function personClone(dir: string, repo: string): { clone: string; commit: (message: string) => void } {
  const clone = join(dir, `person-${Math.random().toString(36).slice(2)}`);
  git(dir, 'clone', '--quiet', repo, clone);
  git(clone, 'config', 'user.name', 'Pat Person');
  git(clone, 'config', 'user.email', 'pat@example.com');
  return {
    clone,
    commit: (message) => {
      git(clone, 'add', '-A');
      git(clone, 'commit', '--quiet', '-m', message);
      git(clone, 'push', '--quiet', 'origin', 'HEAD:main');
    },
  };
}

describe('GitStoredHistory', () => {
  it('lists every change of an object with author, trailers and content, and follows it into the file a person moved it to', async () => {
    const { dir, repo, target, newSink, historyOf, partition } = setup();
    let sink = await newSink();
    const apply = (...messages: Parameters<typeof items>) => sink.apply({ partition, items: items(...messages) });
    await apply(change('app', { data: { v: '1' }, actor: alice, auditId: 'audit-1', resourceVersion: '11', observedAt: '2026-11-20T10:00:00.000Z' }));
    await apply(change('other', { data: { v: 'x' }, actor: bob, observedAt: '2026-11-20T10:30:00.000Z' }));
    await apply(change('app', { data: { v: '2' }, actor: bob, attribution: { by: 'admission', id: 'uid-2' }, resourceVersion: '12', observedAt: '2026-11-20T11:00:00.000Z' }));
    await apply(change('app', { data: { v: '3' }, actor: carol, auditId: 'audit-3', resourceVersion: '13', observedAt: '2026-11-20T12:00:00.000Z' }));
    await sink.stop();

    // A person moves the file into a folder of their own, and later the cluster changes it again.
    const person = personClone(dir, repo);
    git(person.clone, 'mv', 'clusters/dev/default/configmaps/app.yaml', 'clusters/dev/default/legacy-app.yaml');
    person.commit('move app out of the way');
    sink = await newSink();
    await apply(change('app', { data: { v: '4' }, fieldManager: 'kubectl-edit', resourceVersion: '14', observedAt: '2026-11-20T13:00:00.000Z' }));
    await sink.stop();

    const history = historyOf(sink);
    const changes = await history.history(target, { kind: 'object', object: { kind: 'ConfigMap', namespace: 'default', name: 'app' } });
    expect(changes.map((c) => [c.revision.author.name, c.revision.subject, c.path, c.previousPath ?? '', c.before !== undefined, c.after !== undefined])).toEqual([
      // The writer finds the object where the person put it and updates it there (ADR 0020).
      ['gitops-reverser', '[UPDATE] v1/configmaps/default/app', 'clusters/dev/default/legacy-app.yaml', '', true, true],
      ['Pat Person', 'move app out of the way', 'clusters/dev/default/legacy-app.yaml', 'clusters/dev/default/configmaps/app.yaml', true, true],
      ['system:serviceaccount:ops:carol', '[UPDATE] v1/configmaps/default/app', 'clusters/dev/default/configmaps/app.yaml', '', true, true],
      ['bob', '[UPDATE] v1/configmaps/default/app', 'clusters/dev/default/configmaps/app.yaml', '', true, true],
      ['alice@example.com', '[CREATE] v1/configmaps/default/app', 'clusters/dev/default/configmaps/app.yaml', '', false, true],
    ]);
    const [latest, moved, third, second, first] = changes;
    expect(first?.revision.trailers).toEqual({ Cluster: ['dev'], 'Resource-Version': ['11'], Attribution: ['audit'], 'Audit-ID': ['audit-1'] });
    expect(first?.revision.time).toBe('2026-11-20T10:00:00.000Z');
    expect(second?.revision.trailers['Admission-UID']).toEqual(['uid-2']);
    expect(third?.revision.author.email).toBe('system-serviceaccount-ops-carol@dev.cluster.local');
    expect(latest?.revision.trailers).toMatchObject({ Attribution: ['none'], 'Field-Manager': ['kubectl-edit'] });
    expect(second?.before).toContain('v: "1"');
    expect(second?.after).toContain('v: "2"');
    expect(moved?.after).toBe(moved?.before);

    // Narrowed by author and time; an unknown object has no history.
    expect((await history.history(target, { kind: 'object', object: { kind: 'ConfigMap', namespace: 'default', name: 'app' } }, { author: 'BOB' })).map((c) => c.revision.author.name)).toEqual([
      'bob',
    ]);
    const window = { since: new Date('2026-11-20T10:45:00Z'), until: new Date('2026-11-20T12:30:00Z') };
    expect((await history.history(target, { kind: 'object', object: { kind: 'ConfigMap', namespace: 'default', name: 'app' } }, window)).map((c) => c.revision.author.name)).toEqual([
      'system:serviceaccount:ops:carol',
      'bob',
    ]);
    expect(await history.history(target, { kind: 'object', object: { kind: 'ConfigMap', namespace: 'default', name: 'nope' } })).toEqual([]);
    // The moved file, named by its path, has the object's whole history too.
    expect(await history.history(target, { kind: 'path', path: 'clusters/dev/default/legacy-app.yaml' })).toHaveLength(5);
  });

  it('reads objects as they were at a commit or a time, by object, namespace, path or all, with the revision that last wrote each', async () => {
    const { repo, target, newSink, historyOf, partition } = setup();
    const sink = await newSink();
    const apply = (...messages: Parameters<typeof items>) => sink.apply({ partition, items: items(...messages) });
    await apply(
      change('team-a', { kind: 'Namespace', resource: 'namespaces', namespace: '', snapshotId: 's1' }),
      change('app', { namespace: 'team-a', data: { v: '1' }, snapshotId: 's1' }),
      change('web', { namespace: 'team-a', group: 'apps', resource: 'deployments', kind: 'Deployment', snapshotId: 's1' }),
      change('other', { namespace: 'team-b', snapshotId: 's1' }),
      marker('s1', 4),
    );
    const before = git(repo, 'rev-parse', 'main').trim();
    await apply(change('app', { namespace: 'team-a', operation: 'delete', actor: alice }));
    await apply(change('web', { namespace: 'team-a', group: 'apps', resource: 'deployments', kind: 'Deployment', operation: 'delete', actor: alice }));
    await sink.stop();
    const history = historyOf(sink);

    const at = await history.revisionAt(target, before);
    expect(at?.id).toBe(before);
    expect(at?.subject).toBe('reconciled 4 resources');
    expect(await history.revisionAt(target, 'not-a-commit')).toBeUndefined();
    expect(await history.revisionAt(target, new Date('2000-01-01T00:00:00Z'))).toBeUndefined();
    expect((await history.revisionAt(target, new Date(Date.now() + 60_000)))?.id).toBe(git(repo, 'rev-parse', 'main').trim());

    const namespace = await history.objects(target, { kind: 'namespace', namespace: 'team-a' }, { revision: before, withRevisions: true });
    expect(namespace.map((f) => f.path).sort()).toEqual(['clusters/dev/_cluster/namespaces/team-a.yaml', 'clusters/dev/team-a/apps/deployments/web.yaml', 'clusters/dev/team-a/configmaps/app.yaml']);
    expect(namespace.every((f) => f.revision?.id === before)).toBe(true);
    expect((await history.objects(target, { kind: 'namespace', namespace: 'team-a' })).map((f) => f.path)).toEqual(['clusters/dev/_cluster/namespaces/team-a.yaml']);
    expect((await history.objects(target, { kind: 'object', object: { kind: 'Deployment', namespace: 'team-a', name: 'web' } }, { revision: before }))[0]?.text).toContain('kind: Deployment');
    expect(await history.objects(target, { kind: 'object', object: { group: 'example.com', kind: 'Deployment', namespace: 'team-a', name: 'web' } }, { revision: before })).toEqual([]);
    expect((await history.objects(target, { kind: 'path', path: 'clusters/dev/team-b' }, { revision: before })).map((f) => f.path)).toEqual(['clusters/dev/team-b/configmaps/other.yaml']);
    expect(await history.objects(target, { kind: 'all' }, { revision: before })).toHaveLength(4);

    const namespaceHistory = await history.history(target, { kind: 'namespace', namespace: 'team-a' });
    expect(namespaceHistory.map((c) => `${c.revision.subject} ${c.path.split('/').pop()}`)).toEqual([
      '[DELETE] apps/v1/deployments/team-a/web web.yaml',
      '[DELETE] v1/configmaps/team-a/app app.yaml',
      'reconciled 4 resources team-a.yaml',
      'reconciled 4 resources web.yaml',
      'reconciled 4 resources app.yaml',
    ]);
  });

  it('finds an object a person moved somewhere the layout does not say, by its content', async () => {
    const { dir, repo, target, newSink, historyOf, partition } = setup();
    const sink = await newSink();
    await sink.apply({ partition, items: items(change('cm', { kind: 'Widget', group: 'example.com', resource: 'widgets', namespace: 'x' })) });
    await sink.stop();
    const person = personClone(dir, repo);
    git(person.clone, 'mv', 'clusters/dev/x/example.com/widgets/cm.yaml', 'clusters/dev/stray.yaml');
    person.commit('tidy');
    const history = historyOf(sink);
    const ref = { kind: 'Widget', namespace: 'x', name: 'cm' };
    expect((await history.objects(target, { kind: 'object', object: ref })).map((f) => f.path)).toEqual(['clusters/dev/stray.yaml']);
    expect((await history.history(target, { kind: 'object', object: ref })).map((c) => [c.path, c.previousPath])).toEqual([
      ['clusters/dev/stray.yaml', 'clusters/dev/x/example.com/widgets/cm.yaml'],
      ['clusters/dev/x/example.com/widgets/cm.yaml', undefined],
    ]);
  });

  it('a file a person wrote with two objects and no metadata.namespace (a kustomization sets it): each object has its own document, history and place', async () => {
    const { dir, repo, target, newSink, historyOf, partition } = setup(', omitNamespace: true');
    let sink = await newSink();
    await sink.apply({ partition, items: items(change('unrelated', { namespace: 'other' })) });
    await sink.stop();
    const person = personClone(dir, repo);
    const shop = join(person.clone, 'clusters/dev/apps/shop');
    mkdirSync(shop, { recursive: true });
    writeFileSync(join(shop, 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shop\nresources:\n  - configs.yaml\n');
    const one = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\ndata:\n  v: "${v}"\n`;
    const two = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\ndata:\n  v: "2"\n';
    writeFileSync(join(shop, 'configs.yaml'), `# the shop's settings\n${one('1')}---\n${two}`);
    person.commit('shop settings');
    const written = git(repo, 'rev-parse', 'main').trim();

    // A live change of one of them: the writer edits its document in place.
    sink = await newSink();
    await sink.apply({ partition, items: items(change('one', { namespace: 'shop', data: { v: '9' }, actor: alice })) });
    await sink.stop();
    expect(git(repo, 'show', 'main:clusters/dev/apps/shop/configs.yaml')).toBe(`# the shop's settings\n${one('9')}---\n${two}`);
    // A comment between the documents changes neither object.
    git(person.clone, 'pull', '--quiet');
    writeFileSync(join(shop, 'configs.yaml'), `# the shop's settings\n${one('9')}--- # and then\n${two}`);
    person.commit('comment');

    const history = historyOf(sink);
    const ref = (name: string) => ({ kind: 'ConfigMap', namespace: 'shop', name });
    const oneChanges = await history.history(target, { kind: 'object', object: ref('one') });
    expect(oneChanges.map((c) => [c.revision.subject, c.path, c.name?.namespace, c.before, c.after])).toEqual([
      ['[UPDATE] v1/configmaps/shop/one', 'clusters/dev/apps/shop/configs.yaml', 'shop', one('1'), one('9')],
      ['shop settings', 'clusters/dev/apps/shop/configs.yaml', 'shop', undefined, one('1')],
    ]);
    expect((await history.history(target, { kind: 'object', object: ref('two') })).map((c) => [c.revision.subject, c.after])).toEqual([['shop settings', two]]);
    // A namespace: both objects, each change once; the comment is no change of either.
    expect((await history.history(target, { kind: 'namespace', namespace: 'shop' })).map((c) => [c.revision.subject, c.name?.name])).toEqual([
      ['[UPDATE] v1/configmaps/shop/one', 'one'],
      ['shop settings', 'one'],
      ['shop settings', 'two'],
    ]);
    // The file: each object's changes, and the revision that changed only the file.
    const fileChanges = await history.history(target, { kind: 'path', path: 'clusters/dev/apps/shop/configs.yaml' });
    expect(fileChanges.map((c) => [c.revision.subject, c.name?.name])).toEqual([
      ['comment', undefined],
      ['[UPDATE] v1/configmaps/shop/one', 'one'],
      ['shop settings', 'one'],
      ['shop settings', 'two'],
    ]);
    expect(fileChanges[0]?.after).toContain('--- # and then');

    // One document per object, its namespace resolved, its data as stored (no metadata.namespace).
    const stored = await history.objects(target, { kind: 'namespace', namespace: 'shop' }, { withRevisions: true });
    expect(stored.map((d) => [d.path, d.document, d.name.name, d.name.namespace, d.text, d.revision?.subject])).toEqual([
      ['clusters/dev/apps/shop/configs.yaml', 0, 'one', 'shop', one('9'), 'comment'],
      ['clusters/dev/apps/shop/configs.yaml', 1, 'two', 'shop', two, 'comment'],
    ]);
    expect(stored[0]?.object).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' }, data: { v: '9' } });
    expect((await history.objects(target, { kind: 'object', object: ref('one') }, { revision: written })).map((d) => d.text)).toEqual([one('1')]);
    expect((await history.objects(target, { kind: 'all' })).map((d) => d.name.name)).toEqual(['one', 'two', 'unrelated']);
    // What a write stores, to compare with a document: this target leaves metadata.namespace out.
    expect(history.storedFormOf(target, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one', namespace: 'shop' } })).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'one' },
    });

    // A person moves one document into a file of its own: its history follows it there.
    writeFileSync(join(shop, 'configs.yaml'), `# the shop's settings\n${one('9')}`);
    writeFileSync(join(shop, 'two.yaml'), two);
    writeFileSync(join(shop, 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shop\nresources:\n  - configs.yaml\n  - two.yaml\n');
    person.commit('two on its own');
    expect((await history.history(target, { kind: 'object', object: ref('two') })).map((c) => [c.revision.subject, c.previousPath, c.path])).toEqual([
      ['two on its own', 'clusters/dev/apps/shop/configs.yaml', 'clusters/dev/apps/shop/two.yaml'],
      ['shop settings', undefined, 'clusters/dev/apps/shop/configs.yaml'],
    ]);
    expect((await history.history(target, { kind: 'object', object: ref('one') })).map((c) => c.revision.subject)).toEqual(['[UPDATE] v1/configmaps/shop/one', 'shop settings']);
  });

  it('follows an object stored encrypted (.sops.yaml), also when it was plain before', async () => {
    const { target, newSink, historyOf, partition } = setup();
    const sink = await newSink();
    const secret = (v: string, sops: boolean) => ({
      kind: 'Secret',
      resource: 'secrets',
      namespace: 'a',
      object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'a' }, data: { p: sops ? `ENC[${v}]` : v }, ...(sops ? { sops: { mac: `ENC[m${v}]` } } : {}) },
    });
    const apply = (...messages: Parameters<typeof items>) => sink.apply({ partition, items: items(...messages) });
    await apply(change('always', { ...secret('1', true), object: { ...secret('1', true).object, metadata: { name: 'always', namespace: 'a' } } }));
    await apply(change('db', secret('1', false)));
    await apply(change('db', secret('2', true)));
    await apply(change('db', secret('3', true)));
    await sink.stop();
    const history = historyOf(sink);
    expect((await history.history(target, { kind: 'object', object: { kind: 'Secret', namespace: 'a', name: 'always' } })).map((c) => c.path)).toEqual(['clusters/dev/a/secrets/always.sops.yaml']);
    expect((await history.history(target, { kind: 'object', object: { kind: 'Secret', namespace: 'a', name: 'db' } })).map((c) => [c.path, c.previousPath])).toEqual([
      ['clusters/dev/a/secrets/db.sops.yaml', undefined],
      ['clusters/dev/a/secrets/db.sops.yaml', 'clusters/dev/a/secrets/db.yaml'],
      ['clusters/dev/a/secrets/db.yaml', undefined],
    ]);
  });

  it('places a write where the writer would, SOPS objects in their .sops.yaml file', () => {
    const { target, context } = setup();
    const history = new GitStoredHistory((partition) => new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, providers: context.providers }).repositoryOf(partition));
    const identity = { clusterId: 'dev', group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespace: 'a', name: 's' };
    expect(history.pathOf(target, identity, { apiVersion: 'v1', kind: 'Secret' })).toBe('clusters/dev/a/secrets/s.yaml');
    expect(history.pathOf(target, identity, { apiVersion: 'v1', kind: 'Secret', sops: { mac: 'ENC[...]' } })).toBe('clusters/dev/a/secrets/s.sops.yaml');
    expect(history.describe(target)).toMatch(/^clusters\/dev on .*state-repo#main$/);
  });

  it('names a repository that does not exist yet; its latest state is no files', async () => {
    const { target, newSink, historyOf } = setup();
    const history = historyOf(await newSink());
    await expect(history.history(target, { kind: 'all' })).rejects.toMatchObject({ code: 'GR_ERR_GIT_NO_HISTORY' });
    await expect(history.revisionAt(target, new Date())).rejects.toMatchObject({ code: 'GR_ERR_GIT_NO_HISTORY' });
    expect(await history.objects(target, { kind: 'all' })).toEqual([]);
  });
});

const gitAsync = async (cwd: string, ...args: string[]) => (await promisify(execFile)('git', args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } })).stdout;

describe('GitStoredHistory of a remote', () => {
  let server: GitHttpServer;
  beforeAll(async () => {
    server = new GitHttpServer();
    await server.start();
  });
  afterAll(async () => server.dispose());

  it('clones on refresh, then moves the local branch forward only', async () => {
    server.createRepo('remote-history');
    const dir = tempDir('gr-history-remote-');
    const context = contextFor(
      `providers: [ { name: origin, url: "${server.url('remote-history')}" } ]
targets: [ { name: live, provider: origin, branch: main, path: clusters/dev } ]
`,
      dir,
    );
    const target = context.targets()[0] as PlannedTarget;
    const options = { ...DEFAULT_GIT_SINK_OPTIONS, providers: context.providers, cacheDir: join(dir, 'writer-cache') };
    const writer = new GitSink(options);
    await writer.start(context);
    await writer.apply({ partition: context.partition('live'), items: items(change('app', { actor: alice })) });
    await writer.stop();

    // Another machine: its own cache, nothing cloned yet.
    const reader = new GitSink({ ...options, cacheDir: join(dir, 'reader-cache') });
    const history = new GitStoredHistory((partition) => reader.repositoryOf(partition));
    await expect(history.history(target, { kind: 'all' })).rejects.toMatchObject({ code: 'GR_ERR_GIT_NO_HISTORY' });
    await history.refresh(target);
    expect((await history.history(target, { kind: 'all' })).map((c) => c.revision.author.name)).toEqual(['alice@example.com']);

    // A person pushes; without a refresh the clone does not know it, after one it does.
    const clone = join(dir, 'person');
    // Asynchronous: the git server runs in this process.
    await gitAsync(dir, 'clone', '--quiet', server.url('remote-history'), clone);
    writeFileSync(join(clone, 'clusters/dev/default/configmaps/app.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: default\ndata:\n  key: edited\n');
    git(clone, '-c', 'user.name=Pat', '-c', 'user.email=pat@example.com', 'commit', '--quiet', '-am', 'edit by hand');
    await gitAsync(clone, 'push', '--quiet', 'origin', 'HEAD:main');
    expect(await history.history(target, { kind: 'all' })).toHaveLength(1);
    await history.refresh(target);
    expect((await history.history(target, { kind: 'all' })).map((c) => c.revision.author.name)).toEqual(['Pat', 'alice@example.com']);
  });
});

describe('parseCommitMessage', () => {
  it('takes the last paragraph as trailers only when every line of it is one', () => {
    expect(parseCommitMessage('fix: typo\n')).toEqual({ subject: 'fix: typo', body: '', trailers: {} });
    expect(parseCommitMessage('[UPDATE] v1/configmaps/a/b\n\nCluster: dev\nAudit-ID: 1\nAudit-ID: 2\n')).toEqual({
      subject: '[UPDATE] v1/configmaps/a/b',
      body: '',
      trailers: { Cluster: ['dev'], 'Audit-ID': ['1', '2'] },
    });
    expect(parseCommitMessage('bob on live: 2 resource(s)\n\n[CREATE] v1/configmaps/a/b\n[DELETE] v1/configmaps/a/c\n\nCluster: dev\n').body).toBe(
      '[CREATE] v1/configmaps/a/b\n[DELETE] v1/configmaps/a/c',
    );
    expect(parseCommitMessage('subject\n\nsome words: not a trailer\nplain line\n').trailers).toEqual({});
  });
});
