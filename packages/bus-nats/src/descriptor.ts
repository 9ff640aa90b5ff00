import { defineAdapter, packageVersionOf } from '@gitops-reverser/contract';
import { NatsBus } from './nats-bus.js';
import type { NatsBusOptions } from './nats-bus-options.js';

export const natsBusOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['servers'],
  properties: {
    servers: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, 'x-fix': 'NATS URLs, e.g. [nats://nats:4222]' },
    user: { type: 'string' },
    password: { type: 'string' },
    token: { type: 'string' },
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
  create: ({ options }) => new NatsBus(options),
});
