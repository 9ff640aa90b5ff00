import { defineAdapter, packageVersionOf } from '@gitops-reverser/contract';
import { checkCredentials } from './connection-options.js';
import { NatsBus } from './nats-bus.js';
import type { NatsBusOptions } from './nats-bus-options.js';

const file = (fix: string) => ({ type: 'string', minLength: 1, 'x-fix': fix });

export const natsBusOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['servers'],
  properties: {
    servers: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, 'x-fix': 'NATS URLs, e.g. [nats://nats:4222]' },
    user: { type: 'string' },
    password: { type: 'string' },
    token: { type: 'string' },
    nkeySeedFile: file('a file with the nkey seed (SU...) of a user the server lists by its public key, e.g. a mounted Secret'),
    credsFile: file('a .creds file (user JWT and seed) for a server in operator mode, e.g. a mounted Secret'),
    tls: {
      type: 'object',
      additionalProperties: false,
      properties: {
        caFile: file('the CA certificate (PEM) that signed the server certificate'),
        certFile: file('the client certificate (PEM), for a server that verifies clients'),
        keyFile: file('the client certificate key (PEM)'),
      },
      'x-fix': 'tls: { caFile, certFile, keyFile } ({} for TLS with the system CAs)',
    },
    messageKeys: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id'],
        properties: {
          id: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$', 'x-fix': 'a name for the key: letters, digits, . _ -' },
          file: file('a file holding the key (32+ bytes), e.g. a mounted Secret'),
          value: { type: 'string', minLength: 1, 'x-fix': 'the key (32+ characters), e.g. "${NATS_MESSAGE_KEY}"' },
        },
      },
      default: [],
      'x-fix': 'messageKeys: [{ id: k1, file: /etc/gitops-reverser/nats/message-key }]: the same keys in every replica, the first signs',
    },
    allowUnsignedMessages: { type: 'boolean', default: false },
    stream: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', default: 'GITOPS_REVERSER' },
    subjectPrefix: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', default: 'gitops-reverser' },
    replicas: { enum: [1, 3, 5], default: 1, 'x-fix': 'stream replicas: 1 for one server, 3 for a JetStream cluster' },
    capacityPerPartition: { type: 'integer', minimum: 1, default: 10_000 },
    maxBytes: { type: 'integer', minimum: 0, default: 0 },
    maxMessages: { type: 'integer', minimum: 0, default: 0 },
    duplicateWindowSeconds: { type: 'integer', minimum: 1, default: 120 },
    ackWaitSeconds: { type: 'integer', minimum: 1, default: 30 },
    leaseSeconds: { type: 'number', minimum: 1, default: 10 },
    discoveryMs: { type: 'integer', minimum: 50, default: 1000 },
    replicaId: { type: 'string', minLength: 1 },
  },
} as const;

export default defineAdapter<'bus', NatsBusOptions>({
  meta: { name: '@gitops-reverser/bus-nats', version: packageVersionOf(import.meta.url), slot: 'bus', kernel: '^0.3.0' },
  optionsSchema: natsBusOptionsSchema,
  // Files are resolved against the config file's folder and checked now, so `validate` names a missing one.
  create: ({ options, config }) => {
    const path = (value: string | undefined) => (value === undefined ? undefined : config.resolvePath(value));
    const { tls } = options;
    const resolved: NatsBusOptions = {
      ...options,
      ...(options.nkeySeedFile !== undefined ? { nkeySeedFile: path(options.nkeySeedFile) } : {}),
      ...(options.credsFile !== undefined ? { credsFile: path(options.credsFile) } : {}),
      ...(tls
        ? {
            tls: {
              ...(tls.caFile !== undefined ? { caFile: path(tls.caFile) } : {}),
              ...(tls.certFile !== undefined ? { certFile: path(tls.certFile) } : {}),
              ...(tls.keyFile !== undefined ? { keyFile: path(tls.keyFile) } : {}),
            },
          }
        : {}),
      messageKeys: options.messageKeys.map((key) => (key.file !== undefined ? { ...key, file: config.resolvePath(key.file) } : key)),
    };
    checkCredentials(resolved);
    return new NatsBus(resolved);
  },
});
