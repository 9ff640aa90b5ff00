import { createHmac, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';

/** Where a planted credential sits. */
export type Placement = 'configmap' | 'deployment-env' | 'custom-resource';

/** One credential planted in one object, made fresh (random) for each run. */
export interface PlantedCredential {
  /** Object name: `planted-<n>`. */
  readonly name: string;
  /** What kind of credential (the generator's name; not the gate's rule id). */
  readonly kind: string;
  readonly placement: Placement;
  /** The ConfigMap key, env var name or spec field it is stored under. */
  readonly key: string;
  /** The whole stored value (a credential, or a text holding one). */
  readonly value: string;
  /** The parts that must never reach git: the credential itself, or for a key block each of its lines. */
  readonly secrets: readonly string[];
}

/** The custom resource type planted credentials use (schema-less). */
export const PLANTED_CRD = { group: 'planted.gitops-reverser.test', plural: 'credentialholders', kind: 'CredentialHolder' } as const;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const random = (length: number, alphabet = ALNUM) => [...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join('');
const base32 = (length: number) => random(length, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567');
/** A password with every kind of character (as a password policy asks for). */
const password = () => `${random(6)}${random(1, 'ABCDEFGHJKLMNPQRSTUVWXYZ')}${random(1, '23456789')}${random(1, '#%+@!')}${random(13)}`;
const pemBodyLines = (pem: string) => pem.split('\n').filter((line) => line !== '' && !line.startsWith('-----') && !line.includes(':'));

interface Made {
  readonly key: string;
  readonly value: string;
  readonly secrets: readonly string[];
}

/** One generator per kind of credential the gate's rule set covers, each with a realistic surrounding. */
const GENERATORS: readonly { readonly kind: string; readonly make: () => Made }[] = [
  {
    kind: 'rsa-private-key',
    make: () => {
      const pem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
      return { key: 'SIGNING_KEY', value: pem, secrets: pemBodyLines(pem) };
    },
  },
  {
    kind: 'ec-private-key',
    make: () => {
      const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string;
      return { key: 'TLS_KEY', value: pem, secrets: pemBodyLines(pem) };
    },
  },
  {
    kind: 'pkcs8-private-key',
    make: () => {
      const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      return { key: 'WEBHOOK_KEY', value: pem, secrets: pemBodyLines(pem) };
    },
  },
  {
    kind: 'encrypted-private-key',
    make: () => {
      const pem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: random(16) }) as string;
      return { key: 'BACKUP_KEY', value: pem, secrets: pemBodyLines(pem) };
    },
  },
  {
    kind: 'openssh-private-key',
    make: () => {
      const body = randomBytes(300)
        .toString('base64')
        .match(/.{1,70}/g) as string[];
      const pem = `-----BEGIN OPENSSH PRIVATE KEY-----\n${body.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
      return { key: 'DEPLOY_KEY', value: pem, secrets: body };
    },
  },
  {
    kind: 'aws-credentials-file',
    make: () => {
      const id = `AKIA${base32(16)}`;
      const secret = random(40, `${ALNUM}/+`);
      return { key: 'AWS_CREDENTIALS', value: `[default]\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\nregion = eu-west-1\n`, secrets: [id, secret] };
    },
  },
  {
    kind: 'aws-session-key-id',
    make: () => {
      const id = `ASIA${base32(16)}`;
      return { key: 'AWS_ACCESS_KEY_ID', value: id, secrets: [id] };
    },
  },
  {
    kind: 'gcp-service-account',
    make: () => {
      const pem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      const json = JSON.stringify({
        type: 'service_account',
        project_id: 'demo-project',
        private_key_id: randomBytes(20).toString('hex'),
        private_key: pem,
        client_email: 'deployer@demo-project.iam.gserviceaccount.com',
        client_id: '103456789012345678901',
        token_uri: 'https://oauth2.googleapis.com/token',
      });
      return { key: 'GOOGLE_APPLICATION_CREDENTIALS_JSON', value: json, secrets: pemBodyLines(pem) };
    },
  },
  {
    kind: 'azure-storage-connection-string',
    make: () => {
      const accountKey = `${random(86, `${ALNUM}+/`)}==`;
      return { key: 'AZURE_STORAGE_CONNECTION_STRING', value: `DefaultEndpointsProtocol=https;AccountName=demostore;AccountKey=${accountKey};EndpointSuffix=core.windows.net`, secrets: [accountKey] };
    },
  },
  { kind: 'github-classic-token', make: () => ((t) => ({ key: 'GITHUB_TOKEN', value: t, secrets: [t] }))(`ghp_${random(36)}`) },
  { kind: 'github-fine-grained-token', make: () => ((t) => ({ key: 'GH_PAT', value: t, secrets: [t] }))(`github_pat_${random(22)}_${random(59)}`) },
  { kind: 'github-app-token', make: () => ((t) => ({ key: 'INSTALLATION_AUTH', value: `token ${t}`, secrets: [t] }))(`ghs_${random(36)}`) },
  { kind: 'gitlab-token', make: () => ((t) => ({ key: 'GITLAB_API', value: t, secrets: [t] }))(`glpat-${random(20)}`) },
  { kind: 'slack-bot-token', make: () => ((t) => ({ key: 'SLACK_BOT', value: t, secrets: [t] }))(`xoxb-${random(12, '0123456789')}-${random(13, '0123456789')}-${random(24)}`) },
  {
    kind: 'slack-webhook',
    make: () => {
      const path = `T${random(9, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}/B${random(9, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}/${random(24)}`;
      return { key: 'ALERT_WEBHOOK', value: `https://hooks.slack.com/services/${path}`, secrets: [path] };
    },
  },
  {
    kind: 'jwt',
    make: () => {
      const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
      const payload = Buffer.from(JSON.stringify({ sub: 'system:serviceaccount:ci:deployer', iat: 1700000000, jti: randomUUID() })).toString('base64url');
      const signature = createHmac('sha256', randomBytes(32)).update(`${header}.${payload}`).digest('base64url');
      const token = `${header}.${payload}.${signature}`;
      return { key: 'ID_TOKEN', value: token, secrets: [token] };
    },
  },
  {
    kind: 'bearer-header',
    make: () => {
      const token = random(40, `${ALNUM}-._~`);
      return { key: 'UPSTREAM_HEADERS', value: `Accept: application/json\nAuthorization: Bearer ${token}\n`, secrets: [token] };
    },
  },
  { kind: 'password-by-name', make: () => ((p) => ({ key: 'DB_PASSWORD', value: p, secrets: [p] }))(password()) },
  { kind: 'api-key-by-name', make: () => ((k) => ({ key: 'PAYMENT_API_KEY', value: k, secrets: [k] }))(randomBytes(16).toString('hex')) },
  { kind: 'client-secret-by-name', make: () => ((k) => ({ key: 'OIDC_CLIENT_SECRET', value: k, secrets: [k] }))(randomUUID()) },
  {
    kind: 'properties-file',
    make: () => {
      const secret = password();
      return { key: 'APPLICATION_PROPERTIES', value: `server.port=8080\nspring.datasource.url=jdbc:postgresql://db:5432/app\nspring.datasource.password=${secret}\n`, secrets: [secret] };
    },
  },
  {
    kind: 'dotenv-file',
    make: () => {
      const secret = random(32);
      return { key: 'DOTENV', value: `NODE_ENV=production\nSTRIPE_API_KEY=${secret}\nLOG_LEVEL=info\n`, secrets: [secret] };
    },
  },
  {
    kind: 'database-url',
    make: () => {
      const secret = password();
      return { key: 'DATABASE_URL', value: `postgres://app:${secret}@db.shop.svc:5432/shop?sslmode=require`, secrets: [secret] };
    },
  },
  {
    kind: 'json-config',
    make: () => {
      const secret = password();
      return { key: 'CONFIG_JSON', value: JSON.stringify({ host: 'smtp.example.com', port: 587, user: 'mailer', password: secret }), secrets: [secret] };
    },
  },
];

const PLACEMENTS: readonly Placement[] = ['configmap', 'deployment-env', 'custom-resource'];

/**
 * `count` credentials, fresh for each call, of every kind in turn and spread across ConfigMap data,
 * Deployment env values and custom resource specs: one per object, named `planted-<n>`.
 */
export function plantedCredentials(count = 50): PlantedCredential[] {
  return Array.from({ length: count }, (_, n) => {
    const generator = GENERATORS[n % GENERATORS.length] as (typeof GENERATORS)[number];
    return { name: `planted-${n}`, kind: generator.kind, placement: placementOf(n), ...generator.make() };
  });
}

function placementOf(n: number): Placement {
  // Shifted per round of generators, so each kind lands in more than one placement.
  return PLACEMENTS[(n + Math.floor(n / GENERATORS.length)) % PLACEMENTS.length] as Placement;
}

/** The object that holds a planted credential, in `namespace`, as a user would create it. */
export function plantedObject(planted: PlantedCredential, namespace: string): { path: string; body: Record<string, unknown> } {
  const metadata = { name: planted.name, namespace, labels: { planted: 'yes' } };
  switch (planted.placement) {
    case 'configmap':
      return { path: `/api/v1/namespaces/${namespace}/configmaps`, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { LOG_LEVEL: 'info', [planted.key]: planted.value } } };
    case 'deployment-env':
      return {
        path: `/apis/apps/v1/namespaces/${namespace}/deployments`,
        body: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata,
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: planted.name } },
            template: {
              metadata: { labels: { app: planted.name } },
              spec: {
                containers: [
                  {
                    name: 'app',
                    image: 'registry.example.com/shop/app:1.4.2',
                    env: [
                      { name: 'LOG_LEVEL', value: 'info' },
                      { name: planted.key, value: planted.value },
                    ],
                  },
                ],
              },
            },
          },
        },
      };
    default:
      return {
        path: `/apis/${PLANTED_CRD.group}/v1/namespaces/${namespace}/${PLANTED_CRD.plural}`,
        body: { apiVersion: `${PLANTED_CRD.group}/v1`, kind: PLANTED_CRD.kind, metadata, spec: { endpoint: 'https://api.example.com', auth: { [planted.key]: planted.value } } },
      };
  }
}

/** Where the planted value sits in the object, as keys and list indexes (env: the second entry's value). */
export function plantedPath(planted: PlantedCredential): (string | number)[] {
  if (planted.placement === 'configmap') return ['data', planted.key];
  if (planted.placement === 'deployment-env') return ['spec', 'template', 'spec', 'containers', 0, 'env', 1, 'value'];
  return ['spec', 'auth', planted.key];
}
