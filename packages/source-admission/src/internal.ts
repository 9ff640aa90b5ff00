// For this repository's benchmarks and tests; no stability promise.
export { AdmissionSource } from './admission-source.js';
export { interpretReview } from './admission-review.js';
