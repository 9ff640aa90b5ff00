import { describe, expect, it } from 'vitest';
import { objectHeads } from '../src/file-documents.js';

describe('the objects of a file', () => {
  it('a document that cannot be read (an alias to no anchor) holds no object; the other documents of the file are still found', () => {
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
    expect(objectHeads(text)).toEqual([undefined, { group: '', version: 'v1', kind: 'ConfigMap', name: 'fine', namespace: 'shop' }]);
  });
});
