import { describe, expect, it } from 'vitest';
import { objectHeads } from '../src/file-documents.js';
import { dataOf, MAX_ALIAS_COUNT, readDocuments } from '../src/yaml-syntax.js';

/** A "billion laughs" map: each level lists the one below nine times. */
function laughs(levels: number): string {
  let text = '  l0: &l0 "lol"\n';
  for (let level = 1; level <= levels; level++) text += `  l${level}: &l${level} [${Array.from({ length: 9 }, () => `*l${level - 1}`).join(', ')}]\n`;
  return text;
}

describe('aliases in a person`s YAML', () => {
  it('a document over the alias limit is not read, and the caller is told; one well under it is read', () => {
    const told: number[] = [];
    const bomb = readDocuments(`metadata:\n  name: x\ndata:\n${laughs(9)}`)[0];
    expect(bomb && dataOf(bomb, () => told.push(1))).toBeUndefined();
    expect(told).toEqual([1]);
    // Three levels of nine: anchors used as much as a person might use them.
    const fine = readDocuments(`data:\n${laughs(3)}`)[0];
    expect(fine && (dataOf(fine, () => told.push(2)) as { data: { l3: unknown[] } }).data.l3).toHaveLength(9);
    expect(told).toEqual([1]);
    expect(MAX_ALIAS_COUNT).toBe(10_000);
  });

  it('a file whose head looks rendered but holds anchors is parsed: a bomb in it is reported by document, its head kept as unreadable', () => {
    const over: number[] = [];
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\ndata: {}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: shop\ndata:\n${laughs(9)}`;
    const heads = objectHeads(text, (index) => over.push(index));
    expect(over).toEqual([1]);
    expect(heads[0]).toMatchObject({ kind: 'ConfigMap', name: 'ok' });
    expect(heads[0]?.unreadable).toBeUndefined();
    expect(heads[1]).toEqual({ group: '', version: 'v1', kind: 'ConfigMap', name: 'x', namespace: 'shop', unreadable: true });
    const single = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n${laughs(9)}`;
    expect(objectHeads(single, (index) => over.push(10 + index))[0]?.unreadable).toBe(true);
    expect(over).toEqual([1, 10]);
  });
});
