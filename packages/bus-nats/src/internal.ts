// For this repository's benchmarks and tests; no stability promise.
export { NatsBus } from './nats-bus.js';
