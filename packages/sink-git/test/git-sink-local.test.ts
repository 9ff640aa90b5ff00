import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, beforeEach } from 'vitest';
import { memoryLogger } from '@gitops-reverser/contract/conformance';
import type { SinkChange, SinkMessage } from '@gitops-reverser/contract';
import { GitDirectory } from '../src/git-directory.js';
import { DEFAULT_GIT_SINK_OPTIONS, GitSink } from '../src/git-sink.js';
import { change, contextFor, git, items, log, marker, tempDir, engineUnderTest, testEngines, useEngine } from './helpers.js';

function setup(extra: { targets?: string; rules?: string; options?: Partial<typeof DEFAULT_GIT_SINK_OPTIONS> } = {}) {
  const dir = tempDir();
  const repo = join(dir, 'state-repo');
  const context = contextFor(
    `cluster: { id: dev }
providers: [ { name: origin, url: ./state-repo, allowedBranches: [main] } ]
targets:
  - { name: live, provider: origin, branch: main, path: clusters/dev }
${extra.targets ?? ''}
rules: [ { target: live, resources: ["*"] } ${extra.rules ?? ''} ]
`,
    dir,
  );
  const sink = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, engine: engineUnderTest(), providers: context.providers, ...extra.options });
  const partition = context.partition('live');
  const apply = (...messages: Parameters<typeof items>) => sink.apply({ partition, items: items(...messages) });
  return { dir, repo, sink, context, partition, apply, start: () => sink.start(context) };
}

describe.each(testEngines())('%s engine', (engine) => {
  beforeEach(() => useEngine(engine));

  describe('git sink on a local repository', () => {
    it('creates the repository (bare) and mirrors create, update, delete as three commits', async () => {
      const { repo, apply, start } = setup();
      await start();
      expect(await apply(change('app', { data: { color: 'blue' } }))).toEqual([{ status: 'applied' }]);
      expect(await apply(change('app', { data: { color: 'green' } }))).toEqual([{ status: 'applied' }]);
      expect(await apply(change('app', { operation: 'delete' }))).toEqual([{ status: 'applied' }]);
      expect(git(repo, 'rev-parse', '--is-bare-repository').trim()).toBe('true');
      expect(log(repo, 'main', '%s')).toEqual(['[DELETE] v1/configmaps/default/app', '[UPDATE] v1/configmaps/default/app', '[CREATE] v1/configmaps/default/app']);
      expect(git(repo, 'show', 'main~1:clusters/dev/default/configmaps/app.yaml')).toBe('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: default\ndata:\n  color: green\n');
      expect(git(repo, 'ls-tree', '-r', '--name-only', 'main').trim()).toBe('');
      git(repo, 'fsck', '--strict');
    });

    it('makes no commit when the content equals what the branch holds', async () => {
      const { repo, apply, start } = setup();
      await start();
      await apply(change('same', { data: { a: '1' } }));
      expect(await apply(change('same', { data: { a: '1' } }))).toEqual([{ status: 'unchanged' }]);
      expect(await apply(change('never-existed', { operation: 'delete' }))).toEqual([{ status: 'unchanged' }]);
      expect(log(repo)).toHaveLength(1);
    });

    it('places files by namespace, group and resource, with _cluster for cluster-scoped objects', async () => {
      const { repo, apply, start } = setup();
      await start();
      await apply(
        change('web', { group: 'apps', resource: 'deployments', kind: 'Deployment', namespace: 'shop' }),
        change('widgets.example.com', { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespace: '' }),
        change('shop', { resource: 'namespaces', kind: 'Namespace', namespace: '' }),
      );
      expect(git(repo, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n').sort()).toEqual([
        'clusters/dev/_cluster/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com.yaml',
        'clusters/dev/_cluster/namespaces/shop.yaml',
        'clusters/dev/shop/apps/deployments/web.yaml',
      ]);
      expect(log(repo, 'main', '%s')[0]).toBe('[CREATE] v1/namespaces/shop');
      expect(log(repo, 'main', '%s')).toContain('[CREATE] apps/v1/deployments/shop/web');
    });

    it('uses a per-target layout template', async () => {
      const { repo, apply, start } = setup({
        targets: '  - { name: flat, provider: origin, branch: main, path: flat, layout: "{kind}-{namespace}-{name}.yaml" }',
        rules: ', { target: flat, resources: ["*"] }',
      });
      await start();
      await apply(change('cfg', { target: 'flat' }));
      expect(git(repo, 'ls-tree', '-r', '--name-only', 'main').trim()).toBe('flat/ConfigMap-default-cfg.yaml');
    });

    it('rejects names and namespaces that would leave the target folder, and writes nothing for them', async () => {
      const { repo, apply, start } = setup();
      await start();
      const outcomes = await apply(change('..'), change('x', { namespace: '../../etc' }), change('ok'));
      expect(outcomes[0]).toMatchObject({ status: 'rejected', reason: expect.stringContaining('GR_ERR_GIT_PATH_ESCAPE') });
      expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: expect.stringContaining('namespace "../../etc" contains a path separator') });
      expect(outcomes[2]).toEqual({ status: 'applied' });
      expect(git(repo, 'ls-tree', '-r', '--name-only', 'main').trim()).toBe('clusters/dev/default/configmaps/ok.yaml');
    });

    it('refuses an unsafe layout template when planning targets', async () => {
      const traversal = setup({ targets: '  - { name: bad, provider: origin, branch: main, path: bad, layout: "../{name}.yaml" }' });
      expect(traversal.context.plan.problems).toEqual([expect.objectContaining({ target: 'bad', path: 'with.layout', code: 'GR_ERR_GIT_LAYOUT' })]);
      const unknown = setup({ targets: '  - { name: bad, provider: origin, branch: main, path: bad, layout: "{nmae}.yaml" }' });
      expect(unknown.context.plan.problems[0]?.message).toMatch(/unknown placeholder \{nmae\}/);
    });

    it('writes the actor as author, derives an email when the username is not one, and trailers', async () => {
      const { repo, apply, start } = setup();
      await start();
      await apply(change('a', { actor: { username: 'alice@example.com' }, auditId: 'audit-1', resourceVersion: '4711' }));
      await apply(change('b', { actor: { username: 'system:serviceaccount:ci:deployer' } }));
      await apply(change('c'));
      expect(log(repo, 'main', '%an|%ae|%cn|%ce')).toEqual([
        'gitops-reverser|gitops-reverser@localhost|gitops-reverser|gitops-reverser@localhost',
        'system:serviceaccount:ci:deployer|system-serviceaccount-ci-deployer@dev.cluster.local|gitops-reverser|gitops-reverser@localhost',
        'alice@example.com|alice@example.com|gitops-reverser|gitops-reverser@localhost',
      ]);
      expect(git(repo, 'log', '-1', '--format=%B', 'main~2')).toBe('[CREATE] v1/configmaps/default/a\n\nCluster: dev\nResource-Version: 4711\nAttribution: audit\nAudit-ID: audit-1\n\n');
      expect(git(repo, 'log', '-1', '--format=%(trailers:key=Attribution,valueonly)', 'main~1').trim()).toBe('watch');
      expect(git(repo, 'log', '-1', '--format=%(trailers:key=Attribution,valueonly)', 'main').trim()).toBe('none');
      expect(git(repo, 'log', '-1', '--format=%(trailers:key=Audit-ID,valueonly)', 'main~2').trim()).toBe('audit-1');
      expect(git(repo, 'log', '-1', '--format=%ad', '--date=iso-strict', 'main~2').trim()).toBe('2026-11-21T10:00:00+00:00');
    });

    it('says how each author is known: admission with its request UID, a field manager standing for automation, or none with the latest field manager', async () => {
      const { repo, apply, start } = setup();
      await start();
      await apply(change('by-admission', { actor: { username: 'jane' }, attribution: { by: 'admission', id: 'req-7' }, fieldManager: 'kubectl-edit' }));
      await apply(change('by-flux', { actor: { username: 'flux' }, attribution: { by: 'field-manager', id: 'kustomize-controller' }, fieldManager: 'kustomize-controller' }));
      await apply(change('unknown', { fieldManager: 'kubectl-client-side-apply' }));
      const trailers = (rev: string) => git(repo, 'log', '-1', '--format=%(trailers)', rev).trim();
      expect(trailers('main~2')).toBe('Cluster: dev\nResource-Version: 100\nAttribution: admission\nAdmission-UID: req-7');
      expect(trailers('main~1')).toBe('Cluster: dev\nResource-Version: 100\nAttribution: field-manager\nField-Manager: kustomize-controller');
      expect(trailers('main')).toBe('Cluster: dev\nResource-Version: 100\nAttribution: none\nField-Manager: kubectl-client-side-apply');
      // The field manager of an unattributed change is shown, never taken for the author.
      expect(log(repo, 'main', '%an')).toEqual(['gitops-reverser', 'flux', 'jane']);
    });

    it('with a commit window, groups consecutive changes of one author on one target; the last write wins', async () => {
      const { repo, apply, start } = setup({ options: { commitWindowMs: 1000 } });
      await start();
      const alice = { username: 'alice@example.com' };
      const bob = { username: 'bob' };
      await apply(change('one', { actor: alice, data: { v: '1' } }), change('two', { actor: alice }), change('one', { actor: alice, data: { v: '2' } }), change('three', { actor: bob }));
      expect(log(repo, 'main', '%s|%an')).toEqual(['[CREATE] v1/configmaps/default/three|bob', 'alice@example.com on live: 2 resource(s)|alice@example.com']);
      expect(git(repo, 'log', '-1', '--format=%b', 'main~1')).toContain('[CREATE] v1/configmaps/default/one\n[CREATE] v1/configmaps/default/two');
      expect(git(repo, 'show', 'main:clusters/dev/default/configmaps/one.yaml')).toContain('v: "2"');
    });

    it('uses configured message templates and committer', async () => {
      const { repo, apply, start } = setup({
        options: { messages: { event: '{operation} {kind} {namespace}/{name} in {cluster}', group: 'g', seed: 'seed {count}' }, committer: { name: 'Bot', email: 'bot@example.com' } },
      });
      await start();
      await apply(change('t'));
      expect(log(repo, 'main', '%s|%cn|%ce')).toEqual(['CREATE ConfigMap default/t in dev|Bot|bot@example.com']);
    });

    it('turns a snapshot into one "reconciled N resources" commit, and a restart with the same state into none', async () => {
      const { repo, apply, start } = setup();
      await start();
      const seed = (id: string) => [change('s1', { snapshotId: id }), change('s2', { snapshotId: id }), change('s3', { snapshotId: id, namespace: 'other' }), marker(id, 3)];
      const first = await apply(...seed('snap-1'));
      expect(first.every((o) => o.status === 'applied')).toBe(true);
      expect(log(repo, 'main', '%s|%an')).toEqual(['reconciled 3 resources|gitops-reverser']);
      const again = await apply(...seed('snap-2'));
      expect(again.every((o) => o.status === 'unchanged')).toBe(true);
      expect(log(repo)).toHaveLength(1);
    });

    it('prune OnEvent: a snapshot removes nothing, a live delete removes the file', async () => {
      const { repo, apply, start } = setup();
      await start();
      await apply(change('gone-while-down'), change('stays'));
      await apply(change('stays', { snapshotId: 'x' }), marker('x', 1));
      expect(git(repo, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n')).toHaveLength(2);
      await apply(change('gone-while-down', { operation: 'delete' }));
      expect(git(repo, 'ls-tree', '-r', '--name-only', 'main').trim()).toBe('clusters/dev/default/configmaps/stays.yaml');
    });

    it('prune Always: a complete snapshot removes files of objects not in it, and only .yaml files in the target', async () => {
      const { repo, apply, start } = setup({ targets: '  - { name: strict, provider: origin, branch: main, path: strict, prune: Always }', rules: ', { target: strict, resources: ["*"] }' });
      await start();
      await apply(change('old', { target: 'strict' }), change('kept', { target: 'strict' }), change('other-target'));
      // An incomplete snapshot (count mismatch) never prunes.
      await apply(change('kept', { target: 'strict', snapshotId: 'a' }), marker('a', 5, 'strict'));
      expect(git(repo, 'ls-tree', '-r', '--name-only', 'main', 'strict').trim().split('\n')).toHaveLength(2);
      // A partial snapshot (a type could not be listed) never prunes either.
      await apply(change('kept', { target: 'strict', snapshotId: 'p' }), { ...marker('p', 1, 'strict'), partial: true } as ReturnType<typeof marker>);
      expect(git(repo, 'ls-tree', '-r', '--name-only', 'main', 'strict').trim().split('\n')).toHaveLength(2);
      await apply(change('kept', { target: 'strict', snapshotId: 'b' }), marker('b', 1, 'strict'));
      expect(git(repo, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n').sort()).toEqual(['clusters/dev/default/configmaps/other-target.yaml', 'strict/default/configmaps/kept.yaml']);
      expect(log(repo, 'main', '%s')[0]).toBe('reconciled 1 resources');
    });

    it('prune Never: live deletes are not mirrored', async () => {
      const { repo, apply, start } = setup({ targets: '  - { name: keep, provider: origin, branch: main, path: keep, prune: Never }', rules: ', { target: keep, resources: ["*"] }' });
      await start();
      await apply(change('k', { target: 'keep' }));
      expect(await apply(change('k', { target: 'keep', operation: 'delete' }))).toEqual([{ status: 'unchanged' }]);
      expect(git(repo, 'ls-tree', '-r', '--name-only', 'main').trim()).toBe('keep/default/configmaps/k.yaml');
    });

    it('writes into an existing repository in place and keeps its other files', async () => {
      const dir = tempDir();
      const repo = join(dir, 'state-repo');
      const execGit = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' });
      execGit(dir, 'init', '--quiet', '--initial-branch=main', repo);
      execGit(repo, 'config', 'user.email', 'x@example.com');
      execGit(repo, 'config', 'user.name', 'x');
      writeFileSync(join(repo, 'README.md'), 'hello\n');
      execGit(repo, 'add', 'README.md');
      execGit(repo, 'commit', '--quiet', '-m', 'initial');
      const context = contextFor(
        'cluster: { id: dev }\nproviders: [ { name: origin, url: ./state-repo } ]\ntargets: [ { name: live, provider: origin, branch: main, path: clusters/dev } ]\nrules: [ { target: live, resources: ["*"] } ]\n',
        dir,
      );
      const sink = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, engine: engineUnderTest(), providers: context.providers });
      await sink.start(context);
      await sink.apply({ partition: context.partition('live'), items: items(change('in-place')) });
      expect(git(repo, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n').sort()).toEqual(['README.md', 'clusters/dev/default/configmaps/in-place.yaml']);
      expect(log(repo, 'main', '%s')).toEqual(['[CREATE] v1/configmaps/default/in-place', 'initial']);
      git(repo, 'fsck', '--strict');
      expect(existsSync(join(repo, '.git'))).toBe(true);
    });

    it('keeps targets on one branch apart: one writer, each target in its own folder', async () => {
      const { repo, apply, start } = setup({ targets: '  - { name: infra, provider: origin, branch: main, path: infra }', rules: ', { target: infra, resources: ["*"] }' });
      await start();
      await apply(change('a'), change('b', { target: 'infra' }));
      expect(git(repo, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n').sort()).toEqual(['clusters/dev/default/configmaps/a.yaml', 'infra/default/configmaps/b.yaml']);
    });

    it('refuses an ssh URL without a key and known_hosts when planning targets', async () => {
      const dir = tempDir();
      const context = contextFor(
        'cluster: { id: dev }\nproviders: [ { name: origin, url: "git@github.com:org/state.git" } ]\ntargets: [ { name: live, provider: origin, branch: main, path: x } ]\nrules: []\n',
        dir,
      );
      const plan = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, engine: engineUnderTest(), providers: context.providers }).planTargets(context.targetConfigs);
      expect(plan.partitions.size).toBe(0);
      expect(plan.problems).toEqual([
        expect.objectContaining({
          target: 'live',
          path: 'with.provider',
          code: 'GR_ERR_GIT_PROVIDER',
          message: expect.stringContaining('has no ssh: block'),
          fix: expect.stringContaining('knownHostsFile'),
        }),
      ]);
    });

    it('refuses a URL scheme no engine speaks', async () => {
      const dir = tempDir();
      const context = contextFor('providers: [ { name: origin, url: "ftp://git.example.com/state.git" } ]\ntargets: [ { name: live, provider: origin, branch: main, path: x } ]\n', dir);
      const plan = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, engine: engineUnderTest(), providers: context.providers }).planTargets(context.targetConfigs);
      expect(plan.problems).toEqual([expect.objectContaining({ code: 'GR_ERR_GIT_UNSUPPORTED_URL', message: expect.stringContaining('ftp://git.example.com/state.git') })]);
    });

    it('retries after a failed local write and reports healthy again once writing works', async () => {
      const dir = tempDir();
      const context = contextFor('cluster: { id: dev }\nproviders: [ { name: origin, url: ./repo } ]\ntargets: [ { name: live, provider: origin, branch: main, path: x } ]\nrules: []\n', dir);
      let failNext = true;
      // The real git directory on a real repository, with one write made to fail (a full disk, say).
      const sink = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, engine: engineUnderTest(), providers: context.providers }, ({ provider: { url } }) => {
        const directory = new GitDirectory(url);
        const writeObjects = directory.writeObjects.bind(directory);
        directory.writeObjects = async (objects) => {
          if (failNext) {
            failNext = false;
            throw new Error('ENOSPC: no space left on device');
          }
          return writeObjects(objects);
        };
        return { directory };
      });
      const logger = memoryLogger();
      await sink.start({ ...context, logger });
      const partitionKey = context.partition('live');
      const first = await sink.apply({ partition: partitionKey, items: items(change('a', { target: 'live' })) });
      expect(first[0]).toMatchObject({ status: 'retry', reason: expect.stringContaining('ENOSPC') });
      expect(sink.health()).toMatchObject({ state: 'degraded', reason: expect.stringContaining('ENOSPC') });
      expect(await sink.apply({ partition: partitionKey, items: items(change('a', { target: 'live' })) })).toEqual([{ status: 'applied' }]);
      expect(sink.health().state).toBe('ready');
      expect(log(join(dir, 'repo'), 'main', '%s')).toEqual(['[CREATE] v1/configmaps/default/a']);
      // One line per state change, bound to the partition once (a field), not named again in the text.
      expect(logger.lines.map((line) => [line.level, line.message])).toEqual([
        ['error', expect.stringMatching(/^git writer cannot write: .*ENOSPC/)],
        ['info', 'git writer is healthy again'],
      ]);
      for (const line of logger.lines) {
        expect(line.fields).toEqual({ partition: partitionKey.key, code: line.level === 'error' ? 'GR_ERR_GIT_REPO' : undefined, pendingCommits: 0 });
        expect(line.message).not.toContain(partitionKey.key);
      }
    });

    it('reports an unknown target as rejected instead of throwing', async () => {
      const { apply, start } = setup();
      await start();
      expect(await apply(change('x', { target: 'nope' }))).toEqual([{ status: 'rejected', reason: expect.stringContaining('target "nope" is not configured') }]);
    });

    it('refuses to git init a folder that holds files but is not a repository', async () => {
      const { dir, apply, start } = setup();
      mkdirSync(join(dir, 'state-repo'));
      writeFileSync(join(dir, 'state-repo', 'thesis.tex'), 'years of work\n');
      await start();
      const [outcome] = await apply(change('a'));
      expect(outcome).toMatchObject({ status: 'retry', reason: expect.stringContaining('is not a git repository and not empty: refusing to turn it into one') });
      expect(existsSync(join(dir, 'state-repo', 'HEAD'))).toBe(false);
      expect(readFileSync(join(dir, 'state-repo', 'thesis.tex'), 'utf8')).toBe('years of work\n');
    });

    it('a provider path that cannot be created (under /proc) is a retry naming the folder, not a hang', async () => {
      const dir = tempDir();
      const context = contextFor(
        `cluster: { id: dev }
providers: [ { name: origin, url: /proc/gr-nope/state-repo, allowedBranches: [main] } ]
targets:
  - { name: live, provider: origin, branch: main, path: clusters/dev }
rules: [ { target: live, resources: ["*"] } ]
`,
        dir,
      );
      const sink = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, engine: engineUnderTest(), providers: context.providers });
      await sink.start(context);
      try {
        const [outcome] = await sink.apply({ partition: context.partition('live'), items: items(change('a')) });
        expect(outcome).toMatchObject({ status: 'retry', reason: expect.stringContaining('cannot create /proc/gr-nope for the repository /proc/gr-nope/state-repo') });
      } finally {
        await sink.stop();
      }
    });

    it('a 253-character name gets a shortened, deterministic file name that git clone can check out', async () => {
      const { dir, repo, apply, start } = setup();
      await start();
      const name = `a${'b'.repeat(251)}c`; // 253 characters: a valid object name; as "<name>.yaml" 258 bytes, over the 255 of file systems
      expect(await apply(change(name))).toEqual([{ status: 'applied' }]);
      const [path] = git(repo, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n');
      const file = (path as string).split('/').pop() as string;
      expect(Buffer.byteLength(file)).toBeLessThanOrEqual(255);
      expect(file).toMatch(/^abbbb+~[0-9a-f]{12}\.yaml$/);
      // The same object lands in the same file: an update is an UPDATE of that file.
      await apply(change(name, { data: { key: 'changed' } }));
      expect(log(repo, 'main', '%s')[0]).toBe(`[UPDATE] v1/configmaps/default/${name}`);
      execFileSync('git', ['clone', '--quiet', repo, join(dir, 'checkout')]);
      expect(readFileSync(join(dir, 'checkout', path as string), 'utf8')).toContain(`name: ${name}`);
    });

    it('an object named ".git" is written as .git.yaml; only a path segment ".git" (any case) is refused', async () => {
      const { repo, apply, start } = setup({ targets: '  - { name: flat, provider: origin, branch: main, path: flat, layout: "{resource}/{name}" }', rules: ', { target: flat, resources: ["*"] }' });
      await start();
      const role = (target: string) => change('.git', { target, namespace: '', group: 'rbac.authorization.k8s.io', resource: 'clusterroles', kind: 'ClusterRole' });
      const outcomes = await apply(role('live'), role('flat'), change('.GIT', { target: 'flat' }));
      expect(outcomes[0]).toEqual({ status: 'applied' });
      expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: expect.stringContaining('unsafe path "clusterroles/.git"') });
      expect(outcomes[2]).toMatchObject({ status: 'rejected', reason: expect.stringContaining('unsafe path "configmaps/.GIT"') });
      expect(git(repo, 'ls-tree', '-r', '--name-only', 'main').trim()).toBe('clusters/dev/_cluster/rbac.authorization.k8s.io/clusterroles/.git.yaml');
    });

    it('a rejected object stays rejected on every seed, and does not stop prune: Always', async () => {
      const { repo, apply, start } = setup({
        targets: '  - { name: strict, provider: origin, branch: main, path: strict, prune: Always, layout: "{namespace}/{name}/object.yaml" }',
        rules: ', { target: strict, resources: ["*"] }',
      });
      await start();
      await apply(change('gone', { target: 'strict' }), change('kept', { target: 'strict' }));
      // The first seed prunes "gone"; the second changes nothing. The refusal is reported both times.
      for (const [snapshotId, written] of [
        ['s1', 'applied'],
        ['s2', 'unchanged'],
      ] as const) {
        const outcomes = await apply(change('kept', { target: 'strict', snapshotId }), change('.git', { target: 'strict', snapshotId }), marker(snapshotId, 2, 'strict'));
        expect(outcomes.map((o) => o.status)).toEqual([written, 'rejected', written]);
      }
      expect(git(repo, 'ls-tree', '-r', '--name-only', 'main', 'strict').trim().split('\n')).toEqual(['strict/default/kept/object.yaml']);
    });

    it('a name or actor with line breaks cannot forge commit trailers', async () => {
      const { repo, apply, start } = setup();
      await start();
      await apply(change('evil\nAudit-ID: forged', { actor: { username: 'mallory\nCluster: other' }, auditId: 'real-id' }));
      const message = git(repo, 'log', '-1', '--format=%B', 'main');
      expect(message.split('\n')[0]).toBe('[CREATE] v1/configmaps/default/evil\\nAudit-ID: forged');
      expect(git(repo, 'log', '-1', '--format=%(trailers:key=Audit-ID,valueonly)', 'main').trim()).toBe('real-id');
      expect(git(repo, 'log', '-1', '--format=%(trailers:key=Cluster,valueonly)', 'main').trim()).toBe('dev');
      expect(git(repo, 'log', '-1', '--format=%an', 'main').trim()).not.toContain('\n');
      git(repo, 'fsck', '--strict');
    });

    it('warns when two names differ only in case (one file on a case-insensitive checkout), and writes both', async () => {
      const { repo, context, sink } = setup({ targets: '  - { name: roles, provider: origin, branch: main, path: roles }', rules: ', { target: roles, resources: ["*"] }' });
      const logger = memoryLogger();
      await sink.start({ ...context, logger });
      const role = (name: string) => change(name, { target: 'roles', namespace: '', group: 'rbac.authorization.k8s.io', resource: 'clusterroles', kind: 'ClusterRole' });
      await sink.apply({ partition: context.partition('roles'), items: items(role('Admin'), role('admin')) });
      expect(git(repo, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n').sort()).toEqual([
        'roles/_cluster/rbac.authorization.k8s.io/clusterroles/Admin.yaml',
        'roles/_cluster/rbac.authorization.k8s.io/clusterroles/admin.yaml',
      ]);
      expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
        expect.stringContaining('admin.yaml differs from roles/_cluster/rbac.authorization.k8s.io/clusterroles/Admin.yaml only in case'),
      ]);
    });

    it('read: a sink that never wrote reads the repository as it is on disk, and opens no writer', async () => {
      const { repo, apply, start, context } = setup();
      await start();
      const identity = change('app').event.identity;
      const file = 'main:clusters/dev/default/configmaps/app.yaml';
      await apply(change('app', { data: { color: 'blue' } }));
      const other = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, engine: engineUnderTest(), providers: context.providers });
      await other.start(context);
      expect(await other.read('live', identity)).toBe(git(repo, 'show', file));
      // Another writer's commit is seen at the next read: the branch is read from disk each time.
      await apply(change('app', { data: { color: 'green' } }));
      expect(await other.read('live', identity)).toBe(git(repo, 'show', file));
      expect(await other.read('live', identity)).toContain('color: green');
      expect(await other.read('live', change('absent').event.identity)).toBeUndefined();
      expect(await other.read('no-such-target', identity)).toBeUndefined();
      expect(other.health()).toEqual({ state: 'ready', details: { partitions: 0 } });
    });

    it('read: no repository at the provider path gives undefined, and none is created', async () => {
      const { repo, sink, start } = setup();
      await start();
      expect(await sink.read('live', change('app').event.identity)).toBeUndefined();
      expect(existsSync(repo)).toBe(false);
    });

    it("read: after a write, the new content at the writer's head; an encrypted object as its .sops.yaml file", async () => {
      const { repo, sink, apply, start } = setup();
      await start();
      const identity = change('db', { resource: 'secrets', kind: 'Secret' }).event.identity;
      const secret = (data: string) =>
        change('db', {
          resource: 'secrets',
          kind: 'Secret',
          object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, data: { password: data }, sops: { mac: `ENC[${data}]`, age: [{ recipient: 'age1example' }] } },
        });
      await apply(secret('ENC[one]'));
      expect(await sink.read('live', identity)).toBe(git(repo, 'show', 'main:clusters/dev/default/secrets/db.sops.yaml'));
      await apply(secret('ENC[two]'));
      const text = await sink.read('live', identity);
      expect(text).toContain('ENC[two]');
      expect(text).toBe(git(repo, 'show', 'main:clusters/dev/default/secrets/db.sops.yaml'));
      expect(sink.health()).toEqual({ state: 'ready', details: { partitions: 1 } });
    });

    it("parses a target's options once, not per batch; a reload's new target config is parsed again", async () => {
      const { context, apply, start } = setup();
      await start();
      let reads = 0;
      const counted = (config: (typeof context.targetConfigs)[number]) => ({
        ...config,
        with: new Proxy(config.with, {
          get(target, key, receiver) {
            reads++;
            return Reflect.get(target, key, receiver);
          },
        }),
      });
      context.targetConfigs[0] = counted(context.targetConfigs[0] as (typeof context.targetConfigs)[number]);
      expect(await apply(change('a'))).toEqual([{ status: 'applied' }]);
      const once = reads;
      expect(once).toBeGreaterThan(0);
      for (const name of ['b', 'c', 'd']) expect(await apply(change(name))).toEqual([{ status: 'applied' }]);
      expect(reads).toBe(once);
      // A reload hands a new TargetConfig: its options are read (once) again.
      context.targetConfigs[0] = counted({ ...(context.targetConfigs[0] as (typeof context.targetConfigs)[number]) });
      expect(await apply(change('e'))).toEqual([{ status: 'applied' }]);
      expect(reads).toBeGreaterThan(once);
    });

    describe("SOPS file variants never touch another object's file", () => {
      const secret = (name: string, value: string, encrypted: boolean) =>
        change(name, {
          resource: 'secrets',
          kind: 'Secret',
          object: {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name, namespace: 'default' },
            data: { password: value },
            ...(encrypted ? { sops: { mac: `ENC[mac-${value}]`, age: [{ recipient: 'age1example' }] } } : {}),
          },
        });
      const folder = 'clusters/dev/default/secrets';
      const files = (repo: string, path: string) => git(repo, 'ls-tree', '-r', '--name-only', 'main', path).trim().split('\n').filter(Boolean).sort();

      it('Secret "db.sops" (plain) and Secret "db" (encrypted) each keep their own file through updates and deletes', async () => {
        const { repo, sink, apply, start } = setup();
        await start();
        expect(await apply(secret('db.sops', 'plain-1', false), secret('db', 'enc-1', true))).toEqual([{ status: 'applied' }, { status: 'applied' }]);
        // The encrypted file keeps the name sops and Flux expect; the plain one of "db.sops" uses a name no object can have.
        expect(files(repo, folder)).toEqual([`${folder}/db%2Esops.yaml`, `${folder}/db.sops.yaml`]);
        await apply(secret('db', 'enc-2', true));
        await apply(secret('db.sops', 'plain-2', false));
        expect(git(repo, 'show', `main:${folder}/db.sops.yaml`)).toContain('enc-2');
        expect(git(repo, 'show', `main:${folder}/db.sops.yaml`)).toContain('sops:');
        expect(git(repo, 'show', `main:${folder}/db%2Esops.yaml`)).toContain('plain-2');
        expect(git(repo, 'show', `main:${folder}/db%2Esops.yaml`)).not.toContain('sops:');
        // What each object reads back is its own file.
        expect(await sink.read('live', secret('db', '', true).event.identity)).toContain('enc-2');
        expect(await sink.read('live', secret('db.sops', '', false).event.identity)).toContain('plain-2');
        expect(await apply(change('db.sops', { resource: 'secrets', kind: 'Secret', operation: 'delete' }))).toEqual([{ status: 'applied' }]);
        expect(files(repo, folder)).toEqual([`${folder}/db.sops.yaml`]);
        // "db" becoming plain replaces its own encrypted file, nothing else.
        await apply(secret('db', 'plain-3', false));
        expect(files(repo, folder)).toEqual([`${folder}/db.yaml`]);
      });

      it('ConfigMaps "app.sops" and "app" each keep their own file: writing "app" deletes nothing of "app.sops"', async () => {
        const { repo, apply, start } = setup();
        await start();
        await apply(change('app.sops', { data: { k: 'of-app.sops' } }));
        await apply(change('app', { data: { k: 'one' } }));
        await apply(change('app', { data: { k: 'two' } }));
        const cms = 'clusters/dev/default/configmaps';
        expect(files(repo, cms)).toEqual([`${cms}/app%2Esops.yaml`, `${cms}/app.yaml`]);
        expect(git(repo, 'show', `main:${cms}/app%2Esops.yaml`)).toContain('of-app.sops');
        expect(log(repo, 'main', '%s')).toEqual(['[UPDATE] v1/configmaps/default/app', '[CREATE] v1/configmaps/default/app', '[CREATE] v1/configmaps/default/app.sops']);
      });
    });

    it('a superseded seed event writes nothing and keeps its file under prune: Always', async () => {
      const { repo, apply, start } = setup({ targets: '  - { name: strict, provider: origin, branch: main, path: strict, prune: Always }', rules: ', { target: strict, resources: ["*"] }' });
      await start();
      await apply(change('newer', { target: 'strict', data: { v: 'new' } }), change('gone', { target: 'strict' }));
      const stale = change('newer', { target: 'strict', snapshotId: 's', data: { v: 'old' } });
      const outcomes = await apply({ ...stale, superseded: true }, change('other', { target: 'strict', snapshotId: 's' }), marker('s', 2, 'strict'));
      expect(outcomes.map((o) => o.status)).toEqual(['applied', 'applied', 'applied']);
      expect(git(repo, 'ls-tree', '-r', '--name-only', 'main', 'strict').trim().split('\n').sort()).toEqual(['strict/default/configmaps/newer.yaml', 'strict/default/configmaps/other.yaml']);
      expect(git(repo, 'show', 'main:strict/default/configmaps/newer.yaml')).toContain('v: new');
    });

    it('deletes the file of an object whose delete names the plural resource for its kind (an audited delete answered with a Status)', async () => {
      const { repo, apply, start } = setup();
      await start();
      await apply(change('gone-by-status'), change('stays'));
      const before = git(repo, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n');
      expect(before.filter((f) => f.endsWith('/gone-by-status.yaml'))).toHaveLength(1);
      const outcomes = await apply(change('gone-by-status', { operation: 'delete', kind: 'configmaps' }));
      expect(outcomes.map((o) => o.status)).toEqual(['applied']);
      const after = git(repo, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n');
      expect(after).toEqual(before.filter((f) => !f.endsWith('/gone-by-status.yaml')));
    });

    it("keeps the files the snapshot end's newerWritten names under prune: Always, in the same batch or after (ADR 0040)", async () => {
      const { repo, apply, start } = setup({ targets: '  - { name: strict, provider: origin, branch: main, path: strict, prune: Always }', rules: ', { target: strict, resources: ["*"] }' });
      await start();
      await apply(change('written-before', { target: 'strict' }), change('gone', { target: 'strict' }));
      const newer = (name: string) => (change(name, { target: 'strict' }) as SinkChange).event.identity;
      // A live create ahead of the lagging snapshot in the same batch, and one written in the batch before.
      const outcomes = await apply(change('created-in-batch', { target: 'strict' }), change('listed', { target: 'strict', snapshotId: 'lag' }), {
        ...marker('lag', 1, 'strict'),
        newerWritten: [newer('written-before'), newer('created-in-batch')],
      } as SinkMessage);
      expect(outcomes.map((o) => o.status)).toEqual(['applied', 'applied', 'applied']);
      expect(git(repo, 'ls-tree', '-r', '--name-only', 'main', 'strict').trim().split('\n').sort()).toEqual([
        'strict/default/configmaps/created-in-batch.yaml',
        'strict/default/configmaps/listed.yaml',
        'strict/default/configmaps/written-before.yaml',
      ]);
    });
  });
});
