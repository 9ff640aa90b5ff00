export type { AuditOptions } from './descriptor.js';
export { default } from './descriptor.js';
