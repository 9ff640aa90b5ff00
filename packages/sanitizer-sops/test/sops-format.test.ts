import { randomBytes } from 'node:crypto';
import { memoryLogger } from '@gitops-reverser/contract/conformance';
import type { KubeObject, StoredContent } from '@gitops-reverser/contract';
import { renderYaml } from '@gitops-reverser/kernel';
import { describe, expect, it } from 'vitest';
import { SopsEncoder } from '../src/sops-encoder.js';
import { ageKey, secretEvent, sopsDecrypt, tempDir } from './helpers.js';

const dir = tempDir();
const key = ageKey(dir);
const other = ageKey(dir, 'other');

function encoder(options: Partial<ConstructorParameters<typeof SopsEncoder>[0]> = {}) {
  return new SopsEncoder({
    recipients: [key.recipient],
    identities: [],
    encryptedRegex: '^(data|stringData)$',
    resources: ['secrets'],
    clock: { now: () => Date.parse('2026-11-22T10:00:00.123Z') },
    logger: memoryLogger(),
    ...options,
  });
}

const secret = (data: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'db', namespace: 'shop', labels: { app: 'shop' } },
  type: 'Opaque',
  data,
  ...extra,
});

async function written(object: KubeObject, enc = encoder()): Promise<string> {
  return renderYaml(await enc.normalize(object, { event: secretEvent(object), target: { name: 'live', with: {}, keyPath: 'targets[0]' } }));
}

describe('files the real sops CLI decrypts (MAC verified)', () => {
  it.each([
    ['data', secret({ password: Buffer.from('hunter2').toString('base64'), user: Buffer.from('admin').toString('base64') })],
    ['stringData', secret({}, { stringData: { 'config.yaml': 'a: 1\nb: [x, y]\n', token: 'plain text token' } })],
    ['binary data', secret({ 'key.der': randomBytes(2048).toString('base64') })],
    ['empty data', secret({})],
    ['an empty value', secret({ empty: '' })],
    ['a 1 MiB value', secret({ big: randomBytes(768 * 1024).toString('base64') })],
  ])('%s', async (_case, object) => {
    const text = await written(object);
    const decrypted = JSON.parse(sopsDecrypt(text, key.file)) as KubeObject;
    const { sops: _metadata, ...plain } = decrypted;
    expect(plain).toEqual(JSON.parse(JSON.stringify(object)));
    for (const value of Object.values({ ...(object['data'] as object), ...((object['stringData'] as object) ?? {}) })) {
      if (typeof value === 'string' && value.length > 3) expect(text).not.toContain(value);
    }
    expect(text).toMatch(/^sops:\n {2}age:\n {4}- enc: \|/m);
    expect(text).toContain('encrypted_regex: ^(data|stringData)$');
    expect(text).toContain('lastmodified: "2026-11-22T10:00:00Z"');
  });

  it('encrypts to every recipient; each identity alone decrypts', async () => {
    const text = await written(secret({ a: 'YQ==' }), encoder({ recipients: [key.recipient, other.recipient] }));
    expect(JSON.parse(sopsDecrypt(text, key.file)).data).toEqual({ a: 'YQ==' });
    expect(JSON.parse(sopsDecrypt(text, other.file)).data).toEqual({ a: 'YQ==' });
  });

  it('encrypts the configured paths of other types, keeping their value types (int, float, bool)', async () => {
    const object: KubeObject = {
      apiVersion: 'example.com/v1',
      kind: 'Credential',
      metadata: { name: 'c', namespace: 'n' },
      spec: { retries: 3, ratio: 0.25, enabled: true, nested: [{ secret: 'x' }] },
    };
    const enc = encoder({ resources: ['credentials.example.com'], encryptedRegex: '^spec$' });
    const text = renderYaml(
      await enc.normalize(object, { event: { ...secretEvent(object), identity: { ...secretEvent(object).identity, group: 'example.com', resource: 'credentials', kind: 'Credential' } } }),
    );
    expect(text).toContain('type:int]');
    expect(text).toContain('type:float]');
    expect(text).toContain('type:bool]');
    const { sops: _m, ...plain } = JSON.parse(sopsDecrypt(text, key.file)) as KubeObject;
    expect(plain).toEqual(object);
  });

  it('a MAC over the wrong content is refused by sops (the check is real)', async () => {
    const text = await written(secret({ password: 'aHVudGVyMg==' }));
    const tampered = text.replace('name: db', 'name: dc');
    expect(() => sopsDecrypt(tampered, key.file)).toThrow();
  });
});

describe('no churn: an unchanged Secret keeps its stored file', () => {
  const stored = (text: string): StoredContent => ({ read: async () => text });
  const object = secret({ password: 'aHVudGVyMg==' });
  const target = { name: 'live', with: {}, keyPath: 'targets[0]' };

  it('with identities: decrypted, MAC checked, compared; the stored object comes back as it was', async () => {
    const first = await written(object);
    const enc = encoder({ identities: [key.identity], storedContent: stored(first) });
    expect(renderYaml(await enc.normalize(object, { event: secretEvent(object), target }))).toBe(first);
    // One changed value: encrypted again (a new data key), and still decryptable.
    const changed = secret({ password: 'c2VjcmV0Mg==' });
    const again = renderYaml(await enc.normalize(changed, { event: secretEvent(changed), target }));
    expect(again).not.toBe(first);
    expect(JSON.parse(sopsDecrypt(again, key.file)).data).toEqual({ password: 'c2VjcmV0Mg==' });
  });

  it('with a fingerprint key and no private key: the keyed fingerprint recognizes it', async () => {
    const fingerprintKey = Buffer.from('a shared secret of the replicas');
    const first = await written(object, encoder({ fingerprintKey }));
    const enc = encoder({ fingerprintKey, storedContent: stored(first) });
    expect(renderYaml(await enc.normalize(object, { event: secretEvent(object), target }))).toBe(first);
    expect(renderYaml(await enc.normalize(secret({ password: 'eA==' }), { event: secretEvent(object), target }))).not.toBe(first);
  });

  it('a recipient change re-encrypts, deliberately', async () => {
    const first = await written(object);
    const enc = encoder({ recipients: [key.recipient, other.recipient], identities: [key.identity], storedContent: stored(first) });
    const rotated = renderYaml(await enc.normalize(object, { event: secretEvent(object), target }));
    expect(rotated).not.toBe(first);
    expect(JSON.parse(sopsDecrypt(rotated, other.file)).data).toEqual(object['data']);
  });
});
