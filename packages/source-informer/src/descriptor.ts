import { defineAdapter, packageVersionOf } from '@gitops-reverser/kernel';
import { DEFAULT_EXCLUDED_RESOURCES } from './discovery.js';
import { InformerSource, type InformerSourceOptions } from './informer-source.js';

export const informerOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
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
  meta: { name: '@gitops-reverser/source-informer', version: packageVersionOf(import.meta.url), slot: 'source', kernel: '^0.1.0' },
  optionsSchema: informerOptionsSchema,
  create: ({ options }) => new InformerSource(options),
});
