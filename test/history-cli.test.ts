import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../packages/kernel/src/cli/run-cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The history, diff and restore commands wired into the CLI, on a repository made with the git CLI the
// way the git sink writes it (subjects, trailers, authors) and changed by a person; read through the
// real sink-git loaded from the config. What needs a cluster is in history-restore.cluster.test.ts.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'gr-history-cli-'));
const repo = join(dir, 'state');
const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });

function commit(at: string, author: string, message: string, files: Record<string, string | null>) {
  for (const [path, text] of Object.entries(files)) {
    if (text === null) git('rm', '--quiet', path);
    else {
      mkdirSync(dirname(join(repo, path)), { recursive: true });
      writeFileSync(join(repo, path), text);
      git('add', path);
    }
  }
  const [name, email] = author.split('|') as [string, string];
  execFileSync('git', ['-C', repo, 'commit', '--quiet', '-m', message], {
    env: { ...process.env, GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_AUTHOR_DATE: at, GIT_COMMITTER_NAME: 'gitops-reverser', GIT_COMMITTER_EMAIL: 'gr@localhost', GIT_COMMITTER_DATE: at },
  });
}

const configMap = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: a\ndata:\n  v: "${v}"\n`;

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

const config = join(dir, 'config.yaml');
beforeAll(() => {
  mkdirSync(repo);
  git('init', '--quiet', '--initial-branch=main');
  commit('2026-11-20T10:00:00Z', 'alice@example.com|alice@example.com', '[CREATE] v1/configmaps/a/app\n\nCluster: dev\nResource-Version: 11\nAttribution: audit\nAudit-ID: audit-1', {
    'clusters/dev/a/configmaps/app.yaml': configMap('1'),
  });
  commit('2026-11-20T11:00:00Z', 'bob|bob@dev.cluster.local', '[UPDATE] v1/configmaps/a/app\n\nCluster: dev\nResource-Version: 12\nAttribution: admission\nAdmission-UID: uid-2', {
    'clusters/dev/a/configmaps/app.yaml': configMap('2'),
  });
  commit('2026-11-20T12:00:00Z', 'gitops-reverser|gr@localhost', '[UPDATE] v1/configmaps/a/app\n\nCluster: dev\nResource-Version: 13\nAttribution: none\nField-Manager: kubectl-edit', {
    'clusters/dev/a/configmaps/app.yaml': configMap('3'),
  });
  execFileSync('git', ['-C', repo, 'mv', 'clusters/dev/a/configmaps/app.yaml', 'clusters/dev/a/app.yaml']);
  commit('2026-11-20T13:00:00Z', 'Pat Person|pat@example.com', 'move app up', {});
  commit('2026-11-20T14:00:00Z', 'gitops-reverser|gr@localhost', '[CREATE] v1/secrets/a/db\n\nCluster: dev\nAttribution: none', {
    'clusters/dev/a/secrets/db.sops.yaml':
      'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: a\ndata:\n  p: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:m,iv:n,tag:o,type:str]\n  version: 3.13.3\n',
  });
  commit('2026-11-20T15:00:00Z', 'gitops-reverser|gr@localhost', '[CREATE] v1/configmaps/b/x\n\nCluster: elsewhere\nAttribution: none', {
    'clusters/dev/b/configmaps/x.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: b\n',
  });
  writeFileSync(
    config,
    `apiVersion: gitops-reverser/v1alpha2
sources: [ { use: "${join(repoRoot, 'examples/source-manifests')}", cluster: dev, with: { directory: ./nowhere } } ]
normalizers: [ { use: "./not-installed-here" } ]
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: local, url: ./state } ] } }
targets: [ { name: live, with: { provider: local, branch: main, path: clusters/dev } } ]
rules: [ { target: live, resources: ["*"] } ]
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gitops-reverser history', () => {
  it('prints every change of an object newest first, with author, how it was known and the fields, across the move', async () => {
    // The config names a normalizer that does not exist here: history loads only the sink.
    const { code, stdout, stderr } = await cli('history', 'ConfigMap/a/app', '--config', config);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('ConfigMap a/app in target live (clusters/dev on ');
    expect(stdout).toContain('4 change(s), newest first');
    const heads = stdout.split('\n').filter((line) => /^\d{4}-/.test(line));
    expect(heads.map((line) => line.split(/\s{2,}/).slice(0, 3))).toEqual([
      ['2026-11-20T13:00:00Z', 'MOVE', 'Pat Person <pat@example.com>'],
      ['2026-11-20T12:00:00Z', 'UPDATE', 'gitops-reverser <gr@localhost>'],
      ['2026-11-20T11:00:00Z', 'UPDATE', 'bob <bob@dev.cluster.local>'],
      ['2026-11-20T10:00:00Z', 'CREATE', 'alice@example.com <alice@example.com>'],
    ]);
    expect(stdout).toContain('author known by: admission (Admission-UID uid-2); resourceVersion 12, cluster dev');
    expect(stdout).toContain('author known by: not known: the committer (last field manager kubectl-edit)');
    expect(stdout).toContain('author known by: a git commit (no gitops-reverser trailers)');
    expect(stdout).toContain('file: clusters/dev/a/configmaps/app.yaml -> clusters/dev/a/app.yaml');
    expect(stdout).toContain('~ data.v: "2" -> "3"');
  });

  it('gives JSON, narrowed by author and time', async () => {
    const { code, stdout } = await cli('history', 'ConfigMap/a/app', '--config', config, '--output', 'json', '--since', '2026-11-20T10:30', '--until', '2026-11-20T12:30Z');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { targets: { target: string; changes: { author: { name: string }; operation: string; attribution: unknown; fields: unknown[] }[] }[] };
    expect(result.targets[0]?.changes.map((c) => [c.author.name, c.operation])).toEqual([
      ['gitops-reverser', 'UPDATE'],
      ['bob', 'UPDATE'],
    ]);
    expect(result.targets[0]?.changes[1]).toMatchObject({ attribution: { by: 'admission', id: 'uid-2' }, resourceVersion: '12', fields: [{ path: 'data.v', before: '1', after: '2' }] });
    const byAuthor = JSON.parse((await cli('history', 'a', '--config', config, '--output', 'json', '--author', 'PAT')).stdout) as typeof result;
    expect(byAuthor.targets[0]?.changes.map((c) => c.operation)).toEqual(['MOVE']);
  });

  it('names bad input with a code and a fix', async () => {
    const cases: [string[], string][] = [
      [['history', 'Configmap', '--config', config], 'GR_ERR_CLI_SELECTOR'],
      [['history', 'ConfigMap/a/nope', '--config', config], 'GR_ERR_HISTORY_NOTHING'],
      [['history', 'ConfigMap/a/app', '--config', config, '--target', 'nope'], 'GR_ERR_CLI_TARGET'],
      [['history', 'ConfigMap/a/app', '--config', config, '--since', 'yesterday-ish'], 'GR_ERR_CLI_TIME'],
      [['history', 'ConfigMap/a/app', '--config', config, '--output', 'xml'], 'GR_ERR_CLI_USAGE'],
      [['restore', 'a', '--config', config], 'GR_ERR_CLI_USAGE'],
      [['restore', 'a', '--config', config, '--at', '2000-01-01'], 'GR_ERR_HISTORY_REVISION'],
      [['restore', 'a', '--config', config, '--at', 'deadbeef'], 'GR_ERR_HISTORY_REVISION'],
      [['restore', 'Secret/a/db', '--config', config, '--at', 'now'], 'GR_ERR_RESTORE_IDENTITIES'],
      [['restore', 'Secret/a/db', '--config', config, '--at', 'now', '--identities', join(dir, 'missing.agekey')], 'GR_ERR_RESTORE_IDENTITIES'],
      [['restore', 'b', '--config', config, '--at', 'now'], 'GR_ERR_RESTORE_CLUSTER'],
      [['restore', 'ConfigMap/a/app', '--config', config, '--at', '2026-11-20T09:00Z'], 'GR_ERR_HISTORY_REVISION'],
    ];
    for (const [args, code] of cases) {
      const result = await cli(...args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toContain(code);
      expect(result.stderr, args.join(' ')).toContain('fix:');
    }
  });

  it('refuses a sink that keeps no history', async () => {
    const jsonl = join(dir, 'jsonl.yaml');
    writeFileSync(
      jsonl,
      `apiVersion: gitops-reverser/v1alpha2
sources: [ { use: "${join(repoRoot, 'examples/source-manifests')}", cluster: dev, with: { directory: ./nowhere } } ]
sink: { use: "${join(repoRoot, 'examples/sink-jsonl')}", with: { file: ./out.jsonl } }
targets: [ { name: live } ]
rules: [ { target: live, resources: ["*"] } ]
`,
    );
    const result = await cli('history', 'a', '--config', jsonl);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('GR_ERR_HISTORY_UNSUPPORTED');
    const diff = await cli('diff', '--config', jsonl);
    expect(diff.code).toBe(2);
    expect(diff.stderr).toContain('GR_ERR_HISTORY_UNSUPPORTED');
  });
});

describe('gitops-reverser diff (no cluster: manifests as the source)', () => {
  it('reports missing, different, moved and gone objects against what a seed would write, with exit codes 1 and 0', async () => {
    const manifests = join(dir, 'manifests');
    mkdirSync(manifests);
    const cm = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: a\ndata:\n  v: "${value}"\n`;
    writeFileSync(join(manifests, 'one.yaml'), cm('one', '1'));
    writeFileSync(join(manifests, 'two.yaml'), cm('two', '2'));
    writeFileSync(join(manifests, 'three.yaml'), cm('three', '3'));
    const diffConfig = join(dir, 'diff.yaml');
    writeFileSync(
      diffConfig,
      `apiVersion: gitops-reverser/v1alpha2
server: { enabled: false }
sources: [ { use: "${join(repoRoot, 'examples/source-manifests')}", cluster: dev, with: { directory: ./manifests, pollMs: 0 } } ]
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: local, url: ./diff-state.git } ] } }
targets: [ { name: live, with: { provider: local, branch: main, path: clusters/dev, prune: Always } } ]
rules: [ { target: live, resources: ["*"] } ]
`,
    );
    type Report = { inStep: boolean; targets: { objects: number; differences: { state: string; drift: boolean; object: { name: string }; storedPath?: string }[] }[] };
    const report = async () => {
      const result = await cli('diff', '--config', diffConfig, '--output', 'json');
      expect(result.stderr).toBe('');
      return { code: result.code, report: JSON.parse(result.stdout) as Report };
    };
    const states = (r: Report) => (r.targets[0]?.differences ?? []).map((d) => `${d.state} ${d.object.name}${d.drift ? '' : ' (kept)'}`).sort();

    // Nothing written yet: every object is missing.
    const fresh = await report();
    expect(fresh.code).toBe(1);
    expect(states(fresh.report)).toEqual(['missing one', 'missing three', 'missing two']);
    expect((await cli('snapshot', '--config', diffConfig)).code).toBe(0);
    const seeded = await report();
    expect(seeded).toEqual({ code: 0, report: { inStep: true, targets: [expect.objectContaining({ objects: 3, differences: [] })] } });

    // A changed manifest, a removed one, and a file a person moved in the repository.
    writeFileSync(join(manifests, 'one.yaml'), cm('one', 'changed'));
    rmSync(join(manifests, 'two.yaml'));
    const stateRepo = join(dir, 'diff-state.git');
    const work = join(dir, 'diff-work');
    execFileSync('git', ['clone', '--quiet', stateRepo, work]);
    execFileSync('git', ['-C', work, 'mv', 'clusters/dev/a/configmaps/three.yaml', 'clusters/dev/a/three.yaml']);
    execFileSync('git', ['-C', work, '-c', 'user.name=Pat', '-c', 'user.email=pat@example.com', 'commit', '--quiet', '-m', 'move']);
    execFileSync('git', ['-C', work, 'push', '--quiet', 'origin', 'HEAD:main']);
    const drifted = await report();
    expect(drifted.code).toBe(1);
    // The moved file is kept where the person put it (ADR 0020): reported, not drift.
    expect(states(drifted.report)).toEqual(['different one', 'gone two', 'moved three (kept)']);
    expect(drifted.report.targets[0]?.differences.find((d) => d.state === 'moved')?.storedPath).toBe('clusters/dev/a/three.yaml');
    const text = await cli('diff', '--config', diffConfig);
    expect(text.stdout).toContain('~ data.v: "1" -> "changed"');
    expect(text.stdout).toContain('drifted: the next seed would change 2 object(s)');

    // The seed (prune: Always) writes what diff said: in step again, the moved file still where the person put it.
    expect((await cli('snapshot', '--config', diffConfig)).code).toBe(0);
    const after = await report();
    expect(after.code).toBe(0);
    expect(states(after.report)).toEqual(['moved three (kept)']);
    expect(execFileSync('git', ['-C', stateRepo, 'ls-tree', '-r', '--name-only', 'main'], { encoding: 'utf8' }).trim().split('\n')).toEqual([
      'clusters/dev/a/configmaps/one.yaml',
      'clusters/dev/a/three.yaml',
    ]);
  });
});
