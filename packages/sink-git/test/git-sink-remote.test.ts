import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { GitHttpServer } from '@gitops-reverser/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_GIT_SINK_OPTIONS, GitSink } from '../src/index.js';
import { change, contextFor, git, items, log, tempDir } from './helpers.js';

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
  const sink = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, providers: context.providers, cacheDir: join(dir, 'cache'), remoteTimeoutSeconds: 5, pushAttempts: 5 });
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
    const options = { ...DEFAULT_GIT_SINK_OPTIONS, providers: context.providers, cacheDir: join(dir, 'cache'), remoteTimeoutSeconds: 5 };
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

  it('pushes into an empty remote repository (no branch yet)', async () => {
    const { sink, context, apply, remote } = setup();
    await sink.start(context);
    expect(git(remote, 'branch', '--list').trim()).toBe('');
    await apply(change('first'));
    expect(log(remote, 'main', '%s')).toEqual(['[CREATE] v1/configmaps/default/first']);
  });
});
