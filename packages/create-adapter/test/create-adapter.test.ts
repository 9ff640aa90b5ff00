import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TOOL_VERSIONS } from '../src/adapter-package.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const generator = join(repoRoot, 'packages/create-adapter/bin/create-adapter.js');
const cli = join(repoRoot, 'packages/kernel/dist/cli/main.js');
// Inside the clone, so the generated packages find the workspace's contract, typescript and vitest
// (test/release/registry.cluster.test.ts does the same from a registry, outside the clone).
const work = mkdtempSync(join(repoRoot, '.test-create-adapter-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function generate(args: string[], cwd = work) {
  const result = spawnSync(process.execPath, [generator, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm init @gitops-reverser/adapter', () => {
  it('writes a package per slot that builds, passes its conformance suite and loads in validate', () => {
    for (const slot of ['source', 'bus', 'normalizer', 'sink']) {
      const result = generate([`my-${slot}`]);
      expect(result, result.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining(`wrote a ${slot} adapter, my-${slot}, to my-${slot}`) });
    }
    const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-b', 'my-source', 'my-bus', 'my-normalizer', 'my-sink'], { cwd: work, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    writeFileSync(join(work, 'vitest.config.mjs'), 'export default {};\n');
    const tests = spawnSync(process.execPath, [join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'vitest.config.mjs', '--root', '.'], {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(tests.status, tests.stdout + tests.stderr).toBe(0);
    for (const slot of ['source', 'bus', 'normalizer', 'sink']) expect(tests.stdout).toMatch(new RegExp(`✓ my-${slot}/test/my-${slot}\\.test\\.ts`));
    expect(tests.stdout).toMatch(/Tests {2}23 passed \(23\)/);

    writeFileSync(
      join(work, 'config.yaml'),
      `apiVersion: gitops-reverser/v1alpha2
${readFileSync(join(work, 'my-source/README.md'), 'utf8')
  .match(/```yaml\n(?:#.*\n)*([\s\S]*?)```/)?.[1]
  ?.replaceAll('use: my-source', 'use: ./my-source')}
normalizers: [ { use: ./my-normalizer } ]
bus: { use: ./my-bus }
sink: { use: ./my-sink, with: { directory: ./out } }
targets: [ { name: live, with: { path: clusters/dev } } ]
rules: [ { target: live, resources: ["*"] } ]
`,
    );
    const plugins = spawnSync(process.execPath, [cli, 'plugins', '--config', join(work, 'config.yaml')], { encoding: 'utf8' });
    expect(plugins.status, plugins.stderr).toBe(0);
    for (const [key, slot] of [
      ['sources[0]', 'source'],
      ['normalizers[0]', 'normalizer'],
      ['bus', 'bus'],
      ['sink', 'sink'],
    ] as const) {
      expect(plugins.stdout).toMatch(new RegExp(`^${key.replace(/[[\]]/g, '\\$&')} +${slot} +my-${slot} +my-${slot} +0\\.1\\.0 +kernel \\^0\\.3\\.0`, 'm'));
    }
  }, 120_000);

  it('takes the slot from --slot, a scoped name, and a folder of its own', () => {
    const result = generate(['@acme/objects-to-s3', '--slot', 'sink', '--directory', 'out/s3']);
    expect(result.code, result.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(work, 'out/s3/package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: '@acme/objects-to-s3', peerDependencies: { '@gitops-reverser/contract': '^0.3.0' } });
    expect(readFileSync(join(work, 'out/s3/src/index.ts'), 'utf8')).toContain("TARGET_PATH: 'ACME_OBJECTS_TO_S3_ERR_TARGET_PATH'");
  });

  it('without a terminal, a name that does not say its slot is refused with the flag that fixes it', () => {
    const result = generate(['objects-to-s3']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('GR_ERR_CREATE_USAGE: no terminal to ask on, and it needs --slot: the name "objects-to-s3" does not say its slot; add -- --slot sink');
  });

  it('refuses a name npm would not take, an unknown slot and a folder that is not empty', () => {
    expect(generate(['My_Sink', '--slot', 'sink']).stderr).toContain('GR_ERR_CREATE_NAME');
    expect(generate(['x-sink', '--slot', 'writer'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown slot "writer"') });
    mkdirSync(join(work, 'taken-sink/src'), { recursive: true });
    expect(generate(['taken-sink'])).toMatchObject({ code: 1, stderr: expect.stringContaining('GR_ERR_CREATE_DIRECTORY') });
  });

  it('generated packages build with the TypeScript, vitest and @types/node this repository uses', () => {
    const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    for (const [tool, range] of Object.entries(TOOL_VERSIONS)) expect(range).toBe(root.devDependencies[tool]);
  });
});
