// For this repository's benchmarks and tests; no stability promise.
export { SopsEncoder } from './sops-encoder.js';
