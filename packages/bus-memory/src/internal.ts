// For this repository's benchmarks and tests; no stability promise.
export { MemoryBus } from './memory-bus.js';
