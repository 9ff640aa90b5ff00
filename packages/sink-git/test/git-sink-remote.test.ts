import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { GitHttpServer } from '@gitops-reverser/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_GIT_SINK_OPTIONS, GitSink } from '../src/git-sink.js';
import { change, contextFor, git, items, log, tempDir, engineUnderTest, testEngines, useEngine } from './helpers.js';

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
const gitAsync = async (...args: string[]) => (await promisify(execFile)('git', args, { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } })).stdout;

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

    it('without a clone in cacheDir there is nothing to read: undefined, and nothing is created or fetched', async () => {
      const { dir, sink, context, apply } = setup();
      await sink.start(context);
      await apply(change('app'));
      await sink.stop();
      server.log.length = 0;
      const emptyCache = join(dir, 'other-cache');
      const replica = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, engine: engineUnderTest(), providers: context.providers, cacheDir: emptyCache, remoteTimeoutSeconds: 5 });
      await replica.start(context);
      expect(await replica.read('live', change('app').event.identity)).toBeUndefined();
      expect(existsSync(emptyCache)).toBe(false);
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

  describe('git sink: no resurrected history', () => {
    /** A restarted writer on the same clone cache, as a new process would be. */
    async function restart(context: ReturnType<typeof setup>['context'], dir: string) {
      const sink = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, engine: engineUnderTest(), providers: context.providers, cacheDir: join(dir, 'cache'), remoteTimeoutSeconds: 5 });
      await sink.start(context);
      return (...messages: Parameters<typeof items>) => sink.apply({ partition: context.partition('live'), items: items(...messages) });
    }
    const leak = 'clusters/dev/default/configmaps/leak.yaml';

    it('after the remote history was rewritten to purge a file, a restart replays nothing old: the purged file stays gone', async () => {
      const { dir, sink, context, apply, remote } = setup();
      await sink.start(context);
      await apply(change('keep'));
      await apply(change('leak', { data: { password: 'hunter2' } }));
      await apply(change('leak', { operation: 'delete' }));
      expect(git(remote, 'log', '--format=%s', 'main', '--', leak).trim().split('\n')).toHaveLength(2);
      // The purge, as a human does it: the same files, a new history without the leak.
      const clone = await foreignClone(dir);
      git(clone, 'checkout', '--quiet', '--orphan', 'purged');
      git(clone, 'commit', '--quiet', '-m', 'history rewritten: leak purged');
      await gitAsync('-C', clone, 'push', '--quiet', '--force', 'origin', 'purged:main');
      git(remote, 'reflog', 'expire', '--expire=now', '--all');
      git(remote, 'gc', '--quiet', '--prune=now');
      const next = await restart(context, dir);
      expect(await next(change('after-purge'))).toEqual([{ status: 'applied' }]);
      expect(git(remote, 'log', '--all', '--format=%s', '--', leak).trim()).toBe('');
      expect(historyContains(remote, 'hunter2')).toBe(false);
      expect(log(remote, 'main', '%s')).toEqual(['[CREATE] v1/configmaps/default/after-purge', 'history rewritten: leak purged']);
      expect(git(remote, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n').sort()).toEqual(['clusters/dev/default/configmaps/after-purge.yaml', 'clusters/dev/default/configmaps/keep.yaml']);
      git(remote, 'fsck', '--strict');
    });

    it('a repository re-created at the same URL gets the current state as one commit, not the old history', async () => {
      const { dir, sink, context, apply, remote } = setup();
      await sink.start(context);
      await apply(change('one'));
      await apply(change('two'));
      await apply(change('one', { operation: 'delete' }));
      // Someone deletes the repository and creates a new one at the same URL, with a file of their own.
      rmSync(remote, { recursive: true, force: true });
      server.createRepo('state');
      const clone = join(dir, 'other');
      await gitAsync('clone', '--quiet', server.url('state', true), clone);
      git(clone, 'config', 'user.name', 'Other');
      git(clone, 'config', 'user.email', 'other@example.com');
      writeFileSync(join(clone, 'README.md'), 'a new repository\n');
      git(clone, 'add', 'README.md');
      git(clone, 'commit', '--quiet', '-m', 'new repository');
      await gitAsync('-C', clone, 'push', '--quiet', 'origin', 'HEAD:main');
      const next = await restart(context, dir);
      expect(await next(change('three'))).toEqual([{ status: 'applied' }]);
      const subjects = log(remote, 'main', '%s');
      expect(subjects).toEqual(['[CREATE] v1/configmaps/default/three', 'reconciled 1 file(s): the remote history changed, current state written again', 'new repository']);
      expect(subjects.some((s) => s.includes('configmaps/default/one'))).toBe(false);
      expect(git(remote, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n').sort()).toEqual([
        'README.md',
        'clusters/dev/default/configmaps/three.yaml',
        'clusters/dev/default/configmaps/two.yaml',
      ]);
      git(remote, 'fsck', '--strict');
    });
  });
});
