// For this repository's benchmarks and tests; no stability promise.
export { CredentialGate } from './credentials/credential-gate.js';
export { CredentialScanner } from './credentials/credential-scanner.js';
