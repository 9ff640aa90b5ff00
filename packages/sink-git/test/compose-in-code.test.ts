import type { AdapterHealth, Source, SourceContext } from '@gitops-reverser/contract';
import { createRuntime, silentLogger } from '@gitops-reverser/kernel';
import { expect, it } from 'vitest';
import gitSink from '../src/index.js';
import { log, tempDir } from './helpers.js';

/** The kernel README's "Composing in code" example, run as written (with a source of the test's own). */
it('composes a runtime in code: object config, a named source instance, the git sink by descriptor, no HTTP port', async () => {
  const baseDir = tempDir();
  let context: SourceContext | undefined;
  const mySource: Source = {
    start: async (c) => {
      context = c;
    },
    stop: async () => undefined,
    health: (): AdapterHealth => ({ state: 'ready' }),
  };
  const runtime = await createRuntime({
    config: {
      targets: [{ name: 'live', with: { provider: 'local', branch: 'main', path: 'clusters/dev' } }],
      rules: [{ target: 'live', resources: ['configmaps'] }],
    },
    baseDir,
    logger: silentLogger(),
    adapters: {
      sources: [{ cluster: 'dev', name: 'my-source', instance: mySource }],
      sink: { descriptor: gitSink, options: { providers: [{ name: 'local', url: './state-repo' }] } },
    },
    serve: false,
  });
  await runtime.start();
  expect(runtime.port).toBeUndefined();
  expect(runtime.health().adapters.map((a) => a.name)).toEqual(['my-source', '@gitops-reverser/bus-memory', '@gitops-reverser/sink-git']);
  await context?.emit({
    identity: { clusterId: 'dev', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'default', name: 'from-code' },
    operation: 'upsert',
    created: true,
    object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-code', namespace: 'default' }, data: { a: 'b' } },
    resourceVersion: '1',
    observedAt: new Date().toISOString(),
    phase: 'live',
    observedBy: 'watch',
  });
  await runtime.stop();
  expect(log(`${baseDir}/state-repo`, 'main', '%s')).toEqual(['[CREATE] v1/configmaps/default/from-code']);
});
