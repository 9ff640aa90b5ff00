// Conformance suites adapters run in their own tests (needs vitest).
export { describeBusConformance, numberedMessage } from './bus-conformance.js';
export type { BusConformanceOptions } from './bus-conformance.js';
export { describeSinkConformance } from './sink-conformance.js';
export type { SinkConformanceOptions } from './sink-conformance.js';
