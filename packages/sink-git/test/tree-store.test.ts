import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitDirectory } from '../src/git-directory.js';
import { encodeObject, serializeCommit } from '../src/git-objects.js';
import { TreeStore } from '../src/tree-store.js';
import { git, tempDir } from './helpers.js';

async function setup() {
  const gitdir = join(tempDir(), 'repo.git');
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', gitdir]);
  const directory = new GitDirectory(gitdir);
  await directory.open({ initialBranch: 'main' });
  const trees = new TreeStore(directory);
  const blob = async (text: string) => {
    const object = encodeObject('blob', Buffer.from(text));
    await directory.writeObjects([object]);
    return object.oid;
  };
  /** Applies changes, stores the trees and points main at a commit of the result. */
  const commit = async (root: string | undefined, changes: Map<string, string | null>) => {
    const result = await trees.apply(root, changes);
    const commitObject = encodeObject(
      'commit',
      serializeCommit({ tree: result.root, parents: [], author: { name: 'a', email: 'a@b.c', timestamp: 1 }, committer: { name: 'a', email: 'a@b.c', timestamp: 1 }, message: 'm' }),
    );
    await directory.writeObjects([...result.objects, commitObject]);
    await directory.writeBranch('main', commitObject.oid);
    return result.root;
  };
  return { gitdir, trees, blob, commit };
}

describe('TreeStore', () => {
  it('writes nested changes, keeps untouched subtrees, and git agrees', async () => {
    const { gitdir, blob, commit } = await setup();
    const one = await commit(
      undefined,
      new Map([
        ['x/a.yaml', await blob('a')],
        ['x/b.yaml', await blob('b')],
        ['y/c.yaml', await blob('c')],
      ]),
    );
    const yTree = git(gitdir, 'rev-parse', 'main:y').trim();
    await commit(
      one,
      new Map([
        ['x/a.yaml', await blob('a2')],
        ['x/b.yaml', null],
        ['x/d/e.yaml', await blob('e')],
      ]),
    );
    expect(git(gitdir, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n')).toEqual(['x/a.yaml', 'x/d/e.yaml', 'y/c.yaml']);
    expect(git(gitdir, 'rev-parse', 'main:y').trim()).toBe(yTree);
    expect(git(gitdir, 'show', 'main:x/a.yaml')).toBe('a2');
    git(gitdir, 'fsck', '--strict');
  });

  it('replaces a file by a folder of the same name and back, and removes emptied folders', async () => {
    const { gitdir, blob, commit } = await setup();
    const root = await commit(
      undefined,
      new Map([
        ['a', await blob('file')],
        ['a-b', await blob('x')],
        ['a.b', await blob('y')],
      ]),
    );
    const withFolder = await commit(root, new Map([['a/inner.yaml', await blob('in')]]));
    expect(git(gitdir, 'ls-tree', '--name-only', 'main').trim().split('\n')).toEqual(['a-b', 'a.b', 'a']);
    const emptied = await commit(withFolder, new Map([['a/inner.yaml', null]]));
    expect(git(gitdir, 'ls-tree', '--name-only', 'main').trim().split('\n')).toEqual(['a-b', 'a.b']);
    await commit(
      emptied,
      new Map([
        ['a-b', null],
        ['a.b', null],
      ]),
    );
    expect(git(gitdir, 'ls-tree', '--name-only', 'main').trim()).toBe('');
    git(gitdir, 'fsck', '--strict');
  });

  it('lists files under a folder and diffs two trees', async () => {
    const { trees, blob, commit } = await setup();
    const before = await commit(
      undefined,
      new Map([
        ['t/a.yaml', await blob('1')],
        ['t/sub/b.yaml', await blob('2')],
        ['u/c.yaml', await blob('3')],
      ]),
    );
    expect(await trees.listFiles(before, 't')).toEqual(['t/a.yaml', 't/sub/b.yaml']);
    expect(await trees.listFiles(before, 'missing')).toEqual([]);
    const changed = await blob('1b');
    const after = await commit(
      before,
      new Map([
        ['t/a.yaml', changed],
        ['t/sub/b.yaml', null],
      ]),
    );
    expect(await trees.diff(before, after)).toEqual(
      new Map([
        ['t/a.yaml', changed],
        ['t/sub/b.yaml', null],
      ]),
    );
  });
});
