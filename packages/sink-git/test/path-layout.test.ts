import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authorOf, renderMessage } from '../src/commit-message.js';
import { PathLayout } from '../src/path-layout.js';

const identity = { clusterId: 'dev', group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'shop', name: 'web' };

describe('PathLayout', () => {
  it('default: {target}/{namespace|_cluster}/{group/}{resource}/{name}.yaml', () => {
    const layout = new PathLayout();
    expect(layout.pathOf('clusters/dev', identity)).toEqual({ path: 'clusters/dev/shop/apps/deployments/web.yaml', encrypted: 'clusters/dev/shop/apps/deployments/web.sops.yaml' });
    expect(layout.pathOf('', { ...identity, group: '', resource: 'namespaces', namespace: '' })).toEqual({ path: '_cluster/namespaces/web.yaml', encrypted: '_cluster/namespaces/web.sops.yaml' });
    expect(new PathLayout('{name}').pathOf('', identity)).toEqual({ path: 'web' });
  });

  it.each([
    ['..', 'name ".." is a relative path segment'],
    ['a/b', 'name "a/b" contains a path separator'],
  ])('refuses the name %s', (name, problem) => {
    expect(new PathLayout().pathOf('t', { ...identity, name })).toEqual({ problem });
  });

  it('refuses ".git" only as a whole path segment, in any case', () => {
    expect(new PathLayout().pathOf('t', { ...identity, name: '.git' })).toEqual({ path: 't/shop/apps/deployments/.git.yaml', encrypted: 't/shop/apps/deployments/.git.sops.yaml' });
    expect(new PathLayout('{name}/manifest.yaml').pathOf('t', { ...identity, name: '.Git' })).toEqual({ problem: 'layout produced an unsafe path ".Git/manifest.yaml"' });
    // RBAC names are path segments: they may end in dots or spaces, which Windows drops.
    for (const name of ['.git.', '.GIT ', 'git~1']) {
      expect(new PathLayout('{name}/manifest.yaml').pathOf('t', { ...identity, name })).toEqual({ problem: `layout produced an unsafe path "${name}/manifest.yaml"` });
    }
  });

  it('answers the same when asked again for a folder it remembers, safe or unsafe, and checks each file name itself', () => {
    const layout = new PathLayout('{namespace}/{name}.yaml');
    for (let round = 0; round < 2; round++) {
      expect(layout.pathOf('t', { ...identity, namespace: 'shop', name: `web-${round}` })).toEqual({ path: `t/shop/web-${round}.yaml`, encrypted: `t/shop/web-${round}.sops.yaml` });
      expect(layout.pathOf('t', { ...identity, namespace: '.GIT', name: `web-${round}` })).toEqual({ problem: `layout produced an unsafe path ".GIT/web-${round}.yaml"` });
      // The same folder under another target folder is another folder.
      expect(layout.pathOf('u', { ...identity, namespace: 'shop', name: 'web' })).toEqual({ path: 'u/shop/web.yaml', encrypted: 'u/shop/web.sops.yaml' });
    }
    const bare = new PathLayout('{namespace}/{name}');
    expect(bare.pathOf('t', { ...identity, name: 'web' })).toEqual({ path: 't/shop/web' });
    expect(bare.pathOf('t', { ...identity, name: '.git' })).toEqual({ problem: 'layout produced an unsafe path "shop/.git"' });
  });

  it('shortens a segment over 255 bytes to a readable prefix and a hash, the same every time', () => {
    const name = 'x'.repeat(253);
    const first = new PathLayout().pathOf('t', { ...identity, name }) as { path: string };
    const file = first.path.split('/').pop() as string;
    expect(Buffer.byteLength(file)).toBe(255);
    expect(file).toMatch(/^x{237}~[0-9a-f]{12}\.yaml$/);
    expect(new PathLayout().pathOf('t', { ...identity, name })).toEqual(first);
    expect((new PathLayout().pathOf('t', { ...identity, name: `${'x'.repeat(252)}y` }) as { path: string }).path).not.toBe(first.path);
  });

  it('gives each object a plain and a SOPS file name no other object has: a plain name never ends in .sops.yaml', () => {
    const layout = new PathLayout();
    const of = (name: string) => layout.pathOf('t', { ...identity, name }) as { path: string; encrypted: string };
    expect(of('db')).toEqual({ path: 't/shop/apps/deployments/db.yaml', encrypted: 't/shop/apps/deployments/db.sops.yaml' });
    expect(of('db.sops')).toEqual({ path: 't/shop/apps/deployments/db%2Esops.yaml', encrypted: 't/shop/apps/deployments/db.sops.sops.yaml' });
    // Even the folder's SOPS config file name is not an object's plain file.
    expect(of('.sops').path).toBe('t/shop/apps/deployments/%2Esops.yaml');
    const names = ['db', 'db.sops', 'db.sops.sops', 'db.yaml', 'db.sops.yaml', 'a.sops.b'];
    const all = names.flatMap((name) => [of(name).path, of(name).encrypted]);
    expect(new Set(all).size).toBe(all.length);
  });

  it('a long name keeps ".sops.yaml" whole in its shortened SOPS file name, within 255 bytes', () => {
    const name = 'x'.repeat(250);
    const { path, encrypted } = new PathLayout().pathOf('t', { ...identity, name }) as { path: string; encrypted: string };
    const file = encrypted.split('/').pop() as string;
    expect(Buffer.byteLength(file)).toBe(255);
    expect(file).toMatch(/^x{232}~[0-9a-f]{12}\.sops\.yaml$/);
    expect(path.split('/').pop()).toBe(`${name}.yaml`);
  });

  it('never names an object`s file as kustomize names a folder`s kustomization: the first letter is written %XX', () => {
    const cm = { ...identity, group: '', resource: 'configmaps', kind: 'ConfigMap', name: 'kustomization' };
    expect(new PathLayout().pathOf('t', cm)).toEqual({ path: 't/shop/configmaps/%6Bustomization.yaml', encrypted: 't/shop/configmaps/kustomization.sops.yaml' });
    expect(new PathLayout('{namespace}/{name}').pathOf('t', { ...cm, name: 'kustomization.yml' })).toEqual({ path: 't/shop/%6Bustomization.yml' });
    expect(new PathLayout('{namespace}/{name}/{kind}').pathOf('t', { ...cm, name: 'app', kind: 'Kustomization' })).toEqual({ path: 't/shop/app/%4Bustomization' });
    // Any case (a checkout on a case-insensitive disk), and nothing else.
    expect(new PathLayout('{name}').pathOf('', { ...cm, name: 'KUSTOMIZATION.YAML' })).toEqual({ path: '%4BUSTOMIZATION.YAML' });
    expect(new PathLayout().pathOf('t', { ...cm, name: 'kustomization-app' })).toMatchObject({ path: 't/shop/configmaps/kustomization-app.yaml' });
    // A folder may be named so: only a file is read as a kustomization.
    expect(new PathLayout('{name}/manifest.yaml').pathOf('t', { ...cm, name: 'kustomization.yaml' })).toMatchObject({ path: 't/kustomization.yaml/manifest.yaml' });
  });

  it('refuses templates that could escape or collide', () => {
    expect(() => new PathLayout('../{name}.yaml')).toThrow(/relative path without/);
    expect(() => new PathLayout('/{name}.yaml')).toThrow(/relative path without/);
    expect(() => new PathLayout('{namespace}.yaml')).toThrow(/does not contain \{name\}/);
  });
});

describe('commit messages and authors', () => {
  it('fills event templates, with {namespace/} empty for cluster-scoped objects', () => {
    expect(renderMessage('[{operation}] {apiVersion}/{resource}/{namespace/}{name}', { operation: 'UPDATE', identity })).toBe('[UPDATE] apps/v1/deployments/shop/web');
    expect(renderMessage('[{operation}] {apiVersion}/{resource}/{namespace/}{name}', { operation: 'CREATE', identity: { ...identity, group: '', resource: 'namespaces', namespace: '' } })).toBe(
      '[CREATE] v1/namespaces/web',
    );
  });

  it('derives authors from actors', () => {
    const committer = { name: 'gitops-reverser', email: 'bot@localhost' };
    expect(authorOf({ username: 'jane@corp.example' }, committer, 'dev.cluster.local')).toEqual({ name: 'jane@corp.example', email: 'jane@corp.example' });
    expect(authorOf({ username: 'kubernetes-admin' }, committer, 'dev.cluster.local')).toEqual({ name: 'kubernetes-admin', email: 'kubernetes-admin@dev.cluster.local' });
    expect(authorOf({ username: 'oidc:Jane Doe' }, committer, 'd')).toEqual({ name: 'oidc:Jane Doe', email: 'oidc-Jane-Doe@d' });
    expect(authorOf(undefined, committer, 'd')).toBe(committer);
  });
});

it('{shard} spreads names over 256 folders by their hash, the same folder every time', () => {
  const layout = new PathLayout('{namespace}/{resource}/{shard}/{name}.yaml');
  const identity = { clusterId: 'dev', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'big', name: 'cm-1' };
  const first = layout.pathOf('t', identity);
  const shard = createHash('sha256').update('cm-1').digest('hex').slice(0, 2);
  expect(first).toEqual({ path: `t/big/configmaps/${shard}/cm-1.yaml`, encrypted: `t/big/configmaps/${shard}/cm-1.sops.yaml` });
  expect(layout.pathOf('t', identity)).toEqual(first);
  const shards = new Set(Array.from({ length: 5000 }, (_, i) => (layout.pathOf('t', { ...identity, name: `cm-${i}` }) as { path: string }).path.split('/')[3]));
  expect(shards.size).toBe(256);
});
