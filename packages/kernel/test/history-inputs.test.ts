import type { KubeObject } from '@gitops-reverser/contract';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fieldChangeLines, fieldChanges, secretValues } from '../src/cli/field-diff.js';
import { historyEntryOf } from '../src/cli/history-entry.js';
import { parseSelector } from '../src/cli/object-selector.js';
import { parsePointInTime, parseTime } from '../src/cli/point-in-time.js';
import { inRestoreOrder } from '../src/cli/restore-order.js';
import { seedDifferences } from '../src/cli/seed-drift.js';

// The pure parts of history, diff and restore: what people type, and what is shown to them.

describe('parseSelector', () => {
  it('tells objects, namespaces and paths apart by the capital letter of a Kind', () => {
    expect(parseSelector('ConfigMap/team-a/settings')).toEqual({ kind: 'object', object: { kind: 'ConfigMap', namespace: 'team-a', name: 'settings' } });
    expect(parseSelector('apps/Deployment/team-a/web')).toEqual({ kind: 'object', object: { group: 'apps', kind: 'Deployment', namespace: 'team-a', name: 'web' } });
    expect(parseSelector('core/Secret/team-a/db')).toEqual({ kind: 'object', object: { group: '', kind: 'Secret', namespace: 'team-a', name: 'db' } });
    expect(parseSelector('Namespace/team-a')).toEqual({ kind: 'object', object: { kind: 'Namespace', namespace: '', name: 'team-a' } });
    expect(parseSelector('rbac.authorization.k8s.io/ClusterRole/system:view')).toEqual({
      kind: 'object',
      object: { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole', namespace: '', name: 'system:view' },
    });
    expect(parseSelector('team-a')).toEqual({ kind: 'namespace', namespace: 'team-a' });
    expect(parseSelector('namespace:team-a')).toEqual({ kind: 'namespace', namespace: 'team-a' });
    expect(parseSelector('clusters/dev/team-a/')).toEqual({ kind: 'path', path: 'clusters/dev/team-a' });
    expect(parseSelector('./clusters/dev/x.yaml')).toEqual({ kind: 'path', path: 'clusters/dev/x.yaml' });
    expect(parseSelector('path:clusters//dev')).toEqual({ kind: 'path', path: 'clusters/dev' });
  });

  it('refuses what names nothing, with the forms it accepts', () => {
    for (const bad of ['', 'ConfigMap', 'Team_A', 'configmap/Team-A/x/y/z/Q', 'ConfigMap/Team-A/x', 'apps/Deployment', 'path:../etc', 'path:/abs']) {
      expect(() => parseSelector(bad), bad).toThrow(expect.objectContaining({ code: 'GR_ERR_CLI_SELECTOR' }));
    }
    try {
      parseSelector('ConfigMap');
    } catch (error) {
      expect((error as { fix?: string }).fix).toContain('ConfigMap/<namespace>/<name>');
    }
  });
});

describe('times', () => {
  const now = new Date('2026-11-22T12:00:00Z');
  it('reads ISO times (UTC without a zone), times ago and now', () => {
    expect(parseTime('2026-11-20', '--since', now).toISOString()).toBe('2026-11-20T00:00:00.000Z');
    expect(parseTime('2026-11-20T14:30', '--since', now).toISOString()).toBe('2026-11-20T14:30:00.000Z');
    expect(parseTime('2026-11-20 14:30:05+01:00', '--since', now).toISOString()).toBe('2026-11-20T13:30:05.000Z');
    expect(parseTime('36h', '--since', now).toISOString()).toBe('2026-11-21T00:00:00.000Z');
    expect(parseTime('2d ago', '--since', now).toISOString()).toBe('2026-11-20T12:00:00.000Z');
    expect(parseTime('now', '--until', now)).toEqual(now);
  });

  it('takes a commit for --at, and refuses what is neither a time nor a revision', () => {
    expect(parsePointInTime('3f2a1c9', '--at', now)).toBe('3f2a1c9');
    expect(parsePointInTime('main~3', '--at', now)).toBe('main~3');
    expect(parsePointInTime('1h', '--at', now)).toEqual(new Date('2026-11-22T11:00:00Z'));
    for (const [text, parse] of [
      ['2026-02-30', parseTime],
      ['2026-13-01', parsePointInTime],
      ['last tuesday', parsePointInTime],
      ['abc', parseTime],
    ] as const) {
      expect(() => parse(text, '--at', now), text).toThrow(expect.objectContaining({ code: 'GR_ERR_CLI_TIME' }));
    }
  });
});

describe('fieldChanges', () => {
  it('lists changed, added and removed leaves in document order, never showing ciphertext', () => {
    const before = { data: { a: '1', b: '2' }, spec: { containers: [{ image: 'x:1' }] }, sops: { mac: 'm1' } };
    const after = { data: { a: '1', c: '3' }, spec: { containers: [{ image: 'x:2' }, { image: 'y' }] }, sops: { mac: 'm2' } };
    expect(fieldChanges(before, after)).toEqual([
      { path: 'data.b', before: '2' },
      { path: 'data.c', after: '3' },
      { path: 'spec.containers[0].image', before: 'x:1', after: 'x:2' },
      { path: 'spec.containers[1]', after: { image: 'y' } },
    ]);
    expect(fieldChanges({ data: { p: 'ENC[AES256_GCM,data:a]' } }, { data: { p: 'ENC[AES256_GCM,data:b]', q: 'ENC[AES256_GCM,data:c]' } })).toEqual([{ path: 'data.q', after: '(encrypted)' }]);
    expect(
      fieldChangeLines([
        { path: 'a', before: 1, after: 2 },
        { path: 'b', after: 'x' },
        { path: 'c', before: true },
      ]),
    ).toEqual(['~ a: 1 -> 2', '+ b: "x"', '- c: true']);
    expect(
      fieldChangeLines(
        Array.from({ length: 14 }, (_, i) => ({ path: `k${i}`, after: i })),
        12,
      ).at(-1),
    ).toBe('  ... 2 more field(s)');
    expect(fieldChanges({}, { data: { k: 'ENC[AES256_GCM,data:x]' } })).toEqual([{ path: 'data', after: { k: '(encrypted)' } }]);
  });
});

describe('secretValues', () => {
  it("hides a Secret's data and whatever the stored file held encrypted, also once decrypted", () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', data: { p: 'aHVudGVy' }, type: 'Opaque' };
    expect(fieldChanges(secret, { ...secret, data: { p: 'Y2hhbmdlZA==' }, type: 'x' }, secretValues(secret))).toEqual([
      { path: 'data.p', before: '(hidden)', after: '(hidden)' },
      { path: 'type', before: 'Opaque', after: 'x' },
    ]);
    const stored = { apiVersion: 'example.com/v1', kind: 'Credential', spec: { token: 'ENC[AES256_GCM,data:a]', user: 'me' } };
    const decrypted = { ...stored, spec: { token: 's3cret', user: 'me' } };
    const live = { ...stored, spec: { token: 'other', user: 'you' } };
    expect(fieldChanges(live, decrypted, secretValues(stored))).toEqual([
      { path: 'spec.token', before: '(hidden)', after: '(hidden)' },
      { path: 'spec.user', before: 'you', after: 'me' },
    ]);
    expect(fieldChanges({}, decrypted, secretValues(stored))).toEqual([
      { path: 'apiVersion', after: 'example.com/v1' },
      { path: 'kind', after: 'Credential' },
      { path: 'spec', after: '(hidden)' },
    ]);
  });
});

describe('historyEntryOf', () => {
  const revision = (subject: string, trailers: Record<string, string[]>) => ({
    id: 'c0ffee',
    time: '2026-11-20T10:00:00.000Z',
    recordedAt: '2026-11-20T10:00:01.000Z',
    author: { name: 'bob', email: 'bob@dev.cluster.local' },
    subject,
    body: '',
    trailers,
  });
  it('reads the operation from the subject and the attribution from the trailers', () => {
    const entry = historyEntryOf({
      revision: revision('[UPDATE] v1/configmaps/a/b', { Cluster: ['dev'], 'Resource-Version': ['12'], Attribution: ['audit'], 'Audit-ID': ['a-1'], 'Impersonated-By': ['admin'] }),
      path: 'clusters/dev/a/configmaps/b.yaml',
      before: 'data:\n  v: "1"\n',
      after: 'data:\n  v: "2"\n',
    });
    expect(entry).toMatchObject({
      operation: 'UPDATE',
      attribution: { by: 'audit', id: 'a-1', impersonatedBy: 'admin' },
      resourceVersion: '12',
      cluster: 'dev',
      fields: [{ path: 'data.v', before: '1', after: '2' }],
    });
    expect(historyEntryOf({ revision: revision('reconciled 3 resources', { Cluster: ['dev'] }), path: 'p', after: 'a: 1\n' })).toMatchObject({ operation: 'CREATE', attribution: { by: 'none' } });
    expect(historyEntryOf({ revision: revision('tidy up', {}), path: 'q', previousPath: 'p', before: 'a: 1\n', after: 'a: 1\n' })).toMatchObject({ operation: 'MOVE', attribution: { by: 'git' } });
    expect(historyEntryOf({ revision: revision('[DELETE] v1/configmaps/a/b', { Attribution: ['field-manager'], 'Field-Manager': ['kubectl'] }), path: 'p', before: 'a: 1\n' })).toMatchObject({
      operation: 'DELETE',
      attribution: { by: 'field-manager', fieldManager: 'kubectl' },
    });
  });
});

describe('seedDifferences', () => {
  const seed = (name: string, yaml: string) => ({
    identity: { clusterId: 'dev', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'a', name },
    object: parse(yaml) as KubeObject,
    yaml,
  });
  /** A stored document of ConfigMap a/<name>, as the stored history resolves it. */
  const stored = (path: string, text: string, document = 0) => {
    const object = parse(text) as KubeObject;
    return { path, document, name: { group: '', kind: 'ConfigMap', namespace: 'a', name: object.metadata?.name as string }, text, object };
  };
  const asStored = (s: { object: KubeObject }) => s.object;
  const file = (name: string, data: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: a\ndata:\n  v: "${data}"\n`;
  const pathOf = (s: { identity: { name: string } }) => `a/configmaps/${s.identity.name}.yaml`;
  it('finds missing, different, moved and gone objects; gone is drift only where a seed removes files', () => {
    const input = {
      seed: [
        seed('same', file('same', '1')),
        seed('changed', file('changed', '2')),
        seed('new', file('new', '1')),
        seed('moved', file('moved', '1')),
        seed('moved-changed', file('moved-changed', '2')),
        seed('commented', file('commented', '1')),
      ],
      stored: [
        stored('a/configmaps/same.yaml', file('same', '1')),
        stored('a/configmaps/changed.yaml', file('changed', '1')),
        stored('a/elsewhere/moved.yaml', file('moved', '1')),
        stored('a/elsewhere/moved-changed.yaml', file('moved-changed', '1')),
        // A person's comment and key order: the writer edits values in place and keeps them.
        stored('a/configmaps/commented.yaml', `# ours\nkind: ConfigMap\napiVersion: v1\nmetadata:\n  namespace: a\n  name: commented\ndata:\n  v: "1" # one\n`),
        stored('a/configmaps/old.yaml', file('old', '1')),
      ],
      pathOf,
      storedFormOf: asStored,
      removesMissing: false,
      partial: false,
    };
    const kept = seedDifferences(input);
    expect(kept.map((d) => [d.state, d.object.name, d.path, d.drift])).toEqual([
      ['different', 'changed', 'a/configmaps/changed.yaml', true],
      ['missing', 'new', 'a/configmaps/new.yaml', true],
      // A moved file stays where the person put it (ADR 0020): drift only when its values differ.
      ['moved', 'moved', 'a/configmaps/moved.yaml', false],
      ['moved', 'moved-changed', 'a/configmaps/moved-changed.yaml', true],
      ['gone', 'old', 'a/configmaps/old.yaml', false],
    ]);
    expect(kept[0]?.fields).toEqual([{ path: 'data.v', before: '1', after: '2' }]);
    expect(kept[2]?.storedPath).toBe('a/elsewhere/moved.yaml');
    expect(kept[2]?.note).toContain('kept');
    expect(kept[3]?.fields).toEqual([{ path: 'data.v', before: '1', after: '2' }]);
    expect(seedDifferences({ ...input, removesMissing: true }).find((d) => d.state === 'gone')?.drift).toBe(true);
    expect(seedDifferences({ ...input, removesMissing: true, partial: true }).find((d) => d.state === 'gone')?.drift).toBe(false);
    expect(seedDifferences({ ...input, seed: [seed('same', file('same', '1'))], stored: [stored('a/configmaps/same.yaml', file('same', '1'))] })).toEqual([]);
  });
});

describe('seedDifferences of a file a person wrote', () => {
  // Two ConfigMaps in one file without metadata.namespace: a kustomization's namespace: a sets it, and
  // the stored history resolves the documents' names so (the target leaves metadata.namespace out).
  const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\ndata:\n  v: "1"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\ndata:\n  v: "2"\n';
  const [first, second] = text.split('---\n') as [string, string];
  const document = (index: number, yaml: string) => {
    const object = parse(yaml) as KubeObject;
    return { path: 'apps/team/configs.yaml', document: index, name: { group: '', kind: 'ConfigMap', namespace: 'a', name: object.metadata?.name as string }, text: yaml, object };
  };
  const live = (name: string, v: string) => {
    const object: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'a' }, data: { v } };
    return { identity: { clusterId: 'dev', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'a', name }, object, yaml: `rendered ${name}` };
  };
  const withoutNamespace = (s: { object: KubeObject }) => {
    const { namespace: _, ...metadata } = s.object.metadata ?? {};
    return { ...s.object, metadata };
  };
  const input = (seed: ReturnType<typeof live>[]) => ({
    seed,
    stored: [document(0, first), document(1, second)],
    pathOf: (s: { identity: { name: string } }) => `a/configmaps/${s.identity.name}.yaml`,
    storedFormOf: withoutNamespace,
    removesMissing: false,
    partial: false,
  });

  it('each object is compared with its own document by values: both in step, kept where the person put them', () => {
    const differences = seedDifferences(input([live('one', '1'), live('two', '2')]));
    expect(differences.map((d) => [d.state, d.object.name, d.storedPath, d.drift])).toEqual([
      ['moved', 'one', 'apps/team/configs.yaml', false],
      ['moved', 'two', 'apps/team/configs.yaml', false],
    ]);
  });

  it('a change of one object is drift of that object only; an object the cluster no longer has is gone', () => {
    const differences = seedDifferences(input([live('one', '9')]));
    expect(differences.map((d) => [d.state, d.object.name, d.drift])).toEqual([
      ['moved', 'one', true],
      ['gone', 'two', false],
    ]);
    expect(differences[0]?.fields).toEqual([{ path: 'data.v', before: '1', after: '9' }]);
  });
});

describe('inRestoreOrder', () => {
  it('writes Namespaces, then CRDs, then cluster-scoped objects, then namespaced ones (referenced kinds first)', () => {
    const o = (apiVersion: string, kind: string, namespace: string, name: string) => ({ apiVersion, kind, namespace, name });
    const ordered = inRestoreOrder([
      o('apps/v1', 'Deployment', 'a', 'web'),
      o('example.com/v1', 'Widget', 'a', 'w'),
      o('v1', 'ConfigMap', 'a', 'c'),
      o('rbac.authorization.k8s.io/v1', 'ClusterRole', '', 'r'),
      o('apiextensions.k8s.io/v1', 'CustomResourceDefinition', '', 'widgets.example.com'),
      o('v1', 'ServiceAccount', 'a', 'sa'),
      o('v1', 'Namespace', '', 'a'),
    ]);
    expect(ordered.map((x) => x.kind)).toEqual(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ServiceAccount', 'ConfigMap', 'Deployment', 'Widget']);
  });
});
