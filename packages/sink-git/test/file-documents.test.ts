import { describe, expect, it } from 'vitest';
import { objectHeads } from '../src/file-documents.js';

describe('the objects of a file', () => {
  it('a document that cannot be read (an alias to no anchor) still names its object, marked unreadable (ADR 0039); the other documents of the file are found as they are', () => {
    const text = `apiVersion: v1
kind: ConfigMap
metadata:
  name: broken
data:
  region: *nowhere
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: fine
  namespace: shop
`;
    expect(objectHeads(text)).toEqual([
      { group: '', version: 'v1', kind: 'ConfigMap', name: 'broken', namespace: undefined, unreadable: true },
      { group: '', version: 'v1', kind: 'ConfigMap', name: 'fine', namespace: 'shop' },
    ]);
  });

  it('a syntax error leaves what the parser found of the head; a document without a name names nothing', () => {
    const text = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec: [unclosed\n---\nkind: ConfigMap\nmetadata: { labels: [\n';
    expect(objectHeads(text)).toEqual([{ group: 'apps', version: 'v1', kind: 'Deployment', name: 'web', namespace: 'shop', unreadable: true }, undefined]);
  });
});
