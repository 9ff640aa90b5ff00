// Conformance suites adapters run in their own tests (`@gitops-reverser/contract/conformance`; needs
// vitest). Each suite is also a list of plain checks, usable without vitest.
export { describeBusConformance, numberedMessage } from './bus-conformance.js';
export type { BusConformanceOptions } from './bus-conformance.js';
export { describeSinkConformance, numberedChange, sinkChecks } from './sink-conformance.js';
export type { SinkConformanceOptions, SinkConformanceSetup, SinkCheck } from './sink-conformance.js';
export { describeSourceConformance, sourceChecks } from './source-conformance.js';
export type { SourceConformanceOptions, SourceConformanceSetup, SourceCheck } from './source-conformance.js';
export { describeNormalizerConformance, normalizerChecks } from './normalizer-conformance.js';
export type { NormalizerConformanceOptions, NormalizerCheck } from './normalizer-conformance.js';
export { memoryLogger, noopMetrics } from './test-doubles.js';
