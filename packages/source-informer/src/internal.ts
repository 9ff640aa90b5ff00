// For this repository's benchmarks and tests; no stability promise.
export { KubeClient } from './kube-client.js';
