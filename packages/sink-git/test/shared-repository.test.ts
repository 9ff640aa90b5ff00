import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { KubeObject } from '@gitops-reverser/contract';
import { controlPlaneBinaries, GitHttpServer, toolBinaries } from '@gitops-reverser/testkit';
import { parseAllDocuments } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { remoteSink, WRITER } from './remote-sink.js';
import { change, git, marker, gitAsync } from './helpers.js';

// A repository people and this sink share, end to end over a real git server: people clone, move,
// comment and write kustomizations with the git CLI and push; the sink keeps writing live changes on
// top. The placement logic is the same for both engines (it never talks to the remote), so this
// suite runs with the default one.

let server: GitHttpServer;
beforeEach(async () => {
  server = new GitHttpServer({ credentials: WRITER });
  await server.start();
});
afterEach(async () => {
  await server.dispose();
});

function setup(targetOptions = '') {
  return remoteSink(server, { prefix: 'gr-shared-', targetOptions });
}

/** A person's clone, with the git CLI. */
async function personClone(dir: string): Promise<string> {
  const clone = join(dir, `person-${Math.random().toString(36).slice(2, 8)}`);
  await gitAsync('clone', '--quiet', server.url('state', true), clone);
  git(clone, 'config', 'user.name', 'A Person');
  git(clone, 'config', 'user.email', 'person@example.com');
  return clone;
}

async function pull(clone: string): Promise<void> {
  await gitAsync('-C', clone, 'pull', '--quiet', '--rebase');
}

async function commitAndPush(clone: string, message: string): Promise<void> {
  git(clone, 'add', '-A');
  git(clone, 'commit', '--quiet', '-m', message);
  await gitAsync('-C', clone, 'push', '--quiet', 'origin', 'HEAD:main');
}

/** Every file under `folder` of a checkout (paths relative to it). */
function filesUnder(folder: string): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      if (name === '.git') continue;
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(folder, path));
    }
  };
  if (existsSync(folder)) walk(folder);
  return out.sort();
}

/** `kind namespace/name` -> the files holding a document of it, over every YAML file of a folder. */
function objectsIn(folder: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const path of filesUnder(folder)) {
    if (!/\.ya?ml$/.test(path)) continue;
    for (const document of parseAllDocuments(readFileSync(join(folder, path), 'utf8'))) {
      const data = document.toJS() as KubeObject | null;
      if (!data?.kind || !data.metadata?.name || data.kind === 'Kustomization') continue;
      const key = `${data.kind} ${data.metadata.namespace ?? ''}/${data.metadata.name}`;
      found.set(key, [...(found.get(key) ?? []), path]);
    }
  }
  return found;
}

const cm = (name: string, namespace: string, data: Record<string, string>, snapshotId?: string) => change(name, { namespace, data, ...(snapshotId ? { snapshotId } : {}) });

describe('a repository people and the sink share', () => {
  it('a person moves 100 files into apps/<team>/ and pushes: the next live changes update the moved files, and no object ever has two files', async () => {
    const { dir, sink, context, apply } = setup();
    await sink.start(context);
    const names = Array.from({ length: 120 }, (_, i) => ({ name: `cm-${String(i).padStart(3, '0')}`, namespace: i % 2 === 0 ? 'shop-a' : 'shop-b' }));
    const seeded = await apply(...names.map(({ name, namespace }) => cm(name, namespace, { v: '1' }, 's1')), marker('s1', names.length));
    expect(seeded.every((o) => o.status === 'applied')).toBe(true);

    const clone = await personClone(dir);
    const moved = names.slice(0, 100);
    for (const [i, { name, namespace }] of moved.entries()) {
      const from = `clusters/dev/${namespace}/configmaps/${name}.yaml`;
      const to = `clusters/dev/apps/team-${i % 4}/${name}.yaml`;
      mkdirSync(dirname(join(clone, to)), { recursive: true });
      git(clone, 'mv', from, to);
      writeFileSync(join(clone, to), `# ${name}: owned by team-${i % 4}\n${readFileSync(join(clone, to), 'utf8').replace('  v: "1"\n', '  v: "1" # the version\n')}`);
    }
    await commitAndPush(clone, 'move 100 ConfigMaps into apps/');

    // Live changes of every object, each its own commit: the first push finds the person's commit,
    // and every change is placed again on it.
    const outcomes = await apply(...names.map(({ name, namespace }) => cm(name, namespace, { v: '2' })));
    expect(outcomes.every((o) => o.status === 'applied')).toBe(true);
    await pull(clone);
    const objects = objectsIn(join(clone, 'clusters/dev'));
    expect(objects.size).toBe(120);
    for (const [key, files] of objects) expect(files, key).toHaveLength(1);
    for (const [i, { name }] of moved.entries()) {
      const text = readFileSync(join(clone, `clusters/dev/apps/team-${i % 4}/${name}.yaml`), 'utf8');
      expect(text).toContain(`# ${name}: owned by team-${i % 4}`);
      expect(text).toContain('  v: "2" # the version\n');
    }
    expect(filesUnder(join(clone, 'clusters/dev')).filter((path) => path.includes('/configmaps/'))).toHaveLength(20);

    // A delete removes the moved file; a new object goes to the layout path.
    await apply(change('cm-000', { namespace: 'shop-a', operation: 'delete' }), cm('fresh', 'shop-a', { v: '1' }));
    await pull(clone);
    const after = objectsIn(join(clone, 'clusters/dev'));
    expect(after.has('ConfigMap shop-a/cm-000')).toBe(false);
    expect(after.get('ConfigMap shop-a/fresh')).toEqual(['shop-a/configmaps/fresh.yaml']);
    git(server.repoPath('state'), 'fsck', '--strict');
  });

  it('kustomizations: Create gives every folder one and `kubectl kustomize` renders exactly the live objects, namespaces set by them (omitNamespace)', async () => {
    const { dir, sink, context, apply } = setup(', kustomizations: Create, omitNamespace: true');
    await sink.start(context);
    const live = new Map<string, KubeObject>();
    const upsert = (name: string, namespace: string, data: Record<string, string>) => {
      const message = cm(name, namespace, data);
      live.set(`${namespace}/${name}`, message.event.object as KubeObject);
      return message;
    };
    await apply(upsert('a', 'shop-a', { k: '1' }), upsert('b', 'shop-a', { k: '2' }), upsert('c', 'shop-b', { k: '3' }));
    await apply(upsert('a', 'shop-a', { k: 'changed' }), change('b', { namespace: 'shop-a', operation: 'delete' }), upsert('d', 'shop-c', { k: '4' }));
    live.delete('shop-a/b');
    const clone = await personClone(dir);
    const rendered = kustomize(join(clone, 'clusters/dev'));
    expect(byKey(rendered)).toEqual(byKey([...live.values()]));
    for (const path of filesUnder(join(clone, 'clusters/dev')).filter((p) => !p.endsWith('kustomization.yaml'))) {
      expect(readFileSync(join(clone, 'clusters/dev', path), 'utf8')).not.toContain('namespace:');
    }
    // Every object of a namespace deleted: its kustomizations go, and the folder is unlisted above.
    await apply(change('d', { namespace: 'shop-c', operation: 'delete' }));
    live.delete('shop-c/d');
    await pull(clone);
    expect(filesUnder(join(clone, 'clusters/dev')).some((p) => p.startsWith('shop-c/'))).toBe(false);
    expect(byKey(kustomize(join(clone, 'clusters/dev')))).toEqual(byKey([...live.values()]));
  });

  it('omitNamespace: a person merges a namespace`s objects into apps/<team>/all.yaml under a kustomization that sets the namespace; live changes go there, never to a second file', async () => {
    const { dir, sink, context, apply } = setup(', kustomizations: Create, omitNamespace: true');
    await sink.start(context);
    await apply(cm('a', 'team-a', { k: '1' }), cm('b', 'team-a', { k: '2' }), cm('c', 'team-b', { k: '3' }));
    const clone = await personClone(dir);
    // The default layout is {namespace}/{resource}/{name}.yaml: apps/team-a/all.yaml has its shape,
    // but names neither the namespace nor an object; the kustomization in its folder says team-a.
    const root = join(clone, 'clusters/dev');
    const documents = ['a', 'b'].map((name) => `# ${name}, by hand\n${readFileSync(join(root, `team-a/configmaps/${name}.yaml`), 'utf8')}`);
    mkdirSync(join(root, 'apps/team-a'), { recursive: true });
    writeFileSync(join(root, 'apps/team-a/all.yaml'), documents.join('---\n'));
    writeFileSync(join(root, 'apps/team-a/kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: team-a\nresources: [all.yaml]\n');
    git(clone, 'rm', '--quiet', '-r', 'clusters/dev/team-a');
    writeFileSync(join(root, 'kustomization.yaml'), readFileSync(join(root, 'kustomization.yaml'), 'utf8').replace('- team-a', '- apps/team-a'));
    await commitAndPush(clone, 'team-a in one file');
    await apply(cm('a', 'team-a', { k: 'changed' }), cm('b', 'team-a', { k: '2' }));
    await pull(clone);
    const objects = objectsIn(root);
    expect(objects.get('ConfigMap /a')).toEqual(['apps/team-a/all.yaml']);
    expect(objects.get('ConfigMap /b')).toEqual(['apps/team-a/all.yaml']);
    expect(filesUnder(root).some((path) => path.startsWith('team-a/'))).toBe(false);
    expect(readFileSync(join(root, 'apps/team-a/all.yaml'), 'utf8')).toBe(documents.join('---\n').replace('k: "1"', 'k: "changed"'));
    expect(byKey(kustomize(root))).toEqual(['ConfigMap team-a/a', 'ConfigMap team-a/b', 'ConfigMap team-b/c']);
  });

  it('omitNamespace leaves metadata.namespace in SOPS files: their MAC covers it, and sops decrypts them', async () => {
    const { dir, sink, context, apply } = setup(', kustomizations: Create, omitNamespace: true');
    await sink.start(context);
    const tools = toolBinaries();
    const key = join(dir, 'key.agekey');
    execFileSync(tools.ageKeygen, ['-o', key], { stdio: 'ignore' });
    const recipient = (/public key: (\S+)/.exec(readFileSync(key, 'utf8')) as RegExpExecArray)[1] as string;
    const sops = (args: string[], text: string) => {
      const file = join(dir, `sops-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(file, text);
      return execFileSync(tools.sops, [...args, file], { encoding: 'utf8', env: { ...process.env, SOPS_AGE_KEY_FILE: key } });
    };
    const plain = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'team-a' }, data: { password: 'aHVudGVy' }, type: 'Opaque' };
    const encrypted = JSON.parse(
      sops(['--encrypt', '--age', recipient, '--encrypted-regex', '^(data|stringData)$', '--input-type', 'json', '--output-type', 'json'], JSON.stringify(plain)),
    ) as KubeObject;
    await apply(change('db', { namespace: 'team-a', kind: 'Secret', resource: 'secrets', object: encrypted }), cm('settings', 'team-a', { k: '1' }));
    const clone = await personClone(dir);
    expect(readFileSync(join(clone, 'clusters/dev/team-a/configmaps/settings.yaml'), 'utf8')).not.toContain('namespace:');
    const stored = readFileSync(join(clone, 'clusters/dev/team-a/secrets/db.sops.yaml'), 'utf8');
    expect(stored).toContain('  namespace: team-a\n');
    expect(JSON.parse(sops(['--decrypt', '--input-type', 'yaml', '--output-type', 'json'], stored))).toEqual(plain);
  });

  it('kustomizations: Maintain keeps a person`s kustomization.yaml listing new and deleted objects, its comments and order kept', async () => {
    const { dir, sink, context, apply } = setup();
    await sink.start(context);
    await apply(cm('one', 'shop', { k: '1' }), cm('two', 'shop', { k: '2' }));
    const clone = await personClone(dir);
    const kustomization = `# The shop, as Flux applies it.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  # the ConfigMaps
  - shop/configmaps/two.yaml
  - ./shop/configmaps/one.yaml   # first one
`;
    writeFileSync(join(clone, 'clusters/dev/kustomization.yaml'), kustomization);
    await commitAndPush(clone, 'a kustomization for the target');
    await apply(cm('three', 'shop', { k: '3' }), change('two', { namespace: 'shop', operation: 'delete' }));
    await pull(clone);
    expect(readFileSync(join(clone, 'clusters/dev/kustomization.yaml'), 'utf8')).toBe(`# The shop, as Flux applies it.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  # the ConfigMaps
  - ./shop/configmaps/one.yaml   # first one
  - shop/configmaps/three.yaml
`);
    expect(byKey(kustomize(join(clone, 'clusters/dev')))).toEqual(['ConfigMap shop/one', 'ConfigMap shop/three']);
  });

  it('prune: Always removes documents of this sink`s objects wherever they live, and never a person`s kustomization, README or objects outside the selection', async () => {
    const { dir, sink, context, apply } = setup(', prune: Always');
    await sink.start(context);
    await apply(cm('keep', 'shop', { k: '1' }, 's1'), cm('gone-at-layout', 'shop', { k: '1' }, 's1'), cm('gone-moved', 'shop', { k: '1' }, 's1'), marker('s1', 3));
    const clone = await personClone(dir);
    mkdirSync(join(clone, 'clusters/dev/apps'), { recursive: true });
    git(clone, 'mv', 'clusters/dev/shop/configmaps/gone-moved.yaml', 'clusters/dev/apps/gone-moved.yaml');
    writeFileSync(join(clone, 'clusters/dev/README.md'), '# dev cluster\n');
    writeFileSync(join(clone, 'clusters/dev/apps/kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [gone-moved.yaml, extra.yaml]\n');
    writeFileSync(join(clone, 'clusters/dev/apps/extra.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: elsewhere # not selected\ndata: {}\n');
    await commitAndPush(clone, 'apps folder');
    // The writer wrote `gone-moved` itself (the seed), so it is its own wherever it lives now.
    await apply(cm('keep', 'shop', { k: '1' }, 's2'), marker('s2', 1));
    await pull(clone);
    expect(filesUnder(join(clone, 'clusters/dev'))).toEqual(['README.md', 'apps/extra.yaml', 'apps/kustomization.yaml', 'shop/configmaps/keep.yaml']);
    expect(readFileSync(join(clone, 'clusters/dev/apps/kustomization.yaml'), 'utf8')).toContain('resources: [extra.yaml]');
  });

  it('two documents of one object: the one at the layout path is kept up to date, the copy is logged, a delete removes both', async () => {
    const { dir, sink, context, apply, logger } = setup();
    await sink.start(context);
    await apply(cm('twin', 'shop', { k: '1' }));
    const clone = await personClone(dir);
    writeFileSync(join(clone, 'clusters/dev/copy.yaml'), readFileSync(join(clone, 'clusters/dev/shop/configmaps/twin.yaml'), 'utf8'));
    await commitAndPush(clone, 'a copy');
    await apply(cm('twin', 'shop', { k: '2' }));
    await pull(clone);
    expect(readFileSync(join(clone, 'clusters/dev/shop/configmaps/twin.yaml'), 'utf8')).toContain('k: "2"');
    expect(readFileSync(join(clone, 'clusters/dev/copy.yaml'), 'utf8')).toContain('k: "1"');
    expect(logger.lines.some((line) => line.level === 'warn' && line.message.includes('is in more than one document'))).toBe(true);
    await apply(change('twin', { namespace: 'shop', operation: 'delete' }));
    await pull(clone);
    expect(objectsIn(join(clone, 'clusters/dev')).size).toBe(0);
  });
});

/** `kubectl kustomize` of a folder, as the objects it renders. */
function kustomize(folder: string): KubeObject[] {
  const out = execFileSync(controlPlaneBinaries().kubectl, ['kustomize', folder], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS() as KubeObject);
}

function byKey(objects: readonly KubeObject[]): string[] {
  return objects.map((o) => `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}`).sort();
}
