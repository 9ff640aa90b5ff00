import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { GitHttpServer } from '@gitops-reverser/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_GIT_SINK_OPTIONS, GitSink } from '../src/git-sink.js';
import { memoryLogger } from '@gitops-reverser/contract/conformance';
import { change, contextFor, git, items, log, marker, tempDir, engineUnderTest, testEngines, useEngine, gitAsync } from './helpers.js';

let server: GitHttpServer;

beforeEach(async () => {
  server = new GitHttpServer({ credentials: { username: 'writer', password: 's3cret' } });
  await server.start();
});
afterEach(async () => {
  await server.dispose();
});

function setup(password = 's3cret') {
  const dir = tempDir();
  server.createRepo('state');
  process.env['TEST_GIT_PASSWORD'] = password;
  const context = contextFor(
    `cluster: { id: dev }
providers:
  - { name: origin, url: "${server.url('state')}", allowedBranches: [main], auth: { username: writer, password: "\${TEST_GIT_PASSWORD}" } }
targets: [ { name: live, provider: origin, branch: main, path: clusters/dev } ]
rules: [ { target: live, resources: ["*"] } ]
`,
    dir,
  );
  const sink = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, engine: engineUnderTest(), providers: context.providers, cacheDir: join(dir, 'cache'), remoteTimeoutSeconds: 5, pushAttempts: 5 });
  const partition = context.partition('live');
  const apply = (...messages: Parameters<typeof items>) => sink.apply({ partition, items: items(...messages) });
  return { dir, sink, context, apply, remote: server.repoPath('state') };
}

// The git server runs in this process: commands that talk to it must not block the event loop.
/** A separate clone pushing with the git CLI: "another writer". */
async function foreignClone(dir: string): Promise<string> {
  const clone = join(dir, 'foreign');
  await gitAsync('clone', '--quiet', server.url('state', true), clone);
  git(clone, 'config', 'user.name', 'Foreign Writer');
  git(clone, 'config', 'user.email', 'foreign@example.com');
  return clone;
}

async function foreignCommit(clone: string, path: string, text: string): Promise<void> {
  await gitAsync('-C', clone, 'pull', '--quiet', '--rebase');
  mkdirSync(dirname(join(clone, path)), { recursive: true });
  writeFileSync(join(clone, path), text);
  git(clone, 'add', path);
  git(clone, 'commit', '--quiet', '-m', `foreign: ${path}`);
  await gitAsync('-C', clone, 'push', '--quiet', 'origin', 'HEAD:main');
}

describe.each(testEngines())('%s engine', (engine) => {
  beforeEach(() => useEngine(engine));

  describe('git sink against a smart-HTTP server (git http-backend)', () => {
    it('pushes each commit; the server repository has them, fsck-clean', async () => {
      const { sink, context, apply, remote } = setup();
      await sink.start(context);
      expect(await apply(change('a'))).toEqual([{ status: 'applied' }]);
      expect(await apply(change('b', { actor: { username: 'alice@example.com' } }))).toEqual([{ status: 'applied' }]);
      expect(await apply(change('a', { operation: 'delete' }))).toEqual([{ status: 'applied' }]);
      expect(log(remote, 'main', '%s|%an')).toEqual([
        '[DELETE] v1/configmaps/default/a|gitops-reverser',
        '[CREATE] v1/configmaps/default/b|alice@example.com',
        '[CREATE] v1/configmaps/default/a|gitops-reverser',
      ]);
      git(remote, 'fsck', '--strict');
      expect(sink.health().state).toBe('ready');
    });

    it('rebuilds on foreign commits pushed meanwhile: nothing lost, foreign files intact, history linear', async () => {
      const { dir, sink, context, apply, remote } = setup();
      await sink.start(context);
      await apply(change('first'));
      const clone = await foreignClone(dir);
      await foreignCommit(clone, 'docs/README.md', 'hello from another writer\n');
      // Also inside our folder: the live state wins for files we write, others stay.
      await foreignCommit(clone, 'clusters/dev/default/configmaps/hand-made.yaml', 'kind: ConfigMap\n');
      expect(await apply(change('second'))).toEqual([{ status: 'applied' }]);
      await foreignCommit(clone, 'docs/CHANGELOG.md', 'v2\n');
      expect(await apply(change('first', { data: { key: 'changed' } }), change('third'))).toEqual([{ status: 'applied' }, { status: 'applied' }]);
      expect(log(remote, 'main', '%s')).toEqual([
        '[CREATE] v1/configmaps/default/third',
        '[UPDATE] v1/configmaps/default/first',
        'foreign: docs/CHANGELOG.md',
        '[CREATE] v1/configmaps/default/second',
        'foreign: clusters/dev/default/configmaps/hand-made.yaml',
        'foreign: docs/README.md',
        '[CREATE] v1/configmaps/default/first',
      ]);
      expect(git(remote, 'rev-list', '--merges', 'main').trim()).toBe('');
      expect(git(remote, 'show', 'main:docs/README.md')).toBe('hello from another writer\n');
      expect(git(remote, 'show', 'main:clusters/dev/default/configmaps/hand-made.yaml')).toBe('kind: ConfigMap\n');
      expect(git(remote, 'show', 'main:clusters/dev/default/configmaps/first.yaml')).toContain('key: changed');
      git(remote, 'fsck', '--strict');
    });

    it('survives a remote that is down: keeps the writes, reports it, and pushes when it is back', async () => {
      const { sink, context, apply, remote } = setup();
      await sink.start(context);
      await apply(change('before'));
      await server.stop();
      const down = await apply(change('during-1'));
      expect(down[0]).toMatchObject({ status: 'retry', reason: expect.stringContaining('GR_ERR_GIT_REMOTE_UNREACHABLE') });
      expect(sink.health()).toMatchObject({ state: 'degraded', reason: expect.stringContaining('GR_ERR_GIT_REMOTE_UNREACHABLE') });
      expect((await apply(change('during-2')))[0]?.status).toBe('retry');
      await server.start();
      // The bus redelivers what was not acked: the same items again, then new ones.
      expect(await apply(change('during-1'), change('during-2'))).toEqual([{ status: 'unchanged' }, { status: 'unchanged' }]);
      expect(await apply(change('after'))).toEqual([{ status: 'applied' }]);
      expect(log(remote, 'main', '%s')).toEqual([
        '[CREATE] v1/configmaps/default/after',
        '[CREATE] v1/configmaps/default/during-2',
        '[CREATE] v1/configmaps/default/during-1',
        '[CREATE] v1/configmaps/default/before',
      ]);
      expect(sink.health().state).toBe('ready');
    });

    it('names a wrong password clearly, loses nothing, and recovers when credentials are fixed', async () => {
      const { sink, context, apply, remote } = setup('wrong');
      await sink.start(context);
      const refused = await apply(change('x'));
      expect(refused[0]).toMatchObject({ status: 'retry', reason: expect.stringContaining('GR_ERR_GIT_AUTH') });
      expect(refused[0]).toMatchObject({ reason: expect.stringContaining('the remote refused the credentials') });
      expect(refused[0]).toMatchObject({ reason: expect.stringContaining('fix: check the provider auth (username/password or token) in sink.with.providers') });
      expect(sink.health().state).toBe('degraded');
      server.credentials = { username: 'writer', password: 'wrong' }; // the server now accepts what we send
      expect(await apply(change('x'))).toEqual([{ status: 'applied' }]);
      expect(log(remote, 'main', '%s')).toEqual(['[CREATE] v1/configmaps/default/x']);
    });

    it('after a crash, finds commits it had not pushed, replays them on the moved remote and pushes', async () => {
      const { dir, context, remote } = setup();
      const options = { ...DEFAULT_GIT_SINK_OPTIONS, engine: engineUnderTest(), providers: context.providers, cacheDir: join(dir, 'cache'), remoteTimeoutSeconds: 5 };
      const partitionKey = context.partition('live');
      const first = new GitSink(options);
      await first.start(context);
      await first.apply({ partition: partitionKey, items: items(change('pushed')) });
      await server.stop();
      await first.apply({ partition: partitionKey, items: items(change('unpushed-1'), change('unpushed-2')) });
      // "crash": the first sink is gone; meanwhile someone else pushed.
      await server.start();
      const clone = await foreignClone(dir);
      await foreignCommit(clone, 'notes.txt', 'n\n');
      const second = new GitSink(options);
      await second.start(context);
      expect(await second.apply({ partition: partitionKey, items: items(change('next')) })).toEqual([{ status: 'applied' }]);
      expect(log(remote, 'main', '%s')).toEqual([
        '[CREATE] v1/configmaps/default/next',
        '[CREATE] v1/configmaps/default/unpushed-2',
        '[CREATE] v1/configmaps/default/unpushed-1',
        'foreign: notes.txt',
        '[CREATE] v1/configmaps/default/pushed',
      ]);
      git(remote, 'fsck', '--strict');
    });

    // The isomorphic-git engine's own receive-pack client (ADR 0008): nodegit pushes the libgit2 way,
    // so this test exists for isomorphic-git only.
    if (engine === 'isomorphic-git')
      it('pushes a change in one request: the objects it made and the expected old head, no ref advertisement first', async () => {
        const { sink, context, apply, remote } = setup();
        await sink.start(context);
        await apply(change('first'));
        server.log.length = 0;
        for (const name of ['second', 'third']) expect(await apply(change(name))).toEqual([{ status: 'applied' }]);
        expect(server.log.map((entry) => `${entry.method} ${entry.path} ${entry.status}`)).toEqual(['POST /state.git/git-receive-pack 200', 'POST /state.git/git-receive-pack 200']);
        expect(log(remote, 'main', '%s')).toEqual(['[CREATE] v1/configmaps/default/third', '[CREATE] v1/configmaps/default/second', '[CREATE] v1/configmaps/default/first']);
        git(remote, 'fsck', '--strict');
      });

    it('pushes into an empty remote repository (no branch yet)', async () => {
      const { sink, context, apply, remote } = setup();
      await sink.start(context);
      expect(git(remote, 'branch', '--list').trim()).toBe('');
      await apply(change('first'));
      expect(log(remote, 'main', '%s')).toEqual(['[CREATE] v1/configmaps/default/first']);
    });
  });

  describe('git sink: reading what the branch holds (StoredContent), without a writer or the network', () => {
    const file = 'main:clusters/dev/default/configmaps/app.yaml';

    it('a sink that never wrote reads the clone an earlier run left in cacheDir, while the git server is down', async () => {
      const { dir, sink, context, apply, remote } = setup();
      await sink.start(context);
      await apply(change('app', { data: { color: 'blue' } }));
      await sink.stop();
      const written = git(remote, 'show', file);
      expect(written).toContain('color: blue');
      await server.stop();
      const replica = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, engine: engineUnderTest(), providers: context.providers, cacheDir: join(dir, 'cache'), remoteTimeoutSeconds: 5 });
      await replica.start(context);
      expect(await replica.read('live', change('app').event.identity)).toBe(written);
      expect(await replica.read('live', change('never-written').event.identity)).toBeUndefined();
      // No writer was opened for the read (it would have fetched, and failed with the server down).
      expect(replica.health()).toEqual({ state: 'ready', details: { partitions: 0 } });
      await replica.stop();
    });

    it('without a clone in cacheDir (a new node) the first read clones the branch once and returns the stored file; later reads send nothing (ADR 0039)', async () => {
      const { dir, sink, context, apply, remote } = setup();
      await sink.start(context);
      await apply(change('app'));
      await sink.stop();
      server.log.length = 0;
      const emptyCache = join(dir, 'other-cache');
      const replica = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, engine: engineUnderTest(), providers: context.providers, cacheDir: emptyCache, remoteTimeoutSeconds: 5 });
      await replica.start(context);
      expect(await replica.read('live', change('app').event.identity)).toBe(git(remote, 'show', file));
      expect(existsSync(emptyCache)).toBe(true);
      expect(server.log.length).toBeGreaterThan(0);
      server.log.length = 0;
      expect(await replica.read('live', change('app').event.identity)).toBe(git(remote, 'show', file));
      expect(await replica.read('live', change('never-written').event.identity)).toBeUndefined();
      expect(server.log).toEqual([]);
      await replica.stop();
    });

    it('without a clone and with the git server down, a read answers undefined, and the next reads do not try again at once', async () => {
      const { dir, sink, context, apply } = setup();
      await sink.start(context);
      await apply(change('app'));
      await sink.stop();
      await server.stop();
      const replica = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, engine: engineUnderTest(), providers: context.providers, cacheDir: join(dir, 'other-cache'), remoteTimeoutSeconds: 5 });
      await replica.start(context);
      expect(await replica.read('live', change('app').event.identity)).toBeUndefined();
      await server.start();
      server.log.length = 0;
      expect(await replica.read('live', change('app').event.identity)).toBeUndefined();
      expect(server.log).toEqual([]);
      await replica.stop();
    });

    it("after a write, read returns the new content from the writer's head", async () => {
      const { sink, context, apply, remote } = setup();
      await sink.start(context);
      const identity = change('app').event.identity;
      await apply(change('app', { data: { color: 'blue' } }));
      expect(await sink.read('live', identity)).toBe(git(remote, 'show', file));
      await apply(change('app', { data: { color: 'green' } }));
      server.log.length = 0;
      const text = await sink.read('live', identity);
      expect(text).toContain('color: green');
      expect(text).toBe(git(remote, 'show', file));
      expect(server.log).toEqual([]);
      await sink.stop();
    });
  });

  /** True when any object reachable in the repository holds `text` (every blob of every commit). */
  function historyContains(repo: string, text: string): boolean {
    const oids = git(repo, 'rev-list', '--all', '--objects')
      .trim()
      .split('\n')
      .map((line) => line.split(' ')[0] as string);
    return oids.some((oid) => git(repo, 'cat-file', '-p', oid).includes(text));
  }

  describe('git sink: history stays as the remote says (no resurrection from the cache)', () => {
    /** A restarted writer on the same clone cache, as a new process would be; its logs kept. */
    async function restart(context: ReturnType<typeof setup>['context'], dir: string) {
      const sink = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, engine: engineUnderTest(), providers: context.providers, cacheDir: join(dir, 'cache'), remoteTimeoutSeconds: 5 });
      const logger = memoryLogger();
      await sink.start({ ...context, logger });
      const apply = (...messages: Parameters<typeof items>) => sink.apply({ partition: context.partition('live'), items: items(...messages) });
      return { sink, apply, logger };
    }
    /** The kernel's answer to requestSnapshot: the source's current state of `live`, as one seed. */
    const seedOf = (id: string, ...names: string[]) => [...names.map((name) => change(name, { snapshotId: id })), marker(id, names.length)];
    const leak = 'clusters/dev/default/configmaps/leak.yaml';
    const files = (repo: string, ref = 'main') => git(repo, 'ls-tree', '-r', '--name-only', ref).trim().split('\n').filter(Boolean).sort();

    /** A purge as a human does it: every commit rewritten without `path`, force-pushed, the old objects pruned on the server. */
    async function purge(dir: string, remote: string, path: string): Promise<string> {
      const clone = await foreignClone(dir);
      await promisify(execFile)('git', ['-C', clone, 'filter-branch', '--force', '--prune-empty', '--index-filter', `git rm -q --cached --ignore-unmatch ${path}`, '--', 'main'], {
        env: { ...process.env, FILTER_BRANCH_SQUELCH_WARNING: '1' },
      });
      await gitAsync('-C', clone, 'push', '--quiet', '--force', 'origin', 'main:main');
      git(remote, 'reflog', 'expire', '--expire=now', '--all');
      git(remote, 'gc', '--quiet', '--prune=now');
      return git(remote, 'rev-parse', 'main').trim();
    }

    /** The purged file in no commit after `purged` (the rewritten head), nor anywhere in the remote's history. */
    function expectPurged(remote: string, purged: string, path: string, secret: string) {
      expect(git(remote, 'log', '--all', '--format=%H', '--', path).trim()).toBe('');
      const newer = git(remote, 'rev-list', `${purged}..main`).trim().split('\n').filter(Boolean);
      expect(newer.length).toBeGreaterThan(0);
      for (const commit of newer) expect(files(remote, commit)).not.toContain(path);
      expect(historyContains(remote, secret)).toBe(false);
    }

    it('a file purged from the remote history while stopped is not written again from the cache; the reseed makes the remote the live state', async () => {
      const { dir, sink, context, apply, remote } = setup();
      await sink.start(context);
      await apply(change('keep'));
      await apply(change('leak', { data: { password: 'hunter2' } }));
      await sink.stop();
      // While stopped: `leak` is deleted in the cluster, and its file purged from the remote history.
      const purged = await purge(dir, remote, leak);
      const next = await restart(context, dir);
      expect(await next.apply(change('after-purge'))).toEqual([{ status: 'applied' }]);
      expect(context.snapshotRequests).toEqual([{ targets: ['live'], reason: expect.stringContaining('no longer holds') }]);
      expect(files(remote)).toEqual(['clusters/dev/default/configmaps/after-purge.yaml', 'clusters/dev/default/configmaps/keep.yaml']);
      // The kernel has the source seed `live` again: its current state (no `leak`).
      expect(await next.apply(...seedOf('s1', 'keep', 'after-purge'))).toEqual([{ status: 'unchanged' }, { status: 'unchanged' }, { status: 'unchanged' }]);
      expect(files(remote)).toEqual(['clusters/dev/default/configmaps/after-purge.yaml', 'clusters/dev/default/configmaps/keep.yaml']);
      expectPurged(remote, purged, leak, 'hunter2');
      expect(log(remote, 'main', '%s')[0]).toBe('[CREATE] v1/configmaps/default/after-purge');
      git(remote, 'fsck', '--strict');
      await next.sink.stop();
    });

    it('after a purge, a restart whose first batch is the seed writes that seed on the rewritten head and asks for nothing more', async () => {
      const { dir, sink, context, apply, remote } = setup();
      await sink.start(context);
      await apply(change('keep'), change('leak', { data: { password: 'hunter2' } }));
      await sink.stop();
      const purged = await purge(dir, remote, leak);
      const next = await restart(context, dir);
      expect(await next.apply(...seedOf('s1', 'keep', 'new'))).toEqual([{ status: 'applied' }, { status: 'applied' }, { status: 'applied' }]);
      expect(context.snapshotRequests).toEqual([]);
      expect(log(remote, 'main', '%s')[0]).toBe('reconciled 2 resources');
      expect(files(remote)).toEqual(['clusters/dev/default/configmaps/keep.yaml', 'clusters/dev/default/configmaps/new.yaml']);
      expectPurged(remote, purged, leak, 'hunter2');
      await next.sink.stop();
    });

    it('a repository re-created empty at the same URL gets only what the sources seed, never the cache; unpushed commits of the old one are dropped with a warning', async () => {
      const { dir, sink, context, apply, remote } = setup();
      await sink.start(context);
      await apply(change('one'));
      await apply(change('two'));
      await server.stop();
      // Not pushed (the server is down), then the process ends.
      expect((await apply(change('unpushed', { data: { secret: 'from-the-old-repository' } })))[0]?.status).toBe('retry');
      await sink.stop();
      await server.start();
      // Someone deletes the repository and creates a new, empty one at the same URL.
      rmSync(remote, { recursive: true, force: true });
      server.createRepo('state');
      const next = await restart(context, dir);
      expect(await next.apply(change('three'))).toEqual([{ status: 'applied' }]);
      expect(log(remote, 'main', '%s')).toEqual(['[CREATE] v1/configmaps/default/three']);
      expect(context.snapshotRequests).toEqual([{ targets: ['live'], reason: expect.stringContaining('has no branch main') }]);
      expect(next.logger.lines.find((line) => line.level === 'warn' && line.message.includes('1 unpushed commit(s)'))).toBeDefined();
      // The current selection is `two` and `three` (`one` and `unpushed` were deleted meanwhile).
      expect((await next.apply(...seedOf('s1', 'two', 'three')))[0]).toEqual({ status: 'applied' });
      expect(log(remote, 'main', '%s')).toEqual(['reconciled 2 resources', '[CREATE] v1/configmaps/default/three']);
      expect(files(remote)).toEqual(['clusters/dev/default/configmaps/three.yaml', 'clusters/dev/default/configmaps/two.yaml']);
      expect(historyContains(remote, 'from-the-old-repository')).toBe(false);
      git(remote, 'fsck', '--strict');
      await next.sink.stop();
    });

    it('a remote branch deleted while running: the next change starts it again, the reseed brings back every live object, no old commit returns', async () => {
      const { sink, context, apply, remote } = setup();
      await sink.start(context);
      for (const name of ['a', 'b', 'c']) await apply(change(name));
      const old = git(remote, 'rev-list', 'main').trim().split('\n');
      git(remote, 'update-ref', '-d', 'refs/heads/main');
      expect(await apply(change('d'))).toEqual([{ status: 'applied' }]);
      expect(log(remote, 'main', '%s')).toEqual(['[CREATE] v1/configmaps/default/d']);
      expect(context.snapshotRequests).toEqual([{ targets: ['live'], reason: expect.stringContaining('has no branch main') }]);
      expect((await apply(...seedOf('s1', 'a', 'b', 'c', 'd')))[0]).toEqual({ status: 'applied' });
      expect(log(remote, 'main', '%s')).toEqual(['reconciled 4 resources', '[CREATE] v1/configmaps/default/d']);
      expect(files(remote)).toEqual(['a', 'b', 'c', 'd'].map((name) => `clusters/dev/default/configmaps/${name}.yaml`));
      const now = git(remote, 'rev-list', 'main').trim().split('\n');
      expect(now.filter((commit) => old.includes(commit))).toEqual([]);
      git(remote, 'fsck', '--strict');
      await sink.stop();
    });

    it('history rewritten while running: the next change lands on the rewritten head, the purged file does not come back, the sources are asked to reseed', async () => {
      const { dir, sink, context, apply, remote } = setup();
      await sink.start(context);
      await apply(change('keep'));
      await apply(change('leak', { data: { password: 'hunter2' } }));
      await apply(change('leak', { operation: 'delete' }));
      const purged = await purge(dir, remote, leak);
      expect(await apply(change('after-purge'))).toEqual([{ status: 'applied' }]);
      expect(context.snapshotRequests).toEqual([{ targets: ['live'], reason: expect.stringContaining('no longer holds') }]);
      expectPurged(remote, purged, leak, 'hunter2');
      expect(files(remote)).toEqual(['clusters/dev/default/configmaps/after-purge.yaml', 'clusters/dev/default/configmaps/keep.yaml']);
      git(remote, 'fsck', '--strict');
      await sink.stop();
    });
  });
});
