// The HTTPS listener gitops-reverser's webhook sources share. Used by @gitops-reverser/source-audit
// and @gitops-reverser/source-admission; a third-party webhook source may use it too.
export type { WebhookAnswer, WebhookLimits, WebhookRoute, WebhookTls } from './webhook-listener.js';
export { WebhookListener } from './webhook-listener.js';
export type { RouteAuth, WebhookAuthOptions } from './webhook-auth.js';
export { checkedAuth, routeAuth, webhookAuthSchema } from './webhook-auth.js';
export type { WebhookListenOptions } from './webhook-options-schema.js';
export { MIN_TOKEN_LENGTH, webhookListenSchema, webhookTlsSchema } from './webhook-options-schema.js';
export type { TokenState } from './token-file.js';
export { tokenProblem } from './token-file.js';
export { WebhookErrorCodes } from './webhook-error-codes.js';
