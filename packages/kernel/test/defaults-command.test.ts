import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { NOISE_ANNOTATIONS, NOISE_LABELS, SERVER_OWNED_METADATA } from '../src/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = join(repoRoot, 'packages/kernel/dist/cli/main.js');

function defaults(args: string[] = []) {
  const result = spawnSync(process.execPath, [cli, 'defaults', ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, document: parse(result.stdout) as Record<string, Record<string, unknown>> };
}

describe('gitops-reverser defaults', () => {
  it('prints the built-in lists, the credential rules and the watch source list as YAML, without a config', () => {
    const { code, stdout, document } = defaults();
    expect(code).toBe(0);
    expect(stdout).toMatch(/^# gitops-reverser defaults/);
    expect(document['sanitizer']).toMatchObject({
      status: { removed: true },
      serverOwnedMetadata: { builtIn: [...SERVER_OWNED_METADATA] },
      annotations: { builtIn: [...NOISE_ANNOTATIONS] },
      labels: { builtIn: [...NOISE_LABELS] },
    });
    expect(((document['credentials']?.['rules'] ?? []) as { id: string }[]).map((rule) => rule.id)).toContain('private-key');
    const informer = (document['adapters'] as unknown as Record<string, unknown>[])[0];
    expect(informer?.['adapter']).toBe('@gitops-reverser/source-informer');
    expect(informer?.['excludeResources']).toContain('secrets');
  });

  it('with a config: the lists as it changes them, and its adapters lists as configured', () => {
    const file = join(repoRoot, 'examples', `.defaults-test-${process.pid}.yaml`);
    writeFileSync(
      file,
      `apiVersion: gitops-reverser/v1alpha2
sources: [ { use: "@gitops-reverser/source-informer", cluster: dev, with: { alsoExcludeResources: [widgets.example.com] } } ]
sink: { use: gitops-reverser-sink-jsonl, with: { file: /tmp/x.jsonl } }
targets: [ { name: live } ]
rules: [ { target: live, resources: [configmaps] } ]
sanitizer:
  defaults: { labels: false }
  keepMetadata: [finalizers]
  removeAnnotations: [example.com/*]
  removeFields: [ { path: spec.replicas, kinds: [Deployment] } ]
credentials: { mode: refuse, ignore: [ { rules: [jwt], namespaces: [auth] } ] }
`,
    );
    try {
      const { code, document } = defaults(['--config', file]);
      expect(code).toBe(0);
      expect(document['sanitizer']).toMatchObject({
        serverOwnedMetadata: { keep: ['finalizers'] },
        annotations: { remove: ['example.com/*'] },
        labels: { builtIn: [] },
        removeFields: [{ path: 'spec.replicas', kinds: ['Deployment'] }],
      });
      expect(document['credentials']).toMatchObject({ mode: 'refuse', ignore: [{ rules: ['jwt'], namespaces: ['auth'] }] });
      expect((document['adapters'] as unknown as Record<string, unknown>[])[0]).toMatchObject({
        adapter: 'sources[0] (@gitops-reverser/source-informer)',
        alsoExcludeResources: ['widgets.example.com'],
      });
    } finally {
      rmSync(file, { force: true });
    }
  });
});
