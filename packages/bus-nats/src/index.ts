export { NatsBus } from './nats-bus.js';
export type { NatsBusOptions } from './nats-bus-options.js';
export { messageId } from './message-id.js';
export { partitionToken } from './stream-layout.js';
export { PartitionConsumer } from './partition-consumer.js';
export { deliveryOf } from './ack-subject.js';
export { NatsBusErrorCodes } from './nats-bus-error-codes.js';
export { natsBusOptionsSchema } from './descriptor.js';
export { default } from './descriptor.js';
