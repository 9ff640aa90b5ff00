import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GIT_SINK_OPTIONS, GitSink } from '../src/git-sink.js';
import { change, contextFor, git, items, log, tempDir } from './helpers.js';

// A deleted Secret stored encrypted has only its .sops.yaml file: the delete must remove it and commit.
describe('deleting an object stored as a SOPS file', () => {
  it('removes the .sops.yaml file in a [DELETE] commit', async () => {
    const dir = tempDir();
    const repo = join(dir, 'state-repo');
    const context = contextFor('providers: [ { name: origin, url: ./state-repo } ]\ntargets: [ { name: live, provider: origin, branch: main, path: clusters/dev } ]\n', dir);
    const sink = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, providers: context.providers });
    await sink.start(context);
    const partition = context.partition('live');
    const secret = {
      kind: 'Secret',
      resource: 'secrets',
      object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, data: { p: 'ENC[x]' }, sops: { mac: 'ENC[m]', age: [{ recipient: 'age1example' }] } },
    };
    expect(await sink.apply({ partition, items: items(change('db', secret)) })).toEqual([{ status: 'applied' }]);
    expect(git(repo, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n')).toContain('clusters/dev/default/secrets/db.sops.yaml');
    expect(await sink.apply({ partition, items: items(change('db', { kind: 'Secret', resource: 'secrets', operation: 'delete' })) })).toEqual([{ status: 'applied' }]);
    expect(git(repo, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n')).toEqual(['clusters/dev/.sops.yaml']);
    expect(log(repo, 'main', '%s')[0]).toBe('[DELETE] v1/secrets/default/db');
  });
});
