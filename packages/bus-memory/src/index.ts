export { MemoryBus } from './memory-bus.js';
export type { MemoryBusOptions } from './memory-bus.js';
export { memoryBusOptionsSchema } from './descriptor.js';
export { default } from './descriptor.js';
