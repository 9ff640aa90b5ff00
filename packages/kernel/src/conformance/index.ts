// Conformance suites adapters run in their own tests (needs vitest).
export { describeBusConformance, numberedMessage } from './bus-conformance.js';
export type { BusConformanceOptions } from './bus-conformance.js';
