import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// An undocumented option is a broken feature: every key an adapter's `with:` schema (and a sink's
// target options schema) accepts is named in that adapter's README, in a code span or a code block
// (an options table row, or the options spelled out in a YAML example).

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const ADAPTERS = [
  'packages/bus-memory',
  'packages/bus-nats',
  'packages/sink-git',
  'packages/source-informer',
  'packages/source-audit',
  'packages/source-admission',
  'packages/sanitizer-sops',
  'examples/source-manifests',
  'examples/sink-jsonl',
];

interface SchemaNode {
  readonly properties?: Record<string, SchemaNode>;
  readonly items?: SchemaNode;
  readonly additionalProperties?: SchemaNode | boolean;
  readonly anyOf?: readonly SchemaNode[];
  readonly oneOf?: readonly SchemaNode[];
}

/** Key paths of a schema: `listen.port`, `providers.auth.token` (list items are transparent). */
function keyPaths(node: SchemaNode | undefined, prefix = ''): string[] {
  if (!node) return [];
  const own = Object.entries(node.properties ?? {}).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...keyPaths(child, path)];
  });
  return [...own, ...keyPaths(node.items, prefix), ...[...(node.anyOf ?? []), ...(node.oneOf ?? [])].flatMap((branch) => keyPaths(branch, prefix))];
}

/** The text of every code span and code block of a README: where options are named. */
function codeText(readme: string): string {
  const blocks = [...readme.matchAll(/```[^\n]*\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  const withoutBlocks = readme.replace(/```[\s\S]*?```/g, '');
  const spans = [...withoutBlocks.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] as string);
  return [...blocks, ...spans].join('\n');
}

describe('adapter READMEs document every option', () => {
  for (const folder of ADAPTERS) {
    it(folder, async () => {
      const descriptor = ((await import(join(repoRoot, folder, 'src/index.ts'))) as { default: { optionsSchema?: SchemaNode; targetOptionsSchema?: SchemaNode } }).default;
      const code = codeText(readFileSync(join(repoRoot, folder, 'README.md'), 'utf8'));
      const paths = [...keyPaths(descriptor.optionsSchema), ...keyPaths(descriptor.targetOptionsSchema)];
      expect(paths.length).toBeGreaterThan(0);
      const named = (path: string) => code.includes(path) || new RegExp(`(^|[^\\w.-])${(path.split('.').pop() as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'm').test(code);
      expect(paths.filter((path) => !named(path))).toEqual([]);
    });
  }
});
