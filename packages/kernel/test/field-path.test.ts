import { describe, expect, it } from 'vitest';
import { fieldPathText, parseFieldPath, pathNames, removeAtPath } from '../src/normalize/field-path.js';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', annotations: { 'example.com/note': 'n', keep: 'k' }, labels: { 'example.com/team': 'shop' } },
  spec: {
    replicas: 3,
    template: {
      spec: {
        containers: [
          { name: 'app', image: 'app:1', resources: { limits: { cpu: '1' } } },
          { name: 'istio-proxy', image: 'proxy:1', resources: {} },
          { name: 'a.b', image: 'dotted:1' },
        ],
      },
    },
  },
});

describe('field paths', () => {
  it('reads keys, quoted and escaped keys, list items by field, index and [*]', () => {
    expect(parseFieldPath('spec.replicas')).toEqual([
      { kind: 'key', key: 'spec' },
      { kind: 'key', key: 'replicas' },
    ]);
    expect(parseFieldPath('metadata.annotations["example.com/note"]')).toEqual([
      { kind: 'key', key: 'metadata' },
      { kind: 'key', key: 'annotations' },
      { kind: 'key', key: 'example.com/note' },
    ]);
    expect(parseFieldPath('metadata.labels.example\\.com/team')[2]).toEqual({ kind: 'key', key: 'example.com/team' });
    expect(parseFieldPath("a['it\\'s']")[1]).toEqual({ kind: 'key', key: "it's" });
    expect(parseFieldPath('spec.containers[name=istio-proxy].image')[2]).toEqual({ kind: 'where', field: 'name', value: 'istio-proxy' });
    expect(parseFieldPath('spec.containers[name="a.b ]"]')[2]).toEqual({ kind: 'where', field: 'name', value: 'a.b ]' });
    expect(parseFieldPath('spec.ports[0]')[2]).toEqual({ kind: 'index', index: 0 });
    expect(parseFieldPath('spec.containers[*].resources')[2]).toEqual({ kind: 'every' });
  });

  it('refuses what it cannot read, naming the position', () => {
    for (const bad of ['', 'a..b', 'a.', '.a', 'a[', 'a[x]', 'a["b', 'a]b', 'a[0]b', 'a[=x]', 'a\\']) {
      expect(() => parseFieldPath(bad), bad).toThrow(/is not a field path: .* at character \d+/);
    }
  });

  it('writes paths back in a form that reads the same', () => {
    for (const path of ['spec.replicas', 'metadata.annotations["example.com/note"]', 'spec.containers[name=istio-proxy].image', 'spec.ports[0]', 'x[*].y', 'c[name="a]b"]']) {
      expect(parseFieldPath(fieldPathText(parseFieldPath(path)))).toEqual(parseFieldPath(path));
    }
  });

  it('removes map keys and list items, and nothing where a step does not fit', () => {
    const object = deployment();
    expect(removeAtPath(object, parseFieldPath('spec.replicas'))).toBe(1);
    expect(removeAtPath(object, parseFieldPath('spec.template.spec.containers[name=istio-proxy]'))).toBe(1);
    expect(removeAtPath(object, parseFieldPath('spec.template.spec.containers[*].resources'))).toBe(1);
    expect(removeAtPath(object, parseFieldPath('metadata.annotations["example.com/note"]'))).toBe(1);
    expect(removeAtPath(object, parseFieldPath('spec.template.spec.containers[name="a.b"].image'))).toBe(1);
    // A key on a list, an index on a map, a path that is not there: nothing.
    expect(removeAtPath(object, parseFieldPath('spec.template.spec.containers.image'))).toBe(0);
    expect(removeAtPath(object, parseFieldPath('metadata[0]'))).toBe(0);
    expect(removeAtPath(object, parseFieldPath('spec.nothing.here'))).toBe(0);
    expect(object.spec).toEqual({ template: { spec: { containers: [{ name: 'app', image: 'app:1' }, { name: 'a.b' }] } } });
    expect(object.metadata.annotations).toEqual({ keep: 'k' });
  });

  it('says whether a location lies at or below a path', () => {
    const object = deployment();
    const path = parseFieldPath('spec.template.spec.containers[name=istio-proxy]');
    expect(pathNames(path, ['spec', 'template', 'spec', 'containers', 1, 'image'], object)).toBe(true);
    expect(pathNames(path, ['spec', 'template', 'spec', 'containers', 0, 'image'], object)).toBe(false);
    expect(pathNames(parseFieldPath('data'), ['data', 'token'], { data: { token: 'x' } })).toBe(true);
    expect(pathNames(parseFieldPath('data.token'), ['data'], { data: { token: 'x' } })).toBe(false);
  });
});
