export type { SopsOptions } from './descriptor.js';
export { SopsErrorCodes } from './sops-error-codes.js';
export { default } from './descriptor.js';
