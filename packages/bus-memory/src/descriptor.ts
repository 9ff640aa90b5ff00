import { defineAdapter, packageVersionOf } from '@gitops-reverser/contract';
import { MemoryBus, type MemoryBusOptions } from './memory-bus.js';

export const memoryBusOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    capacityPerPartition: {
      type: 'integer',
      minimum: 1,
      default: 10_000,
      description: 'Messages waiting per partition before publishers wait.',
      'x-fix': 'use a whole number of messages, at least 1',
    },
  },
} as const;

export default defineAdapter<'bus', MemoryBusOptions>({
  meta: { name: '@gitops-reverser/bus-memory', version: packageVersionOf(import.meta.url), slot: 'bus', kernel: '^0.3.0' },
  optionsSchema: memoryBusOptionsSchema,
  create: ({ options }) => new MemoryBus(options),
});
