import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logCommits } from '../src/git-log.js';
import { tempDir } from './helpers.js';

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('the git log reader', () => {
  it('reads paths as file names, never patterns, and a message holding record separators as one commit', async () => {
    const dir = tempDir();
    git(dir, 'init', '--quiet', '--initial-branch=main');
    git(dir, 'config', 'user.name', 'Pat Person');
    git(dir, 'config', 'user.email', 'pat@example.com');
    mkdirSync(join(dir, 'team'));
    const commit = (file: string, message: string) => {
      writeFileSync(join(dir, 'team', file), `${message}\n`);
      git(dir, 'add', '-A');
      git(dir, 'commit', '--quiet', '-m', message);
    };
    commit('a[1].yaml', 'the file named with brackets');
    commit('a1.yaml', 'a file the brackets would match as a pattern');
    commit('ab.yaml', 'odd \x1e separators \x1f in a message');
    const gitdir = join(dir, '.git');

    const bracketed = await logCommits(gitdir, 'main', ['team/a[1].yaml']);
    expect(bracketed.map((c) => c.message.trim())).toEqual(['the file named with brackets']);
    expect(await logCommits(gitdir, 'main', [':(exclude)team/a1.yaml'])).toEqual([]);
    const all = await logCommits(gitdir, 'main', ['team']);
    expect(all.map((c) => [c.message.trim(), c.files.map((f) => f.path)])).toEqual([
      ['odd \x1e separators \x1f in a message', ['team/ab.yaml']],
      ['a file the brackets would match as a pattern', ['team/a1.yaml']],
      ['the file named with brackets', ['team/a[1].yaml']],
    ]);
  });
});
