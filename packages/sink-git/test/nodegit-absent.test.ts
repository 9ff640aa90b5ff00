import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The default install has no nodegit (an optional dependency that needs system packages to build).
// `validate` then says exactly what to install, for engine: nodegit and for SSH provider URLs alike,
// and a config without either still validates.
const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../../kernel/bin/gitops-reverser.js');

function validate(sinkWith: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gr-no-nodegit-'));
  writeFileSync(
    join(dir, 'config.yaml'),
    `apiVersion: gitops-reverser/v1alpha2
sources: [ { use: "${resolve(here, '../../../examples/source-manifests')}", cluster: demo, with: { directory: ./manifests } } ]
sink: { use: "@gitops-reverser/sink-git", with: ${sinkWith} }
targets: [ { name: live, with: { provider: origin, branch: main, path: x } } ]
rules: [ { target: live, resources: [configmaps] } ]
`,
  );
  const run = spawnSync(process.execPath, ['--require', join(here, 'fixtures/without-nodegit.cjs'), cli, 'validate', '--config', join(dir, 'config.yaml')], {
    encoding: 'utf8',
    cwd: resolve(here, '../../..'),
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('without nodegit installed', () => {
  it('engine: nodegit is refused with the install command', () => {
    const { status, output } = validate('{ engine: nodegit, providers: [ { name: origin, url: ./repo } ] }');
    expect(status).not.toBe(0);
    expect(output).toContain('GR_ERR_GIT_ENGINE');
    expect(output).toContain('nodegit is not installed');
    expect(output).toContain('apt-get install -y build-essential python3 libkrb5-dev libssl-dev');
    expect(output).toContain('npm install nodegit@0.27.0');
  });

  it('an SSH provider is refused with the install command, naming the target and provider', () => {
    const { status, output } = validate('{ providers: [ { name: origin, url: "git@git.example.com:org/state.git", ssh: { privateKeyFile: ./id, knownHostsFile: ./kh } } ] }');
    expect(status).not.toBe(0);
    expect(output).toContain('GR_ERR_GIT_UNSUPPORTED_URL');
    expect(output).toContain('provider "origin" uses SSH (git@git.example.com:org/state.git), which needs the nodegit engine');
    expect(output).toContain('libkrb5-dev');
  });

  it('a local or https provider validates without it', () => {
    const { status, output } = validate('{ providers: [ { name: origin, url: ./repo } ] }');
    expect({ status, output }).toMatchObject({ status: 0 });
  });
});
