import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CredentialGate } from '../src/credentials/credential-gate.js';
import { CREDENTIAL_RULES, looksRandom } from '../src/credentials/credential-rules.js';
import { CredentialScanner } from '../src/credentials/credential-scanner.js';
import { KernelMetrics, silentLogger } from '../src/index.js';

const random = (n: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789') => [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
const rulesFound = (value: string, key = 'value') =>
  CREDENTIAL_RULES.filter((rule) => rule.find(value, key).length > 0)
    .map((rule) => rule.id)
    .sort();

describe('the credential rule set', () => {
  it('finds each kind it documents', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string;
    const pkcs8 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(rulesFound(rsa)).toEqual(['private-key']);
    expect(rulesFound(ec)).toEqual(['private-key']);
    expect(rulesFound(`key: |\n  ${pkcs8.replace(/\n/g, '\n  ')}`)).toEqual(['private-key']);
    expect(rulesFound(`AKIA${random(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`)).toEqual(['aws-access-key-id']);
    expect(rulesFound(`[default]\naws_secret_access_key = ${random(40)}\n`)).toContain('aws-secret-access-key');
    expect(rulesFound(JSON.stringify({ type: 'service_account', private_key: pkcs8 }))).toEqual(['gcp-service-account-key', 'private-key']);
    expect(rulesFound(`DefaultEndpointsProtocol=https;AccountName=a;AccountKey=${random(86)}==;EndpointSuffix=core.windows.net`)).toEqual(['azure-storage-key']);
    expect(rulesFound(`ghp_${random(36)}`)).toEqual(['github-token']);
    expect(rulesFound(`github_pat_${random(22)}_${random(59)}`)).toEqual(['github-token']);
    expect(rulesFound(`glpat-${random(20)}`)).toEqual(['gitlab-token']);
    expect(rulesFound(`xoxb-${random(12, '0123456789')}-${random(24)}`)).toEqual(['slack-token']);
    expect(rulesFound(`https://hooks.slack.com/services/T${random(8, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}/B${random(8, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}/${random(24)}`)).toEqual([
      'slack-token',
    ]);
    const jwt = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: 'x', iat: 1 })).toString('base64url')}.${random(43)}`;
    expect(rulesFound(jwt)).toEqual(['jwt']);
    expect(rulesFound(`Authorization: Bearer ${random(32)}`)).toEqual(['bearer-token']);
    expect(rulesFound(`postgres://app:${random(16)}@db:5432/app`)).toEqual(['url-password']);
    expect(rulesFound(`db.host=db\ndb.password=${random(18)}\n`)).toEqual(['secret-assignment']);
    expect(rulesFound(random(24), 'DB_PASSWORD')).toEqual(['secret-name']);
  });

  it('leaves alone what only looks a little like one', () => {
    const cert = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const harmless: [string, string][] = [
      ['ca.crt', cert.replace(/PUBLIC KEY/g, 'CERTIFICATE')],
      ['public.pem', cert],
      ['secretName', 'db-credentials'],
      ['password', 'changeme'],
      ['password', '${DB_PASSWORD}'],
      ['password', '$(DB_PASSWORD)'],
      ['tokenPath', '/var/run/secrets/kubernetes.io/serviceaccount/token'],
      ['token', '/var/run/secrets/tokens/vault'],
      ['apiKey', '<your api key>'],
      ['clientSecret', '**********'],
      ['url', 'https://example.com/path?x=1'],
      ['url', 'postgres://app:$(DB_PASSWORD)@db/app'],
      ['image', 'registry.example.com/team/app:v1.2.3'],
      ['description', 'the token is rotated by the operator every night'],
      ['token', 'true'],
      ['secret', 'my-app-tls-secret'],
    ];
    for (const [key, value] of harmless) expect(rulesFound(value, key), `${key}: ${value}`).toEqual([]);
    expect(looksRandom('aaaaaaaa1111')).toBe(false);
    expect(looksRandom('550e8400-e29b-41d4-a716-446655440000')).toBe(true);
  });
});

describe('the credential scanner', () => {
  const deployment = (value: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'shop', annotations: { copy: `x ${value} y` } },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: 'api',
              env: [
                { name: 'LOG_LEVEL', value: 'info' },
                { name: 'API_TOKEN', value },
              ],
            },
          ],
        },
      },
    },
  });

  it('names an env value by its variable, and reports every copy of what it found', () => {
    const token = random(32);
    const findings = new CredentialScanner().scan(deployment(token));
    expect(findings.map((f) => [f.rule, f.path.join('/')])).toEqual([
      ['secret-name', 'spec/template/spec/containers/0/env/1/value'],
      ['secret-name', 'metadata/annotations/copy'],
    ]);
    expect(findings[1]).toMatchObject({ start: 2, end: 2 + token.length, text: token });
  });

  it('credentials.ignore: by rule, kind, namespace, name and path', () => {
    const token = random(32);
    const ignoring = (entry: Partial<Record<'rules' | 'kinds' | 'namespaces' | 'names' | 'paths', string[]>>) =>
      new CredentialScanner([{ rules: [], kinds: [], namespaces: [], names: [], paths: [], ...entry }]).scan(deployment(token)).length;
    expect(ignoring({ rules: ['secret-name'] })).toBe(0);
    expect(ignoring({ rules: ['jwt'] })).toBe(2);
    expect(ignoring({ kinds: ['Deployment.apps'], namespaces: ['shop'], names: ['api'] })).toBe(0);
    expect(ignoring({ kinds: ['Deployment.extensions'] })).toBe(2);
    expect(ignoring({ paths: ['spec.template.spec.containers[name=api].env[name=API_TOKEN]'] })).toBe(0);
    // A copy of a credential found elsewhere is reported wherever it is: ignoring its place does not hide the original.
    expect(ignoring({ paths: ['metadata'] })).toBe(2);
  });
});

describe('the credential gate', () => {
  const gate = new CredentialGate({ mode: 'warn', ignore: [] }, Buffer.from('k'.repeat(32)), silentLogger(), new KernelMetrics());

  it('redacts spans with a keyed marker, equal credentials alike, and leaves no copy', () => {
    const password = random(20);
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { 'app.properties': `user=app\npassword=${password}\n`, DB_PASSWORD: password } };
    const findings = gate.findings(object, { clusterId: 'c', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: '', name: 'c' });
    const redacted = gate.redact(object, findings);
    const marker = gate.marker(password);
    expect(marker).toMatch(/^REDACTED:sha256-hmac:[0-9a-f]{12}$/);
    expect(redacted['data']).toEqual({ 'app.properties': `user=app\npassword=${marker}\n`, DB_PASSWORD: marker });
    expect(gate.leaks(redacted, findings)).toEqual([]);
    expect(gate.leaks(object, findings).length).toBe(findings.length);
    // The input is untouched; another key gives other markers.
    expect((object.data as Record<string, string>)['DB_PASSWORD']).toBe(password);
    const other = new CredentialGate({ mode: 'warn', ignore: [] }, Buffer.from('o'.repeat(32)), silentLogger(), new KernelMetrics());
    expect(other.marker(password)).not.toBe(marker);
  });

  it('a 1 MiB value of thousands of credentials, copied into another key: every one found, redacted, none left readable (linear work: a quadratic scan would not finish)', () => {
    const keys = Array.from({ length: 40_000 }, () => `AKIA${random(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`);
    const big = keys.join(' ');
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { big, copy: keys.slice(0, 100).join(','), 'notes.txt': `see ${keys[7]}` } };
    const identity = { clusterId: 'c', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: '', name: 'c' };
    const findings = gate.findings(object, identity);
    expect(findings.filter((f) => f.path[1] === 'big')).toHaveLength(40_000);
    expect(findings.filter((f) => f.path[1] === 'copy')).toHaveLength(100);
    expect(findings.filter((f) => f.path[1] === 'notes.txt')).toHaveLength(1);
    const redacted = gate.redact(object, findings);
    expect(gate.leaks(redacted, findings)).toEqual([]);
    expect((redacted['data'] as Record<string, string>)['notes.txt']).toBe(`see ${gate.marker(keys[7] as string)}`);
  });

  it('long runs that almost match (a name then a megabyte, schemes without a host, JWT starts) are scanned and found clean', () => {
    const scanner = new CredentialScanner();
    const values = ['token' + 'a'.repeat(1_000_000), 'password=' + 'Ab1'.repeat(300_000), 'x://' + 'u'.repeat(1_000_000), 'eyJ'.repeat(300_000), '://'.repeat(300_000)];
    for (const value of values) expect(scanner.scan({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { value } }).map((f) => f.rule)).toEqual([]);
  });

  it('leaves core Secrets to the Secret guard and the encoders', () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { password: random(24) } };
    expect(gate.findings(secret, { clusterId: 'c', group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespace: 'x', name: 's' })).toEqual([]);
  });
});
