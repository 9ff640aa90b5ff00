export { NatsBus, messageId, partitionToken } from './nats-bus.js';
export type { NatsBusOptions } from './nats-bus.js';
export { NatsLease, deliveryOf } from './nats-lease.js';
export { NatsBusErrorCodes } from './nats-bus-error-codes.js';
export { natsBusOptionsSchema } from './descriptor.js';
export { default } from './descriptor.js';
