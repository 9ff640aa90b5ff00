export { AuditSource } from './audit-source.js';
export type { AuditSourceOptions } from './audit-source.js';
export { AuditListener } from './audit-listener.js';
export type { ClusterAuth, ListenerTls, BatchHandler } from './audit-listener.js';
export { interpret, actorOf } from './audit-event.js';
export type { AuditEvent, Interpretation, SkipReason, ActorMapping } from './audit-event.js';
export { AuditErrorCodes } from './audit-error-codes.js';
export { auditOptionsSchema } from './descriptor.js';
export { default } from './descriptor.js';
