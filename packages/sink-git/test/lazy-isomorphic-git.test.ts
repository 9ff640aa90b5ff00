import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import git from 'isomorphic-git';
import { describe, expect, it } from 'vitest';
import { initBareRepository } from '../src/git-init.js';
import { LOOSE_UNKNOWN, looseObject, looseObjectState, looseRef } from '../src/loose-reads.js';
import { encodeObject } from '../src/git-objects.js';
import { writePack } from '../src/object-files.js';
import { PackReads } from '../src/pack-reads.js';
import { git as gitCli, tempDir } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, '../dist');

/** Every file under `root` with its content, relative paths sorted: what two repositories are compared by. */
function filesOf(root: string, prefix = ''): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(join(root, prefix)).sort()) {
    const path = prefix ? `${prefix}/${name}` : name;
    if (statSync(join(root, path)).isDirectory()) {
      files[`${path}/`] = '';
      Object.assign(files, filesOf(root, path));
    } else files[path] = readFileSync(join(root, path), 'utf8');
  }
  return files;
}

/**
 * In a fresh node process (built modules from dist/): a local repository created, seeded with
 * `objects` ConfigMaps and changed once by the git sink, then (when `readTree`) a tree read back.
 * Returns how many isomorphic-git files that process loaded, and the repository's folder.
 */
function isomorphicGitFilesLoadedBy(options: { objects: number; readTree: boolean }): { files: number; repo: string } {
  const repo = join(tempDir('gr-lazy-'), 'repo');
  const script = `
    import { createRequire } from 'node:module';
    const [sinkUrl, kernelUrl, repo, objects, readTree] = JSON.parse(process.argv[1]);
    const { GitSink, DEFAULT_GIT_SINK_OPTIONS } = await import(sinkUrl);
    const { KernelMetrics, renderYaml, silentLogger } = await import(kernelUrl);
    const sink = new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, providers: [{ name: 'origin', url: repo, allowedBranches: ['main'] }] });
    const target = { name: 'live', with: { provider: 'origin', branch: 'main', path: 'clusters/test', prune: 'OnEvent' }, keyPath: 'targets[0]' };
    const partition = sink.planTargets([target]).partitions.get('live');
    await sink.start({ logger: silentLogger(), metrics: new KernelMetrics(), targets: () => [{ target, partition }] });
    const change = (i, generation, snapshotId) => {
      const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c-' + i, namespace: 'team' }, data: { generation: String(generation) } };
      const identity = { clusterId: 'test', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'team', name: 'c-' + i };
      const event = { identity, operation: 'upsert', created: false, object, resourceVersion: String(generation), observedAt: new Date().toISOString(), phase: snapshotId ? 'seed' : 'live', observedBy: 'watch', ...(snapshotId ? { snapshotId } : {}) };
      return { message: { kind: 'change', target: 'live', event, yaml: renderYaml(object) }, attempt: 1 };
    };
    const seed = Array.from({ length: objects }, (_, i) => change(i, 0, 'seed'));
    seed.push({ message: { kind: 'snapshot-end', target: 'live', snapshotId: 'seed', objectCount: objects, clusterId: 'test', completedAt: new Date().toISOString() }, attempt: 1 });
    const outcomes = [...(await sink.apply({ partition, items: seed })), ...(await sink.apply({ partition, items: [change(0, 1)] }))];
    if (!outcomes.every((outcome) => outcome.status === 'applied')) throw new Error(JSON.stringify(outcomes));
    if (readTree) {
      const { GitDirectory } = await import(new URL('./git-directory.js', sinkUrl).href);
      const directory = new GitDirectory(repo);
      directory.exists();
      const head = await directory.readBranch('main');
      await directory.readTree((await directory.readCommit(head)).tree);
    }
    await sink.stop();
    const files = Object.keys(createRequire(process.cwd() + '/').cache).filter((file) => /[\\\\/]node_modules[\\\\/]isomorphic-git[\\\\/]/.test(file));
    console.log(JSON.stringify({ files: files.length }));
  `;
  const args = [pathToFileURL(join(dist, 'git-sink.js')).href, import.meta.resolve('@gitops-reverser/kernel'), repo, options.objects, options.readTree];
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(args)], { encoding: 'utf8', cwd: here });
  expect(run.stderr).toBe('');
  return { ...(JSON.parse(run.stdout) as { files: number }), repo };
}

describe('isomorphic-git is loaded only when needed (ADR 0041)', () => {
  it('a local repository is created, seeded and changed without loading isomorphic-git; git reads it', () => {
    const { files, repo } = isomorphicGitFilesLoadedBy({ objects: 20, readTree: false });
    expect(files).toBe(0);
    gitCli(repo, 'fsck', '--strict');
    expect(gitCli(repo, 'rev-list', '--count', 'main').trim()).toBe('2');
    expect(gitCli(repo, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n')).toHaveLength(20);
    expect(gitCli(repo, 'show', 'main:clusters/test/team/configmaps/c-0.yaml')).toContain('generation: "1"');
  });

  it('a seed written as a pack (from 256 objects) and a change to a packed file do not load it either', () => {
    const { files, repo } = isomorphicGitFilesLoadedBy({ objects: 300, readTree: false });
    expect(readdirSync(join(repo, 'objects', 'pack')).filter((name) => name.endsWith('.pack'))).toHaveLength(1);
    expect(files).toBe(0);
    gitCli(repo, 'fsck', '--strict');
    expect(gitCli(repo, 'show', 'main:clusters/test/team/configmaps/c-0.yaml')).toContain('generation: "1"');
  });

  it('reading a tree does load it (the check sees it when it is there)', () => {
    expect(isomorphicGitFilesLoadedBy({ objects: 3, readTree: true }).files).toBeGreaterThan(0);
  });
});

describe('initBareRepository', () => {
  it('writes the same folders and files as isomorphic-git init, and git accepts the repository', async () => {
    const ours = tempDir('gr-init-');
    const theirs = tempDir('gr-init-');
    initBareRepository(ours, 'main');
    await git.init({ fs, gitdir: theirs, bare: true, defaultBranch: 'main' });
    expect(filesOf(ours)).toEqual(filesOf(theirs));
    expect(gitCli(ours, 'symbolic-ref', 'HEAD').trim()).toBe('refs/heads/main');
    expect(gitCli(ours, 'rev-parse', '--is-bare-repository').trim()).toBe('true');
  });

  it('leaves an existing config alone', () => {
    const gitdir = tempDir('gr-init-');
    writeFileSync(join(gitdir, 'config'), '[core]\n\tbare = true\n');
    initBareRepository(gitdir, 'main');
    expect(readFileSync(join(gitdir, 'config'), 'utf8')).toBe('[core]\n\tbare = true\n');
    expect(readdirSync(gitdir)).toEqual(['config']);
  });
});

describe('loose reads answer what isomorphic-git answers, or defer to it', () => {
  /** A repository made by the git CLI with one commit on main. */
  function repository(): { dir: string; gitdir: string; head: string } {
    const dir = tempDir('gr-loose-');
    gitCli(dir, 'init', '--quiet', '--initial-branch=main');
    writeFileSync(join(dir, 'a.txt'), 'a\n');
    gitCli(dir, 'add', 'a.txt');
    gitCli(dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'one');
    return { dir, gitdir: join(dir, '.git'), head: gitCli(dir, 'rev-parse', 'HEAD').trim() };
  }
  const resolved = async (gitdir: string, ref: string) => git.resolveRef({ fs, gitdir, ref }).catch(() => undefined);

  it('a loose branch, a missing ref and a short name, as isomorphic-git resolves them', async () => {
    const { gitdir, head } = repository();
    for (const ref of ['refs/heads/main', 'main', 'refs/heads/missing', 'missing']) {
      const ours = looseRef(gitdir, ref);
      expect(ours).not.toBe(LOOSE_UNKNOWN);
      expect(ours).toBe(await resolved(gitdir, ref));
    }
    expect(looseRef(gitdir, 'refs/heads/main')).toBe(head);
  });

  it('defers packed refs, symbolic refs and ids to isomorphic-git', () => {
    const { dir, gitdir, head } = repository();
    expect(looseRef(gitdir, 'HEAD')).toBe(LOOSE_UNKNOWN);
    expect(looseRef(gitdir, head)).toBe(LOOSE_UNKNOWN);
    gitCli(dir, 'pack-refs', '--all');
    expect(looseRef(gitdir, 'refs/heads/main')).toBe(LOOSE_UNKNOWN);
    expect(looseRef(gitdir, 'refs/heads/missing')).toBe(LOOSE_UNKNOWN);
  });

  it('a loose object exists, a missing one does not while there is no pack, and a pack is left to isomorphic-git', () => {
    const { dir, gitdir, head } = repository();
    expect(looseObjectState(gitdir, head)).toBe(true);
    expect(looseObjectState(gitdir, '4b825dc642cb6eb9a060e54bf8d69288fbee4904')).toBe(true);
    expect(looseObjectState(gitdir, '0123456789012345678901234567890123456789')).toBe(false);
    gitCli(dir, 'gc', '--quiet');
    expect(looseObjectState(gitdir, head)).toBe(LOOSE_UNKNOWN);
  });

  it('a loose blob reads as isomorphic-git reads it; another type, a damaged file or a pack is left to isomorphic-git', async () => {
    const { dir, gitdir, head } = repository();
    const blob = gitCli(dir, 'rev-parse', 'HEAD:a.txt').trim();
    const ours = looseObject(gitdir, blob, 'blob');
    expect(ours).not.toBe(LOOSE_UNKNOWN);
    expect(Buffer.from(ours as Uint8Array).toString()).toBe('a\n');
    expect(Buffer.from(ours as Uint8Array)).toEqual(Buffer.from((await git.readBlob({ fs, gitdir, oid: blob })).blob));
    expect(looseObject(gitdir, head, 'blob')).toBe(LOOSE_UNKNOWN);
    expect(looseObject(gitdir, '0123456789012345678901234567890123456789', 'blob')).toBe(LOOSE_UNKNOWN);
    // A file whose content is another object's fails isomorphic-git's id check: left to it.
    const path = join(gitdir, 'objects', blob.slice(0, 2), blob.slice(2));
    const headPath = join(gitdir, 'objects', head.slice(0, 2), head.slice(2));
    fs.chmodSync(path, 0o644);
    writeFileSync(path, readFileSync(headPath));
    expect(looseObject(gitdir, blob, 'commit')).toBe(LOOSE_UNKNOWN);
    gitCli(dir, 'checkout', '--quiet', '--', '.');
  });

  it('a packed blob is left to isomorphic-git', () => {
    const { dir, gitdir } = repository();
    const blob = gitCli(dir, 'rev-parse', 'HEAD:a.txt').trim();
    gitCli(dir, 'gc', '--quiet');
    expect(looseObject(gitdir, blob, 'blob')).toBe(LOOSE_UNKNOWN);
  });

  it('blobs stored whole in a pack read as isomorphic-git reads them; deltas and other types are left to it', async () => {
    const { dir, gitdir } = repository();
    const versions = [];
    for (let n = 0; n < 3; n++) {
      // Similar large contents: git stores all but one of them as deltas.
      writeFileSync(join(dir, 'big.txt'), `${'line of text\n'.repeat(2000)}version ${n}\n`);
      gitCli(dir, 'add', 'big.txt');
      gitCli(dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', `v${n}`);
      versions.push(gitCli(dir, 'rev-parse', 'HEAD:big.txt').trim());
    }
    const small = gitCli(dir, 'rev-parse', 'HEAD:a.txt').trim();
    const head = gitCli(dir, 'rev-parse', 'HEAD').trim();
    gitCli(dir, 'gc', '--quiet', '--aggressive');
    const packs = new PackReads(gitdir);
    let whole = 0;
    for (const oid of [small, ...versions]) {
      const ours = packs.blob(oid);
      expect(packs.has(oid)).toBe(true);
      if (ours === LOOSE_UNKNOWN) continue;
      whole += 1;
      expect(Buffer.from(ours)).toEqual(Buffer.from((await git.readBlob({ fs, gitdir, oid })).blob));
    }
    // a.txt and at least one version of big.txt are whole; at least one version is a delta.
    expect(whole).toBeGreaterThanOrEqual(2);
    expect(whole).toBeLessThan(4);
    expect(packs.blob(head)).toBe(LOOSE_UNKNOWN);
    expect(packs.has('0123456789012345678901234567890123456789')).toBe(false);
    expect(packs.blob('0123456789012345678901234567890123456789')).toBe(LOOSE_UNKNOWN);
  });

  it('every blob of a pack this sink wrote is found and read (many per fan-out bucket)', async () => {
    const gitdir = tempDir('gr-pack-');
    initBareRepository(gitdir, 'main');
    const blobs = Array.from({ length: 3000 }, (_, i) => encodeObject('blob', Buffer.from(`object ${i}\n`.repeat((i % 7) + 1))));
    await writePack(gitdir, blobs);
    const packs = new PackReads(gitdir);
    for (const blob of blobs) {
      const ours = packs.blob(blob.oid);
      expect(ours).not.toBe(LOOSE_UNKNOWN);
      expect(Buffer.from(ours as Uint8Array)).toEqual(Buffer.from(blob.content));
    }
    const sample = blobs[1234] as (typeof blobs)[number];
    expect(Buffer.from((await git.readBlob({ fs, gitdir, oid: sample.oid })).blob)).toEqual(Buffer.from(sample.content));
  });
});
