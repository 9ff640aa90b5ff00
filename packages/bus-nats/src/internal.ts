// For this repository's benchmarks and tests; no stability promise.
export { NatsBus } from './nats-bus.js';
export { HEADER_MAC, HEADER_MAC_KEY, HEADER_MESSAGE_ID, HEADER_SIGNED_AT, MessageAuthenticator } from './message-authenticator.js';
export { loadMessageKeys } from './message-keys.js';
export { messageId } from './message-id.js';
export { HEADER_PARTITION, HEADER_REASON, partitionToken, StreamLayout } from './stream-layout.js';
export { HEADER_BODY_DROPPED } from './dead-letters.js';
export { messageBytes } from './payload-limit.js';
