import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KubeObject, SinkOutcome } from '@gitops-reverser/contract';
import { controlPlaneBinaries, GitHttpServer, toolBinaries } from '@gitops-reverser/testkit';
import { parseAllDocuments } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { remoteSink, WRITER } from './remote-sink.js';
import { change, git, marker, gitAsync } from './helpers.js';

// What a person wrote into the target folder is never lost to a write of the sink, end to end over
// a real git server: the person's files are made and read with the git CLI (and encrypted with the
// real sops), the sink writes live changes on top.

let server: GitHttpServer;
beforeEach(async () => {
  server = new GitHttpServer({ credentials: WRITER });
  await server.start();
});
afterEach(async () => {
  await server.dispose();
});

function setup(targetOptions = '') {
  return remoteSink(server, { prefix: 'gr-kept-', targetOptions });
}

/** A person's clone with the given files committed and pushed (paths relative to the repository). */
async function personPushes(dir: string, files: Record<string, string>): Promise<string> {
  const clone = join(dir, `person-${Math.random().toString(36).slice(2, 8)}`);
  await gitAsync('clone', '--quiet', server.url('state', true), clone);
  git(clone, 'config', 'user.name', 'A Person');
  git(clone, 'config', 'user.email', 'person@example.com');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(clone, path)), { recursive: true });
    writeFileSync(join(clone, path), text);
  }
  git(clone, 'add', '-A');
  git(clone, 'commit', '--quiet', '--allow-empty', '-m', 'files of a person');
  await gitAsync('-C', clone, 'push', '--quiet', 'origin', 'HEAD:main');
  return clone;
}

async function pull(clone: string): Promise<void> {
  await gitAsync('-C', clone, 'pull', '--quiet', '--rebase');
}

/** The branch's file at `path` as the server has it (undefined when absent). */
function remoteFile(path: string): string | undefined {
  try {
    return git(server.repoPath('state'), 'show', `main:${path}`);
  } catch {
    return undefined;
  }
}

function remoteFiles(): string[] {
  return git(server.repoPath('state'), 'ls-tree', '-r', '--name-only', 'main').trim().split('\n').filter(Boolean);
}

function fieldOf(line: { fields: object }, key: string): unknown {
  return (line.fields as Record<string, unknown>)[key];
}

function rejectedWith(outcome: SinkOutcome | undefined, code: string): boolean {
  return outcome?.status === 'rejected' && outcome.reason.includes(code);
}

const secret = (name: string, namespace: string, encrypted: boolean) =>
  change(name, {
    namespace,
    kind: 'Secret',
    resource: 'secrets',
    object: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace },
      data: { password: encrypted ? 'ENC[AES256_GCM,data:bmV3,iv:aXY=,tag:dGFn,type:str]' : 'bmV3' },
      ...(encrypted ? { sops: { mac: 'ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]', age: [{ recipient: 'age1example' }], version: '3.9.0' } } : {}),
    },
  });

describe('files a person wrote are never lost to a write of the sink', () => {
  it('one Secret of a multi-document *.sops.yaml (a Flux secrets file) is refused alone: the file stays as sops encrypted it, every document still decrypts', async () => {
    const { dir, sink, context, apply } = setup();
    const tools = toolBinaries();
    const keyFile = join(dir, 'key.agekey');
    execFileSync(tools.ageKeygen, ['-o', keyFile], { stdio: 'ignore' });
    const recipient = execFileSync(tools.ageKeygen, ['-y', keyFile], { encoding: 'utf8' }).trim();
    const plain = ['db', 'api', 'mail'].map((name) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\n  namespace: shop\nstringData:\n  password: ${name}-secret\n`).join('---\n');
    const work = join(dir, 'secrets.sops.yaml');
    writeFileSync(work, plain);
    execFileSync(tools.sops, ['--encrypt', '--age', recipient, '--encrypted-regex', '^(data|stringData)$', '--in-place', work]);
    const encrypted = readFileSync(work, 'utf8');
    const decrypt = (text: string) => {
      writeFileSync(work, text);
      return execFileSync(tools.sops, ['--decrypt', work], { encoding: 'utf8', env: { ...process.env, SOPS_AGE_KEY_FILE: keyFile } });
    };
    expect(decrypt(encrypted)).toContain('mail-secret');
    const kustomization = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - secrets.sops.yaml\n';
    await personPushes(dir, { 'clusters/dev/flux/secrets.sops.yaml': encrypted, 'clusters/dev/flux/kustomization.yaml': kustomization });
    await sink.start(context);

    // An update (encrypted, as sanitizer-sops writes it), a delete, and an update as plain text: each
    // would replace or remove one document of a file sops encrypted as a whole.
    const outcomes = await apply(
      secret('db', 'shop', true),
      change('api', { namespace: 'shop', kind: 'Secret', resource: 'secrets', operation: 'delete' }),
      secret('mail', 'shop', false),
      change('other', { namespace: 'shop', data: { k: '1' } }),
    );
    for (const outcome of outcomes.slice(0, 3)) expect(rejectedWith(outcome, 'GR_ERR_GIT_SOPS_FILE_SHARED'), JSON.stringify(outcome)).toBe(true);
    expect(outcomes[0]?.status === 'rejected' && outcomes[0].reason).toContain('clusters/dev/flux/secrets.sops.yaml');
    expect(outcomes[3]).toEqual({ status: 'applied' });
    expect(remoteFile('clusters/dev/flux/secrets.sops.yaml')).toBe(encrypted);
    expect(remoteFile('clusters/dev/flux/kustomization.yaml')).toBe(kustomization);
    expect(remoteFile('clusters/dev/shop/configmaps/other.yaml')).toContain('k: "1"');
    expect(remoteFiles().filter((path) => path.includes('/secrets/'))).toEqual([]);
    const decrypted = decrypt(remoteFile('clusters/dev/flux/secrets.sops.yaml') as string);
    for (const name of ['db', 'api', 'mail']) expect(decrypted).toContain(`${name}-secret`);
  });

  it('prune: Always keeps a multi-document SOPS file whose objects are gone, and says why', async () => {
    const { dir, sink, context, apply, logger } = setup(', prune: Always');
    const shared = [
      'apiVersion: v1\nkind: Secret\nmetadata:\n  name: old\n  namespace: shop\ndata:\n  p: ENC[AES256_GCM,data:eA==,iv:aQ==,tag:dA==,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:bQ==,iv:aQ==,tag:dA==,type:str]\n  version: 3.9.0\n',
      'apiVersion: v1\nkind: Secret\nmetadata:\n  name: older\n  namespace: shop\ndata:\n  p: ENC[AES256_GCM,data:eQ==,iv:aQ==,tag:dA==,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:bQ==,iv:aQ==,tag:dA==,type:str]\n  version: 3.9.0\n',
    ].join('---\n');
    await sink.start(context);
    // The writer wrote both itself (so they are its own wherever they are), then a person merged them into one file.
    await apply(secret('old', 'shop', true), secret('older', 'shop', true));
    const clone = await personPushes(dir, {});
    git(clone, 'rm', '--quiet', 'clusters/dev/shop/secrets/old.sops.yaml', 'clusters/dev/shop/secrets/older.sops.yaml');
    mkdirSync(join(clone, 'clusters/dev/shop'), { recursive: true });
    writeFileSync(join(clone, 'clusters/dev/shop/secrets.sops.yaml'), shared);
    git(clone, 'add', '-A');
    git(clone, 'commit', '--quiet', '-m', 'one file');
    await gitAsync('-C', clone, 'push', '--quiet', 'origin', 'HEAD:main');
    await apply(change('keep', { namespace: 'shop', snapshotId: 's1' }), marker('s1', 1));
    expect(remoteFile('clusters/dev/shop/secrets.sops.yaml')).toBe(shared);
    expect(remoteFile('clusters/dev/shop/configmaps/keep.yaml')).toBeDefined();
    expect(logger.lines.filter((line) => fieldOf(line, 'code') === 'GR_ERR_GIT_SOPS_FILE_SHARED' && line.message.includes('not in the snapshot, kept'))).toHaveLength(2);
  });

  it('a new object whose file is a person`s SOPS file of another object is refused: no document is added under its MAC', async () => {
    const { dir, sink, context, apply } = setup();
    const theirs =
      'apiVersion: v1\nkind: Secret\nmetadata:\n  name: legacy-db\n  namespace: shop\ndata:\n  p: ENC[AES256_GCM,data:eA==,iv:aQ==,tag:dA==,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:bQ==,iv:aQ==,tag:dA==,type:str]\n  version: 3.9.0\n';
    await personPushes(dir, { 'clusters/dev/shop/secrets/db.sops.yaml': theirs });
    await sink.start(context);
    const outcomes = await apply(secret('db', 'shop', true), change('other', { namespace: 'shop' }));
    expect(rejectedWith(outcomes[0], 'GR_ERR_GIT_SOPS_FILE_SHARED')).toBe(true);
    expect(outcomes[1]).toEqual({ status: 'applied' });
    expect(remoteFile('clusters/dev/shop/secrets/db.sops.yaml')).toBe(theirs);
  });

  it('an object named `kustomization` is written to %6Bustomization.yaml and never taken for the folder`s kustomization: `kubectl kustomize` renders it', async () => {
    const { dir, sink, context, apply } = setup(', kustomizations: Create');
    await sink.start(context);
    await apply(change('kustomization', { namespace: 'shop', data: { v: '1' } }), change('other', { namespace: 'shop', data: { v: '1' } }));
    await apply(change('kustomization', { namespace: 'shop', data: { v: '2' } }));
    await apply(change('kustomization', { namespace: 'shop', data: { v: '3' } }));
    const object = remoteFile('clusters/dev/shop/configmaps/%6Bustomization.yaml') as string;
    expect(parseAllDocuments(object).map((d) => d.toJS())).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kustomization', namespace: 'shop' }, data: { v: '3' } }]);
    const folder = parseAllDocuments(remoteFile('clusters/dev/shop/configmaps/kustomization.yaml') as string).map((d) => d.toJS());
    expect(folder).toEqual([{ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['%6Bustomization.yaml', 'other.yaml'] }]);
    const clone = await personPushes(dir, {});
    expect(byKey(kustomize(join(clone, 'clusters/dev')))).toEqual(['ConfigMap shop/kustomization', 'ConfigMap shop/other']);
  });

  it('a ConfigMap an older version wrote to kustomization.yaml is updated there as one document, and a new object is listed by the real kustomization above', async () => {
    const { dir, sink, context, apply } = setup();
    const legacy = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kustomization\n  namespace: shop\ndata:\n  v: "1" # set by hand\n';
    const top = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - shop/configmaps/kustomization.yaml\n';
    await personPushes(dir, { 'clusters/dev/shop/configmaps/kustomization.yaml': legacy, 'clusters/dev/kustomization.yaml': top });
    await sink.start(context);
    expect(await apply(change('kustomization', { namespace: 'shop', data: { v: '2' } }), change('fresh', { namespace: 'shop', data: { v: '1' } }))).toEqual([
      { status: 'applied' },
      { status: 'applied' },
    ]);
    await apply(change('kustomization', { namespace: 'shop', data: { v: '3' } }));
    expect(remoteFile('clusters/dev/shop/configmaps/kustomization.yaml')).toBe(legacy.replace('v: "1"', 'v: "3"'));
    expect(remoteFile('clusters/dev/shop/configmaps/%6Bustomization.yaml')).toBeUndefined();
    expect(remoteFile('clusters/dev/kustomization.yaml')).toBe(`${top}  - shop/configmaps/fresh.yaml\n`);
  });

  it('kustomizations: Create never writes a kustomization over an object`s file named kustomization.yaml', async () => {
    const { dir, sink, context, apply, logger } = setup(', kustomizations: Create');
    const legacy = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kustomization\n  namespace: shop\ndata:\n  v: "1"\n';
    await personPushes(dir, { 'clusters/dev/shop/configmaps/kustomization.yaml': legacy });
    await sink.start(context);
    expect(await apply(change('fresh', { namespace: 'shop', data: { v: '1' } }))).toEqual([{ status: 'applied' }]);
    expect(remoteFile('clusters/dev/shop/configmaps/kustomization.yaml')).toBe(legacy);
    expect(remoteFile('clusters/dev/shop/configmaps/fresh.yaml')).toContain('v: "1"');
    // The folder above lists the new file itself.
    expect(parseAllDocuments(remoteFile('clusters/dev/shop/kustomization.yaml') as string).map((d) => d.toJS())).toEqual([
      { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['configmaps/fresh.yaml'] },
    ]);
    expect(logger.lines.some((line) => line.level === 'warn' && line.message.includes('no kustomization made in clusters/dev/shop/configmaps'))).toBe(true);
  });

  it('a delete removes only the document of its namespace from a file that also holds a same-named object without metadata.namespace; so does a prune of a file changed in the same commit', async () => {
    const { dir, sink, context, apply } = setup(', prune: Always');
    // Under the default layout the document without namespace belongs to `a` (its path says so).
    const both = (bValue: string) =>
      `# x of a, and a copy of b's x\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  v: "a"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: b\ndata:\n  v: "${bValue}"\n`;
    await personPushes(dir, { 'clusters/dev/a/configmaps/x.yaml': both('b') });
    await sink.start(context);
    expect(await apply(change('x', { namespace: 'b', operation: 'delete' }))).toEqual([{ status: 'applied' }]);
    expect(remoteFile('clusters/dev/a/configmaps/x.yaml')).toBe('# x of a, and a copy of b\'s x\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  v: "a"\n');

    // The writer writes b/x (its own from now on), a person puts it back beside a/x; a snapshot
    // that updates a/x and no longer holds b/x prunes b's document only.
    await apply(change('x', { namespace: 'b', data: { v: 'b' } }));
    const clone = await personPushes(dir, {});
    git(clone, 'rm', '--quiet', 'clusters/dev/b/configmaps/x.yaml');
    writeFileSync(join(clone, 'clusters/dev/a/configmaps/x.yaml'), both('b'));
    git(clone, 'add', '-A');
    git(clone, 'commit', '--quiet', '-m', 'b/x back into a file of a');
    await gitAsync('-C', clone, 'push', '--quiet', 'origin', 'HEAD:main');
    await apply(change('x', { namespace: 'a', data: { v: 'a2' }, snapshotId: 's1' }), marker('s1', 1));
    // a/x is written as the cluster has it (its namespace too); b's document is gone.
    expect(remoteFile('clusters/dev/a/configmaps/x.yaml')).toBe('# x of a, and a copy of b\'s x\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: a\ndata:\n  v: "a2"\n');
  });

  it('a new object never removes a person`s comment-only or unparsable file at its SOPS path; a SOPS file that holds only its encrypted form goes and leaves the kustomization', async () => {
    const { dir, sink, context, apply } = setup();
    const notes = "# app's secrets go here once we have them\n";
    const broken = 'data: {password: [unclosed\n';
    const variant = 'data:\n  password: ENC[AES256_GCM,data:eA==,iv:aQ==,tag:dA==,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:bQ==,iv:aQ==,tag:dA==,type:str]\n  version: 3.9.0\n';
    const top = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - shop/configmaps/old.sops.yaml\n';
    const clone = await personPushes(dir, {
      'clusters/dev/shop/configmaps/app.sops.yaml': notes,
      'clusters/dev/shop/configmaps/web.sops.yaml': broken,
      'clusters/dev/shop/configmaps/old.sops.yaml': variant,
      'clusters/dev/kustomization.yaml': top,
    });
    await sink.start(context);
    expect(await apply(change('app', { namespace: 'shop' }), change('web', { namespace: 'shop' }), change('old', { namespace: 'shop' }))).toEqual([
      { status: 'applied' },
      { status: 'applied' },
      { status: 'applied' },
    ]);
    await pull(clone);
    expect(readFileSync(join(clone, 'clusters/dev/shop/configmaps/app.sops.yaml'), 'utf8')).toBe(notes);
    expect(readFileSync(join(clone, 'clusters/dev/shop/configmaps/web.sops.yaml'), 'utf8')).toBe(broken);
    expect(existsSync(join(clone, 'clusters/dev/shop/configmaps/old.sops.yaml'))).toBe(false);
    expect(readFileSync(join(clone, 'clusters/dev/kustomization.yaml'), 'utf8')).toBe(
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - shop/configmaps/app.yaml\n  - shop/configmaps/web.yaml\n  - shop/configmaps/old.yaml\n',
    );
    for (const name of ['app', 'web', 'old']) expect(existsSync(join(clone, `clusters/dev/shop/configmaps/${name}.yaml`))).toBe(true);
  });

  it('a pushed alias bomb is not read: logged once with its code and path, the object it names is refused, everything else is written', async () => {
    const { dir, sink, context, apply, logger } = setup();
    let lol = '  l0: &l0 "lol"\n';
    for (let level = 1; level <= 9; level++) lol += `  l${level}: &l${level} [${Array.from({ length: 9 }, () => `*l${level - 1}`).join(', ')}]\n`;
    const bomb = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: shop\ndata:\n${lol}`;
    await personPushes(dir, { 'clusters/dev/laughs.yaml': bomb });
    await sink.start(context);
    const first = await apply(change('x', { namespace: 'shop', data: { v: '1' } }), change('y', { namespace: 'shop', data: { v: '1' } }));
    expect(rejectedWith(first[0], 'GR_ERR_GIT_FILE_UNREADABLE')).toBe(true);
    expect(first[0]?.status === 'rejected' && first[0].reason).toContain('aliases used more than 10000 times');
    expect(first[1]).toEqual({ status: 'applied' });
    await apply(change('y', { namespace: 'shop', data: { v: '2' } }));
    expect(remoteFile('clusters/dev/laughs.yaml')).toBe(bomb);
    expect(remoteFile('clusters/dev/shop/configmaps/y.yaml')).toContain('v: "2"');
    expect(remoteFile('clusters/dev/shop/configmaps/x.yaml')).toBeUndefined();
    const warnings = logger.lines.filter((line) => fieldOf(line, 'code') === 'GR_ERR_GIT_YAML_ALIASES');
    expect(warnings).toHaveLength(1);
    expect(warnings[0] && fieldOf(warnings[0], 'path')).toBe('clusters/dev/laughs.yaml');
    expect(warnings[0]?.message).toContain('clusters/dev/laughs.yaml');
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
