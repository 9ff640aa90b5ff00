import { defineAdapter, KernelServices, packageVersionOf, type ProtectedTypes } from '@gitops-reverser/contract';
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
      'x-defaults': 'types a * rule skips (this list replaces the built-in one)',
      'x-fix': 'list types as "resource" (core) or "resource.group", e.g. [events, leases.coordination.k8s.io]',
    },
    alsoExcludeResources: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      'x-defaults': 'types a * rule skips in addition to excludeResources',
      'x-fix': 'types a * rule also skips, added to excludeResources (the default list stays), e.g. [configmaps.example.com]',
    },
    rediscoverySeconds: { type: 'number', minimum: 1, default: 60 },
    watchTimeoutSeconds: { type: 'integer', minimum: 1, default: 300 },
    listPageSize: { type: 'integer', minimum: 1, default: 500 },
    listConcurrency: { type: 'integer', minimum: 1, default: 4 },
  },
} as const;

export default defineAdapter<'source', InformerSourceOptions>({
  meta: { name: '@gitops-reverser/source-informer', version: packageVersionOf(import.meta.url), slot: 'source', kernel: '^0.3.0' },
  optionsSchema: informerOptionsSchema,
  create: ({ options, config, service }) =>
    new InformerSource({
      ...options,
      // An encoder that protects a type (sanitizer-sops: Secrets) lets `*` rules select it again.
      excludeResources: withoutProtected(options.excludeResources, service(KernelServices.ProtectedTypes)),
      alsoExcludeResources: options.alsoExcludeResources ?? [],
      ...(options.kubeconfig ? { kubeconfig: config.resolvePath(options.kubeconfig) } : {}),
    }),
});

/** The excluded types minus those an encoder protects (`resource` or `resource.group` keys). */
function withoutProtected(excluded: readonly string[], protectedTypes: ProtectedTypes): string[] {
  return excluded.filter((key) => {
    const dot = key.indexOf('.');
    const type = dot < 0 ? { resource: key, group: '' } : { resource: key.slice(0, dot), group: key.slice(dot + 1) };
    return !protectedTypes.protects(type);
  });
}
