export type { NatsBusOptions } from './nats-bus-options.js';
export { NatsBusErrorCodes } from './nats-bus-error-codes.js';
export { default } from './descriptor.js';
