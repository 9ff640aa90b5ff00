import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { configSchema } from '../../packages/kernel/src/config/config-schema.js';

// An undocumented config key is a broken feature: every key the config schema accepts has a row in
// the kernel README's config reference (`server.port`), is one of a row's names
// (`sanitizer.removeAnnotations` / `removeLabels`), or is named in its parent's row
// (`sources[]`: `{ use, cluster, name?, with? }`). Keys below a documented second-level key (the
// fields of a label selector) are left to that row.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface SchemaNode {
  readonly properties?: Record<string, SchemaNode>;
  readonly items?: SchemaNode;
  readonly anyOf?: readonly SchemaNode[];
}

function referenceRows(): Map<string, string> {
  const readme = readFileSync(join(repoRoot, 'packages/kernel/README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Config reference'), readme.indexOf('\n## ', readme.indexOf('## Config reference') + 1));
  const rows = new Map<string, string>();
  for (const line of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const firstCell = line.slice(2, line.indexOf(' | ', 2));
    const names = [...firstCell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
    const first = names[0] as string;
    const parent = first.includes('.') ? first.slice(0, first.lastIndexOf('.') + 1) : '';
    for (const name of names) rows.set(name === first || name.includes('.') ? name : `${parent}${name}`, line);
  }
  return rows;
}

/** The last name of a key path (`rules[].target` -> `target`, `sources[]` -> `sources`). */
const lastName = (path: string) =>
  path
    .replace(/\[\]$/, '')
    .split(/\.|\[\]\./)
    .pop() as string;

function missingKeys(): string[] {
  const rows = referenceRows();
  const rowOf = (path: string) => rows.get(path) ?? rows.get(`${path}[]`) ?? rows.get(path.replace(/\[\]$/, ''));
  const documented = (path: string, parent: string) => {
    if (rowOf(path)) return true;
    const parentRow = parent ? rowOf(parent) : undefined;
    return parentRow !== undefined && new RegExp(`\\b${lastName(path)}\\b`).test(parentRow);
  };
  const children = (node: SchemaNode, path: string): [string, SchemaNode][] => [
    ...Object.entries(node.properties ?? {}).map(([key, child]): [string, SchemaNode] => [path ? `${path}.${key}` : key, child]),
    ...(node.items ? children(node.items, `${path}[]`) : []),
    ...(node.anyOf ?? []).flatMap((branch) => children(branch, path)),
  ];
  const missing: string[] = [];
  // Top-level keys and their children are each documented; below a documented second-level key, its row speaks for it.
  const visit = (node: SchemaNode, path: string, parent: string, depth: number) => {
    const kids = children(node, path);
    if (depth >= 2 || (depth === 1 && kids.length === 0)) {
      if (!documented(path, parent)) {
        if (kids.length === 0) missing.push(path);
        else for (const [childPath, child] of kids) visit(child, childPath, path, depth + 1);
      }
      return;
    }
    for (const [childPath, child] of kids) visit(child, childPath, path, depth + 1);
  };
  visit(configSchema as unknown as SchemaNode, '', '', 0);
  return missing;
}

it('every key of the config schema is in the kernel README config reference', () => {
  expect(missingKeys()).toEqual([]);
});
