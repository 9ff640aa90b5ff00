export type { MemoryBusOptions } from './memory-bus.js';
export { default } from './descriptor.js';
