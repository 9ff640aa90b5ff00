import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const cli = join(repoRoot, 'packages/kernel/dist/cli/main.js');
const examples = join(repoRoot, 'examples');

function runCli(args: string[], cwd = repoRoot) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'info' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A config in examples/ (so workspace packages resolve) writing to a fresh output file. */
function exampleConfig(extra: { delayMs?: number; timeoutSeconds?: number } = {}) {
  const out = mkdtempSync(join(tmpdir(), 'gr-cli-'));
  const file = join(examples, `.cli-test-${process.pid}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `apiVersion: gitops-reverser/v1alpha2
server: { port: 0, host: 127.0.0.1 }
shutdown: { timeoutSeconds: ${extra.timeoutSeconds ?? 10} }
sources: [ { use: gitops-reverser-source-manifests, cluster: demo, with: { directory: ./source-manifests/sample, pollMs: 0 } } ]
bus: { use: "@gitops-reverser/bus-memory" }
sink: { use: gitops-reverser-sink-jsonl, with: { file: ${join(out, 'changes.jsonl')}, delayMs: ${extra.delayMs ?? 0} } }
targets: [ { name: live } ]
rules:
  - { target: live, scope: Namespaced, resources: ["*"] }
  - { target: live, scope: Cluster, resources: [namespaces] }
`,
  );
  return { file, output: join(out, 'changes.jsonl'), cleanup: () => rmSync(file, { force: true }) };
}

/** `gitops-reverser run` as a child process, with its output collected and a bounded wait. */
function startRun(file: string) {
  const child = spawn(process.execPath, [cli, 'run', '--config', file], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk) => (out.stdout += chunk));
  child.stderr.on('data', (chunk) => (out.stderr += chunk));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const waitFor = async (check: () => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out; stdout: ${out.stdout}\nstderr: ${out.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, out, exit, waitFor };
}

describe('gitops-reverser CLI', () => {
  it('prints usage and the version', () => {
    expect(runCli(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('gitops-reverser run      --config <file>') });
    expect(runCli(['--version']).stdout.trim()).toBe('0.3.0');
    expect(runCli([])).toMatchObject({ code: 2 });
    expect(runCli(['deploy', '--config', 'x'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "deploy"') });
    expect(runCli(['validate'])).toMatchObject({ code: 2, stderr: expect.stringContaining('fix: pass --config <file>') });
  });

  it('validate: exit 0 for a good config', () => {
    const { file, cleanup } = exampleConfig();
    const result = runCli(['validate', '--config', file]);
    cleanup();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${file}: valid`);
    expect(result.stdout).toContain('bus @gitops-reverser/bus-memory; sink gitops-reverser-sink-jsonl; 1 target(s) in 1 partition(s)');
  });

  it('validate: reads the shared key files as run does (a short key is refused at its key path)', () => {
    const { file, cleanup } = exampleConfig();
    const keys = mkdtempSync(join(tmpdir(), 'gr-keys-'));
    writeFileSync(join(keys, 'short.key'), 'too-short\n');
    writeFileSync(join(keys, 'good.key'), `${'k'.repeat(40)}\n`);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, `${text}credentials: { redactionKeyFile: ${join(keys, 'short.key')} }\nattribution: { contentKeyFile: ${join(keys, 'missing.key')} }\n`);
    const refused = runCli(['validate', '--config', file]);
    writeFileSync(file, `${text}credentials: { redactionKeyFile: ${join(keys, 'good.key')} }\n`);
    const accepted = runCli(['validate', '--config', file]);
    cleanup();
    rmSync(keys, { recursive: true, force: true });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/credentials\.redactionKeyFile: .*short\.key holds 9 characters; at least 32 are needed \[GR_ERR_CONFIG_INVALID\]/);
    expect(refused.stderr).toMatch(/attribution\.contentKeyFile: cannot read .*missing\.key/);
    expect(accepted.code, accepted.stderr).toBe(0);
  });

  it('validate: the quickstart config resolves every adapter it names', () => {
    const result = runCli(['validate', '--config', join(examples, 'quickstart.yaml')]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('bus @gitops-reverser/bus-memory; sink @gitops-reverser/sink-git');
  });

  it('validate: exit 1 with file, line, key path and fix for a bad config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gr-cli-bad-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'apiVersion: gitops-reverser/v1alpha2\nsources: [ { use: "@gitops-reverser/source-informer", cluster: dev } ]\nsink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: origin, url: ./r, allowedBranches: [main] } ] } }\ntargets:\n  - { name: live, with: { provider: origin, branch: dev, path: x } }\nrules: [ { target: live, resources: [configmaps] } ]\n',
    );
    const result = runCli(['validate', '--config', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:5:`);
    expect(result.stderr).toContain('targets[0].with.branch: branch "dev" is not in allowedBranches [main] of provider "origin" [GR_ERR_GIT_BRANCH_NOT_ALLOWED]');
    expect(result.stderr).toContain('fix: use one of the allowed branches');
  });

  it('validate: exit 1 for an adapter whose instance is incomplete, naming what it lacks (found without running it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gr-cli-shape-'));
    const file = join(dir, 'shape.yaml');
    const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/adapters/incomplete-sink.mjs');
    writeFileSync(
      file,
      `apiVersion: gitops-reverser/v1alpha2\nsources: [ { use: "@gitops-reverser/source-informer", cluster: dev } ]\nsink: { use: "${fixture}" }\ntargets: [ { name: live } ]\nrules: []\n`,
    );
    const result = runCli(['validate', '--config', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:3:`);
    expect(result.stderr).toContain(
      'sink.use: sink adapter "fixture-incomplete" is incomplete: apply() is missing; flush() is missing; stop() is missing; health() is missing; batchPolicy is missing',
    );
    expect(result.stderr).toContain('[GR_ERR_PLUGIN_SHAPE]');
  });

  it("validate: exit 1 with an adapter's own error code and fix from create(), at its entry", () => {
    const dir = mkdtempSync(join(tmpdir(), 'gr-cli-coded-'));
    const file = join(dir, 'coded.yaml');
    const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/adapters/create-throws-coded.mjs');
    writeFileSync(
      file,
      `apiVersion: gitops-reverser/v1alpha2\nsources: [ { use: "@gitops-reverser/source-informer", cluster: dev } ]\nbus: { use: "${fixture}" }\nsink: { use: "${join(dirname(fixture), 'in-memory-sink.mjs')}" }\ntargets: [ { name: live } ]\nrules: []\n`,
    );
    const result = runCli(['validate', '--config', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `invalid config\n  ${file}:3:13: bus.use: no credentials for queue "orders" (bus adapter "fixture-queue") [FIXTURE_QUEUE_ERR_CREDENTIALS]\n    fix: set credentialsFile to a file holding the queue token\n`,
    );
  });

  // In a child process: the kernel's import() is Node's own there (vitest would interpose its module runner).
  it('validate and plugins: an adapter compiled to CommonJS (the descriptor on exports.default, as tsc emits it) loads', () => {
    const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/adapters/cjs-exports-default.cjs');
    const dir = mkdtempSync(join(tmpdir(), 'gr-cli-cjs-'));
    const file = join(dir, 'cjs.yaml');
    writeFileSync(
      file,
      `apiVersion: gitops-reverser/v1alpha2\nsources: [ { use: "@gitops-reverser/source-informer", cluster: dev } ]\nsink: { use: "${fixture}", with: { label: compiled } }\ntargets: [ { name: live } ]\nrules: []\n`,
    );
    expect(runCli(['validate', '--config', file])).toMatchObject({ code: 0, stdout: expect.stringContaining('sink fixture-cjs-sink; 1 target(s) in 1 partition(s)') });
    const plugins = runCli(['plugins', '--config', file]);
    expect(plugins.code, plugins.stderr).toBe(0);
    expect(plugins.stdout).toMatch(new RegExp(`sink\\s+sink\\s+fixture-cjs-sink\\s.*${fixture.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('validate: a CommonJS module with its descriptor elsewhere is named as CommonJS, with how to export it', () => {
    const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/adapters/cjs-named-export.cjs');
    const dir = mkdtempSync(join(tmpdir(), 'gr-cli-cjs-named-'));
    const file = join(dir, 'cjs-named.yaml');
    writeFileSync(
      file,
      `apiVersion: gitops-reverser/v1alpha2\nsources: [ { use: "@gitops-reverser/source-informer", cluster: dev } ]\nsink: { use: "${fixture}" }\ntargets: [ { name: live } ]\nrules: []\n`,
    );
    expect(runCli(['validate', '--config', file])).toMatchObject({
      code: 1,
      stderr:
        `invalid config\n  ${file}:3:14: sink.use: "${fixture}" is a CommonJS module whose module.exports (keys: sink) is not an adapter descriptor (meta is missing), and it has no exports.default [GR_ERR_PLUGIN_SHAPE]\n` +
        '    fix: compile the adapter to ES modules ("type": "module" in package.json, "module": "nodenext" in tsconfig.json) with export default defineAdapter(...), or set module.exports (or exports.default) to the descriptor\n',
    });
  });

  it('validate: exit 1 when an adapter package is missing, with the npm install that fixes it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gr-cli-missing-'));
    const file = join(dir, 'missing.yaml');
    writeFileSync(
      file,
      'apiVersion: gitops-reverser/v1alpha2\nsources: [ { use: "@gitops-reverser/source-informer", cluster: dev } ]\nsink: { use: "@gitops-reverser/sink-nope" }\ntargets: [ { name: live } ]\nrules: []\n',
    );
    const result = runCli(['validate', '--config', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('sink.use: cannot find adapter package "@gitops-reverser/sink-nope"');
    expect(result.stderr).toContain(`npm install @gitops-reverser/sink-nope`);
  });

  it('snapshot: seeds every target once, writes it, prints progress as plain lines off a terminal and exits 0', () => {
    const config = exampleConfig();
    try {
      const result = runCli(['snapshot', '--config', config.file]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/snapshot: sources seeded 1\/1, \d+ object\(s\) listed, \d+ file\(s\) written, 0 queued/);
      expect(result.stdout).not.toContain('\r');
      expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('snapshot complete');
      const written = readFileSync(config.output, 'utf8').trim().split('\n');
      const listed = Number(/(\d+) object\(s\) listed/.exec(result.stdout)?.[1]);
      expect(listed).toBeGreaterThan(0);
      expect(written.length).toBeGreaterThanOrEqual(listed);
      // Every listed object settled, and only objects are counted (not the snapshot's end marker).
      const lastProgress =
        result.stdout
          .split('\n')
          .filter((line) => line.includes('file(s) written'))
          .at(-1) ?? '';
      expect(Number(/(\d+) file\(s\) written/.exec(lastProgress)?.[1])).toBe(listed);
      expect(runCli(['snapshot', '--config', config.file, '--timeout', 'soon'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--timeout "soon" is not a positive number') });
    } finally {
      config.cleanup();
    }
  });

  it('snapshot: on a terminal, rewrites one progress line in place', () => {
    const config = exampleConfig();
    try {
      // util-linux `script` gives the command a pseudo-terminal.
      const result = spawnSync('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} snapshot --config ${JSON.stringify(config.file)}`, '/dev/null'], {
        cwd: repoRoot,
        encoding: 'utf8',
      });
      expect(result.status).toBe(0);
      expect(result.stdout.startsWith('\r\x1b[2Ksnapshot: sources seeded ')).toBe(true);
      expect(result.stdout).toMatch(/^\r.\[2Ksnapshot: sources seeded \d\/1/);
      expect(result.stdout).toContain('snapshot complete');
    } finally {
      config.cleanup();
    }
  });

  it('rbac: prints a read-only ClusterRole and binding for the rules, without loading adapters', () => {
    const config = exampleConfig();
    try {
      const result = runCli(['rbac', '--config', config.file, '--service-account', 'mirror', '--namespace', 'ops']);
      expect(result.code).toBe(0);
      const documents = result.stdout
        .split(/^---$/m)
        .slice(1)
        .map((doc) => parse(doc) as { kind: string; rules?: { resources: string[]; verbs: string[] }[]; subjects?: unknown[] });
      expect(documents.map((d) => d.kind)).toEqual(['ClusterRole', 'ClusterRoleBinding']);
      expect(new Set(documents[0]?.rules?.flatMap((r) => r.verbs))).toEqual(new Set(['get', 'list', 'watch']));
      expect(documents[1]?.subjects).toEqual([{ kind: 'ServiceAccount', name: 'mirror', namespace: 'ops' }]);
      expect(result.stdout).toContain('# note: rules[0] selects every resource of the core group, Secrets included');
      // --cluster with an id no source observes is a typo, even though rules without clusters: apply to every id.
      expect(runCli(['rbac', '--config', config.file, '--cluster', 'demo'])).toMatchObject({ code: 0 });
      expect(runCli(['rbac', '--config', config.file, '--cluster', 'dmeo'])).toMatchObject({
        code: 1,
        stdout: '',
        stderr: expect.stringContaining('GR_ERR_CLI_USAGE: no source of'),
      });
    } finally {
      config.cleanup();
    }
  });

  it('plugins: lists each resolved adapter with its version', () => {
    const { file, cleanup } = exampleConfig();
    const result = runCli(['plugins', '--config', file]);
    cleanup();
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^KEY\s+SLOT\s+NAME\s+PACKAGE\s+VERSION\s+KERNEL\s+FILE$/m);
    expect(result.stdout).toMatch(/sources\[0\]\s+source\s+gitops-reverser-source-manifests\s+gitops-reverser-source-manifests\s+0\.1\.0\s+kernel \^0\.3\.0/);
    expect(result.stdout).toMatch(/bus\s+bus\s+@gitops-reverser\/bus-memory\s+@gitops-reverser\/bus-memory\s+0\.3\.0/);
    expect(result.stdout).toMatch(/sink\s+sink\s+gitops-reverser-sink-jsonl\s+gitops-reverser-sink-jsonl\s+0\.1\.0/);
  });

  it('plugins: shows the services each adapter provides and needs, optional ones marked, with who provides them', () => {
    const { file, cleanup } = exampleConfig();
    const result = runCli(['plugins', '--config', file]);
    cleanup();
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    const after = (key: string) => {
      const row = lines.findIndex((line) => line.startsWith(`${key} `));
      const rest = lines.slice(row + 1);
      const next = rest.findIndex((line) => !line.startsWith(' '));
      return rest.slice(0, next === -1 ? undefined : next);
    };
    expect(after('sources[0]')).toEqual(['    provides manifests.files: the manifest file each object was read from']);
    expect(after('bus')).toEqual([]);
    expect(after('sink')).toEqual(['    needs manifests.files (optional): provided by sources[0] (gitops-reverser-source-manifests)']);
  });

  it('plugins: an optional need nothing configured provides is shown as such, with the package that would', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gr-cli-needs-'));
    const file = join(dir, 'needs.yaml');
    const out = join(dir, 'out.jsonl');
    writeFileSync(
      file,
      `apiVersion: gitops-reverser/v1alpha2\nsources: [ { use: "@gitops-reverser/source-informer", cluster: dev } ]\nsink: { use: "${join(examples, 'sink-jsonl')}", with: { file: ${out} } }\ntargets: [ { name: live } ]\nrules: []\n`,
    );
    const result = runCli(['plugins', '--config', file]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('\n    needs manifests.files (optional): not provided (gitops-reverser-source-manifests provides it)\n');
  });

  it('run: on SIGTERM stops sources, drains the bus, flushes the sink and exits 0', async () => {
    const { file, output, cleanup } = exampleConfig({ delayMs: 300 });
    const { child, out, exit, waitFor } = startRun(file);
    await waitFor(() => out.stdout.includes('gitops-reverser started'));
    // The sink is slow (300 ms per batch): the signal arrives while the snapshot is still in the bus.
    child.kill('SIGTERM');
    const code = await exit;
    cleanup();
    expect(code).toBe(0);
    const lines = readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key?: string; snapshot?: string });
    expect(lines.map((l) => l.key ?? 'marker')).toEqual(['demo/_core/configmaps/shop/app-settings', 'demo/_core/namespaces/_cluster/shop', 'marker']);
    const logs = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; level: string });
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['stopping: sources, then draining the bus, then flushing the sink', 'stopped cleanly']));
    expect(logs.every((l) => typeof l.level === 'string')).toBe(true);
  });

  it('run: SIGHUP reloads the rules; a broken config is refused and the old one keeps running', async () => {
    const { file, output, cleanup } = exampleConfig();
    const { child, out, exit, waitFor } = startRun(file);
    await waitFor(() => existsSync(output) && readFileSync(output, 'utf8').includes('"snapshot"'));
    // Narrow the rules: only the cluster-scoped rule stays.
    writeFileSync(file, readFileSync(file, 'utf8').replace('  - { target: live, scope: Namespaced, resources: ["*"] }\n', ''));
    child.kill('SIGHUP');
    await waitFor(() => out.stdout.includes('"msg":"config reloaded"'));
    expect(out.stdout).toContain('"changedTargets":["live"]');
    // The source was restarted and seeded again: a second snapshot with only the namespace.
    await waitFor(
      () =>
        readFileSync(output, 'utf8')
          .trim()
          .split('\n')
          .filter((l) => l.includes('"snapshot"')).length === 2,
    );
    const last = readFileSync(output, 'utf8').trim().split('\n').pop() as string;
    expect(JSON.parse(last)).toMatchObject({ objects: 1 });
    writeFileSync(file, 'cluster: { id: demo\n');
    child.kill('SIGHUP');
    await waitFor(() => out.stdout.includes('config reload refused; keeping the running config'));
    expect(out.stderr).toContain('not valid YAML');
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    cleanup();
  });

  it('run: a second signal forces the exit', async () => {
    const { file, output, cleanup } = exampleConfig({ delayMs: 20_000, timeoutSeconds: 60 });
    const { child, out, exit, waitFor } = startRun(file);
    await waitFor(() => out.stdout.includes('gitops-reverser started'));
    child.kill('SIGTERM');
    await waitFor(() => out.stdout.includes('stopping:'));
    const before = Date.now();
    child.kill('SIGINT');
    const code = await exit;
    cleanup();
    expect(code).toBe(130);
    expect(Date.now() - before).toBeLessThan(5000);
    expect(out.stdout).toContain('second signal: exiting now');
    expect(existsSync(output)).toBe(false);
  });
});
