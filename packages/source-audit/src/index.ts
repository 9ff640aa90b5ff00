export type { AuditOptions } from './descriptor.js';
export { AuditErrorCodes } from './audit-error-codes.js';
export { default } from './descriptor.js';
