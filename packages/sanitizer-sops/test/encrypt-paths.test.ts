import { memoryLogger } from '@gitops-reverser/contract/conformance';
import type { KubeObject, NormalizeContext } from '@gitops-reverser/contract';
import { renderYaml } from '@gitops-reverser/kernel';
import { describe, expect, it } from 'vitest';
import { SopsEncoder, regexFor } from '../src/sops-encoder.js';
import { ageKey, secretEvent, sopsDecrypt, tempDir } from './helpers.js';

// The credential gate's `encrypt` mode: values the kernel names are encrypted in objects of any
// type, in files the real sops CLI decrypts.

const dir = tempDir();
const key = ageKey(dir);
const target = { name: 'live', with: {}, keyPath: 'targets[0]' };

const encoder = (options: Partial<ConstructorParameters<typeof SopsEncoder>[0]> = {}) =>
  new SopsEncoder({
    recipients: [key.recipient],
    identities: [key.identity],
    encryptedRegex: '^(data|stringData)$',
    resources: ['secrets'],
    clock: { now: () => Date.now() },
    logger: memoryLogger(),
    ...options,
  });

const configMap: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'app', namespace: 'shop' },
  data: { 'app.properties': 'db.password=Zq8mW3xLp0sT\n', LOG_LEVEL: 'info', API_TOKEN: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789' },
};
const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'api', namespace: 'shop' },
  spec: {
    replicas: 2,
    template: {
      spec: {
        containers: [
          {
            name: 'api',
            image: 'api:1',
            env: [
              { name: 'MODE', value: 'prod' },
              { name: 'DB_PASSWORD', value: 'Zq8mW3xLp0sTr7' },
            ],
          },
        ],
      },
    },
  },
};
const context = (object: KubeObject, encryptPaths: NormalizeContext['encryptPaths']): NormalizeContext => ({
  event: {
    ...secretEvent(object),
    identity: { ...secretEvent(object).identity, resource: object.kind === 'ConfigMap' ? 'configmaps' : 'deployments', group: object.kind === 'ConfigMap' ? '' : 'apps' },
  },
  target,
  encryptPaths,
});

describe('encryptPaths: values the credential gate names, in any type', () => {
  it('encrypts the named keys of a ConfigMap and nothing else; sops -d gives the object back', async () => {
    const stored = await encoder().normalize(
      configMap,
      context(configMap, [
        ['data', 'app.properties'],
        ['data', 'API_TOKEN'],
      ]),
    );
    const text = renderYaml(stored);
    expect(text).not.toContain('Zq8mW3xLp0sT');
    expect(text).not.toContain('ghp_abcdefghij');
    expect(text).toContain('LOG_LEVEL: info');
    expect(text).toContain('encrypted_regex: ^(API_TOKEN|app\\.properties)$');
    const { sops: _m, ...plain } = JSON.parse(sopsDecrypt(text, key.file)) as KubeObject;
    expect(plain).toEqual(configMap);
  });

  it('an env value: every value under that key is encrypted (sops selects by key), names stay readable', async () => {
    const text = renderYaml(await encoder().normalize(deployment, context(deployment, [['spec', 'template', 'spec', 'containers', 0, 'env', 1, 'value']])));
    expect(text).not.toContain('Zq8mW3xLp0sTr7');
    expect(text).toContain('name: DB_PASSWORD');
    expect(text).toContain('image: api:1');
    const { sops: _m, ...plain } = JSON.parse(sopsDecrypt(text, key.file)) as KubeObject;
    expect(plain).toEqual(deployment);
  });

  it('the same request on the same object keeps its stored file (no churn)', async () => {
    const paths = [['data', 'API_TOKEN']];
    const first = renderYaml(await encoder().normalize(configMap, context(configMap, paths)));
    const again = await encoder({ storedContent: { read: async () => first } }).normalize(configMap, context(configMap, paths));
    expect(renderYaml(again)).toBe(first);
  });

  it('a protected type: the configured regex widened by the named keys; objects it is not asked about are left alone', async () => {
    expect(regexFor('^(data|stringData)$', [['metadata', 'annotations', 'note']])).toBe('^(data|stringData)$|^(note)$');
    expect(regexFor(undefined, [['spec', 'tokens', 2]])).toBe('^(tokens)$');
    expect(await encoder().normalize(configMap, context(configMap, undefined))).toBe(configMap);
  });

  it('refuses to encrypt a value whose key names the object (sops would encrypt its identity)', async () => {
    const odd: KubeObject = { apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 't' }, spec: { name: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789' } };
    await expect(encoder().normalize(odd, context(odd, [['spec', 'name']]))).rejects.toMatchObject({ code: 'GR_ERR_SOPS_ENCRYPT' });
  });
});
