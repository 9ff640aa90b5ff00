import { describe, expect, it } from 'vitest';
import { objectDocuments } from '../src/file-documents.js';
import { PathLayout } from '../src/path-layout.js';
import { documentChanges, ownedDocuments, resolveDocuments } from '../src/stored-documents.js';

// How the stored history reads documents: which object each holds, which one the writer keeps up to
// date, and what a commit did to each object of a file.

const target = { path: 'clusters/dev', layout: new PathLayout() };
const configMap = (name: string, data: string, namespace?: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ''}data:\n  v: "${data}"\n`;
const kustomizations: Record<string, string> = { 'clusters/dev/apps/shop': 'shop' };
const resolve = (path: string, text: string) => resolveDocuments(target, path, objectDocuments(text), (folder) => kustomizations[folder]);

describe('resolveDocuments', () => {
  it('gives each document of a file its object: without metadata.namespace, the namespace of the kustomization above it', () => {
    const documents = resolve('clusters/dev/apps/shop/configs.yaml', `# the shop's settings\n${configMap('one', '1')}---\n${configMap('two', '2')}---\n# not an object\nplain: text\n`);
    expect(documents.map((d) => [d.index, d.name, d.cluster])).toEqual([
      [0, { group: '', kind: 'ConfigMap', namespace: 'shop', name: 'one' }, ''],
      [1, { group: '', kind: 'ConfigMap', namespace: 'shop', name: 'two' }, ''],
    ]);
    expect(documents[1]?.text).toBe(configMap('two', '2'));
    expect(documents[0]?.document.data()).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' }, data: { v: '1' } });
    // Its own metadata.namespace wins; no kustomization and no layout path: cluster-scoped as kubectl reads it.
    expect(resolve('clusters/dev/apps/shop/x.yaml', configMap('three', '3', 'other'))[0]?.name.namespace).toBe('other');
    expect(resolve('clusters/dev/loose/x.yaml', configMap('four', '4'))[0]?.name.namespace).toBe('');
  });
});

describe('ownedDocuments', () => {
  it('one document per object: the one at its layout path, else the first by path and position', () => {
    const copy = resolve('clusters/dev/apps/shop/a-copy.yaml', `${configMap('one', '0', 'shop')}---\n${configMap('one', '00', 'shop')}`);
    const person = resolve('clusters/dev/apps/shop/configs.yaml', `${configMap('one', '1')}---\n${configMap('two', '2')}`);
    const layout = resolve('clusters/dev/shop/configmaps/one.yaml', configMap('one', 'L', 'shop'));
    expect(ownedDocuments(target, [...person, ...copy]).map((d) => [d.path, d.index, d.name.name])).toEqual([
      ['clusters/dev/apps/shop/a-copy.yaml', 0, 'one'],
      ['clusters/dev/apps/shop/configs.yaml', 1, 'two'],
    ]);
    expect(ownedDocuments(target, [...person, ...copy, ...layout]).map((d) => [d.path, d.name.name])).toEqual([
      ['clusters/dev/apps/shop/configs.yaml', 'two'],
      ['clusters/dev/shop/configmaps/one.yaml', 'one'],
    ]);
  });

  it('where the layout keeps clusters apart, the same object of two clusters is two objects', () => {
    const byCluster = { path: '', layout: new PathLayout('{cluster}/{namespace}/{resource}/{name}.yaml') };
    const documents = ['dev', 'prod'].flatMap((cluster) => resolveDocuments(byCluster, `${cluster}/shop/configmaps/one.yaml`, objectDocuments(configMap('one', cluster, 'shop')), () => undefined));
    expect(ownedDocuments(byCluster, documents).map((d) => d.cluster)).toEqual(['dev', 'prod']);
  });
});

describe('documentChanges', () => {
  const path = 'clusters/dev/apps/shop/configs.yaml';
  const file = (one: string, two: string, between = '') => `${configMap('one', one)}---${between}\n${configMap('two', two)}`;

  it('a change of one document is a change of that object only', () => {
    const changes = documentChanges(resolve(path, file('1', '2')), resolve(path, file('9', '2')));
    expect(changes.map((c) => [c.name.name, c.before?.text, c.after?.text])).toEqual([['one', configMap('one', '1'), configMap('one', '9')]]);
  });

  it('a comment between documents, their order or line ends change no object; an added or removed document does', () => {
    expect(documentChanges(resolve(path, file('1', '2')), resolve(path, file('1', '2', ' # two follows')))).toEqual([]);
    expect(documentChanges(resolve(path, file('1', '2')), resolve(path, `${configMap('two', '2')}---\n${configMap('one', '1')}`))).toEqual([]);
    expect(documentChanges(resolve(path, file('1', '2')), resolve(path, file('1', '2').replace(/\n/g, '\r\n')))).toEqual([]);
    const removed = documentChanges(resolve(path, file('1', '2')), resolve(path, configMap('one', '1')));
    expect(removed.map((c) => [c.name.name, c.before !== undefined, c.after !== undefined])).toEqual([['two', true, false]]);
    const created = documentChanges([], resolve(path, file('1', '2')));
    expect(created.map((c) => [c.name.name, c.before !== undefined, c.after !== undefined])).toEqual([
      ['one', false, true],
      ['two', false, true],
    ]);
  });
});
