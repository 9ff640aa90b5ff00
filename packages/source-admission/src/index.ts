export type { AdmissionOptions } from './descriptor.js';
export { default } from './descriptor.js';
