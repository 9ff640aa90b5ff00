import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { defineAdapter, packageVersionOf } from '@gitops-reverser/contract';
import { DEFAULT_EXCLUDED_RESOURCES } from './discovery.js';
import { InformerSource, type InformerSourceOptions } from './informer-source.js';

export const informerOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kubeconfig: { type: 'string', minLength: 1, 'x-fix': 'the path of a kubeconfig file, relative to the config file; leave it out in a pod to use its service account' },
    context: { type: 'string', minLength: 1 },
    excludeResources: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [...DEFAULT_EXCLUDED_RESOURCES],
      'x-fix': 'list types as "resource" (core) or "resource.group", e.g. [events, leases.coordination.k8s.io]',
    },
    rediscoverySeconds: { type: 'number', minimum: 1, default: 60 },
    watchTimeoutSeconds: { type: 'integer', minimum: 1, default: 300 },
    listPageSize: { type: 'integer', minimum: 1, default: 500 },
    listConcurrency: { type: 'integer', minimum: 1, default: 4 },
  },
} as const;

export default defineAdapter<'source', InformerSourceOptions>({
  meta: { name: '@gitops-reverser/source-informer', version: packageVersionOf(import.meta.url), slot: 'source', kernel: '^0.2.0' },
  optionsSchema: informerOptionsSchema,
  create: ({ options, config }) =>
    new InformerSource({
      ...options,
      ...(options.kubeconfig ? { kubeconfig: kubeconfigPath(options.kubeconfig, config.baseDir) } : {}),
    }),
});

/** `~/...` is the home folder (as kubectl reads it); other relative paths are relative to the config file. */
function kubeconfigPath(path: string, baseDir: string): string {
  if (path === '~' || path.startsWith('~/')) return join(homedir(), path.slice(1));
  return isAbsolute(path) ? path : resolve(baseDir, path);
}
