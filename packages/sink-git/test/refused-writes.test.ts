import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KernelMetrics } from '@gitops-reverser/kernel';
import { GitHttpServer } from '@gitops-reverser/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { remoteSink, WRITER } from './remote-sink.js';
import { change, git, marker, testEngines, useEngine, gitAsync } from './helpers.js';

// ADR 0039: a person's file that stops one object's write (a document they broke, a folder or a file
// where the object's file must go) stops that object only. The rest of the batch is committed and
// pushed, the refused item is `rejected` with a code, the file and the fix (the kernel dead-letters
// it and the partition goes on), nothing of the person's is changed or removed, the sink is degraded
// until the object is written, and once the person fixes the file the sink asks for a fresh snapshot.
// Against a real git server, judged with the git CLI; both engines (the refusals meet replays).

let server: GitHttpServer;
beforeEach(async () => {
  server = new GitHttpServer({ credentials: WRITER });
  await server.start();
});
afterEach(async () => {
  await server.dispose();
});

const X = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: shop\ndata:\n  k: old\n';
/** A person's file whose object document has a syntax error: the object is still named in it. */
const BROKEN_X = `# x: owned by the shop team\n${X}  half: [written\n`;
/** A person's file: the object m, then a document they are still writing. */
const MULTI = `# m and a draft\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\n  namespace: shop\ndata:\n  k: old # keep me\n---\n# draft\nkind: [ConfigMap\n`;

async function metric(metrics: KernelMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const found = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (found?.values ?? []).filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + Number(v.value), 0);
}

describe.each(testEngines())('%s engine: a file that stops one object', (engine) => {
  beforeEach(() => useEngine(engine));

  function setup(targetOptions = '') {
    return remoteSink(server, { prefix: 'gr-refused-', targetOptions, engine });
  }

  async function personClone(dir: string): Promise<string> {
    const clone = join(dir, `person-${Math.random().toString(36).slice(2, 8)}`);
    await gitAsync('clone', '--quiet', server.url('state', true), clone);
    git(clone, 'config', 'user.name', 'A Person');
    git(clone, 'config', 'user.email', 'person@example.com');
    return clone;
  }

  async function push(clone: string, files: Record<string, string>, message: string): Promise<void> {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(clone, path)), { recursive: true });
      writeFileSync(join(clone, path), text);
    }
    git(clone, 'add', '-A');
    git(clone, 'commit', '--quiet', '-m', message);
    await gitAsync('-C', clone, 'push', '--quiet', 'origin', 'HEAD:main');
  }

  const show = (path: string) => git(server.repoPath('state'), 'show', `main:${path}`);
  const files = () => git(server.repoPath('state'), 'ls-tree', '-r', '--name-only', 'main').trim().split('\n').sort();

  it('the other objects of the batch are written and pushed; each refused one is rejected with its code, file and fix; the person`s files stay byte for byte', async () => {
    const { dir, sink, context, apply, logger } = setup();
    await sink.start(context);
    await apply(change('seed', { namespace: 'shop' }));
    const clone = await personClone(dir);
    await push(
      clone,
      {
        'clusters/dev/apps/x.yaml': BROKEN_X,
        'clusters/dev/apps/m.yaml': MULTI,
        // A folder where `blocked`'s file goes, and a file where the folder of namespace `other`'s ConfigMaps goes.
        'clusters/dev/shop/configmaps/blocked.yaml/README.md': 'notes, not an object\n',
        'clusters/dev/other/configmaps': 'a file a person named like a folder\n',
      },
      'a person`s files',
    );
    const before = git(server.repoPath('state'), 'rev-parse', 'main').trim();

    const outcomes = await apply(
      change('x', { namespace: 'shop', data: { k: 'new' } }),
      change('m', { namespace: 'shop', data: { k: 'new' } }),
      change('blocked', { namespace: 'shop' }),
      change('z', { namespace: 'other' }),
      change('after', { namespace: 'shop' }),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'applied', 'rejected', 'rejected', 'applied']);
    const reasons = outcomes.map((o) => ('reason' in o ? o.reason : ''));
    expect(reasons[0]).toMatch(/^GR_ERR_GIT_FILE_UNREADABLE: ConfigMap shop\/x was not written: clusters\/dev\/apps\/x.yaml holds it in a document that cannot be read/);
    expect(reasons[0]).toContain('fix: fix the YAML of that document in clusters/dev/apps/x.yaml, or remove the document (the object is then written at clusters/dev/shop/configmaps/x.yaml)');
    expect(reasons[2]).toMatch(
      /^GR_ERR_GIT_PATH_BLOCKED: ConfigMap shop\/blocked was not written: its file clusters\/dev\/shop\/configmaps\/blocked.yaml cannot be created, clusters\/dev\/shop\/configmaps\/blocked.yaml is a folder/,
    );
    expect(reasons[3]).toMatch(/^GR_ERR_GIT_PATH_BLOCKED: ConfigMap other\/z was not written: .*clusters\/dev\/other\/configmaps is a file, and the path needs a folder there/);
    expect(reasons[3]).toContain('fix: move or remove clusters/dev/other/configmaps');

    // With the git CLI: the written objects are there, the person's files are as they pushed them,
    // and no second file of x was made.
    git(server.repoPath('state'), 'fsck', '--strict');
    expect(show('clusters/dev/apps/x.yaml')).toBe(BROKEN_X);
    expect(show('clusters/dev/apps/m.yaml')).toBe(MULTI.replace('k: old # keep me', 'k: new # keep me'));
    expect(show('clusters/dev/shop/configmaps/blocked.yaml/README.md')).toBe('notes, not an object\n');
    expect(show('clusters/dev/other/configmaps')).toBe('a file a person named like a folder\n');
    expect(show('clusters/dev/shop/configmaps/after.yaml')).toContain('name: after');
    expect(files()).toEqual(
      [
        'clusters/dev/apps/m.yaml',
        'clusters/dev/apps/x.yaml',
        'clusters/dev/other/configmaps',
        'clusters/dev/shop/configmaps/after.yaml',
        'clusters/dev/shop/configmaps/blocked.yaml/README.md',
        'clusters/dev/shop/configmaps/seed.yaml',
      ].sort(),
    );
    expect(git(server.repoPath('state'), 'log', '--format=%s', `${before}..main`).trim().split('\n')).toHaveLength(2);

    // Visible: a warning per refusal with its code, a metric by code, and the sink degraded (still ready) naming them.
    const codeOf = (line: (typeof logger.lines)[number]) => String((line.fields as Record<string, unknown> | undefined)?.['code'] ?? '');
    const warned = logger.lines.filter((line) => line.level === 'warn' && codeOf(line).startsWith('GR_ERR_GIT_'));
    expect(warned.map(codeOf)).toEqual(['GR_ERR_GIT_FILE_UNREADABLE', 'GR_ERR_GIT_PATH_BLOCKED', 'GR_ERR_GIT_PATH_BLOCKED']);
    expect(await metric(context.metrics as KernelMetrics, 'gitops_reverser_git_refused_writes_total', { code: 'GR_ERR_GIT_PATH_BLOCKED' })).toBe(2);
    expect(await metric(context.metrics as KernelMetrics, 'gitops_reverser_git_refused_objects', {})).toBe(3);
    const health = sink.health();
    expect(health.state).toBe('degraded');
    expect(health.reason).toContain('3 object(s) not written because a file stops them; the first: ConfigMap shop/x, GR_ERR_GIT_FILE_UNREADABLE (clusters/dev/apps/x.yaml)');

    // A delete of the object in the broken document removes nothing of the person's.
    const deleted = await apply(change('x', { namespace: 'shop', operation: 'delete' }));
    expect(deleted[0]).toMatchObject({ status: 'rejected', reason: expect.stringContaining('GR_ERR_GIT_FILE_UNREADABLE') });
    expect(show('clusters/dev/apps/x.yaml')).toBe(BROKEN_X);
    await sink.stop();
  });

  it('once the person fixes the file, the next write asks for a fresh snapshot; it writes the object in place and the sink is ready again', async () => {
    const { dir, sink, context, apply } = setup();
    await sink.start(context);
    await apply(change('seed', { namespace: 'shop' }));
    const clone = await personClone(dir);
    await push(clone, { 'clusters/dev/apps/x.yaml': BROKEN_X }, 'x, half written');
    const refused = await apply(change('x', { namespace: 'shop', data: { k: 'new' } }));
    expect(refused[0]?.status).toBe('rejected');
    expect(context.snapshotRequests).toEqual([]);

    await gitAsync('-C', clone, 'pull', '--quiet', '--rebase');
    await push(clone, { 'clusters/dev/apps/x.yaml': BROKEN_X.replace('  half: [written\n', '  half: written\n') }, 'x, fixed');
    // Any next write of the partition finds the person's commit (its push is rejected and replayed).
    expect((await apply(change('other', { namespace: 'shop' })))[0]?.status).toBe('applied');
    expect(context.snapshotRequests).toEqual([{ targets: ['live'], reason: expect.stringContaining('clusters/dev/apps/x.yaml changed since it stopped objects') }]);
    expect(sink.health().state).toBe('degraded');

    // The snapshot the kernel has the sources write: x lands in the person's file, their comment kept.
    const seeded = await apply(change('x', { namespace: 'shop', data: { k: 'new' }, snapshotId: 's2' }), marker('s2', 1));
    expect(seeded.map((o) => o.status)).toEqual(['applied', 'applied']);
    expect(show('clusters/dev/apps/x.yaml')).toBe('# x: owned by the shop team\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: shop\ndata:\n  k: new\n');
    expect(files()).not.toContain('clusters/dev/shop/configmaps/x.yaml');
    expect(sink.health().state).toBe('ready');
    await sink.stop();
  });

  it('a snapshot (prune: Always) with a refused object: the rest is written and pruned, the refused object is not pruned, a broken document of a deleted object is kept', async () => {
    const { dir, sink, context, apply } = setup(', prune: Always');
    await sink.start(context);
    await apply(change('x', { namespace: 'shop', snapshotId: 's1' }), change('gone', { namespace: 'shop', snapshotId: 's1' }), change('old', { namespace: 'shop', snapshotId: 's1' }), marker('s1', 3));
    const clone = await personClone(dir);
    await push(
      clone,
      {
        'clusters/dev/apps/x.yaml': BROKEN_X,
        // `old` at its layout path, broken by a person: not pruned while it cannot be read.
        'clusters/dev/shop/configmaps/old.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\n  namespace: shop\ndata: {a: [\n',
      },
      'x moved and broken; old broken',
    );
    git(clone, 'rm', '--quiet', 'clusters/dev/shop/configmaps/x.yaml');
    git(clone, 'commit', '--quiet', '-m', 'x only in apps/');
    await gitAsync('-C', clone, 'push', '--quiet', 'origin', 'HEAD:main');
    const outcomes = await apply(change('x', { namespace: 'shop', data: { k: 'new' }, snapshotId: 's2' }), change('fresh', { namespace: 'shop', snapshotId: 's2' }), marker('s2', 2));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'applied', 'applied']);
    expect(files()).toEqual(['clusters/dev/apps/x.yaml', 'clusters/dev/shop/configmaps/fresh.yaml', 'clusters/dev/shop/configmaps/old.yaml']);
    expect(show('clusters/dev/apps/x.yaml')).toBe(BROKEN_X);
    await sink.stop();
  });

  it('a write that had changed files before it was refused leaves none of them changed (a Secret turning SOPS whose .sops.yaml name is a folder keeps its plain file)', async () => {
    const { dir, sink, context, apply } = setup();
    await sink.start(context);
    const secret = (data: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'shop' }, ...data });
    await apply(change('s', { namespace: 'shop', kind: 'Secret', resource: 'secrets', object: secret({ data: { a: 'YQ==' } }) }));
    const clone = await personClone(dir);
    await push(clone, { 'clusters/dev/shop/secrets/s.sops.yaml/keep': 'a folder in the way\n' }, 'folder');
    const sops = { mac: 'ENC[AES256_GCM,data:x,type:str]', age: [{ recipient: 'age1xyz', enc: '-----BEGIN AGE ENCRYPTED FILE-----\n' }], version: '3.9.0' };
    const outcomes = await apply(
      change('s', { namespace: 'shop', kind: 'Secret', resource: 'secrets', object: secret({ data: { a: 'ENC[AES256_GCM,data:y,type:str]' }, sops }) }),
      change('next', { namespace: 'shop' }),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'applied']);
    expect(show('clusters/dev/shop/secrets/s.yaml')).toContain('a: YQ==');
    expect(files()).toEqual(['clusters/dev/shop/configmaps/next.yaml', 'clusters/dev/shop/secrets/s.sops.yaml/keep', 'clusters/dev/shop/secrets/s.yaml']);
    await sink.stop();
  });
});
