export type { NatsBusOptions, NatsMessageKey, NatsTlsOptions } from './nats-bus-options.js';
export { NatsBusErrorCodes } from './nats-bus-error-codes.js';
export { default } from './descriptor.js';
