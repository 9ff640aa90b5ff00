// For this repository's benchmarks and tests; no stability promise.
export { AuditSource } from './audit-source.js';
