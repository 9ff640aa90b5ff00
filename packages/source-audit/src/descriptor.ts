import { defineAdapter, packageVersionOf } from '@gitops-reverser/contract';
import { checkedAuth, type WebhookListenOptions, webhookAuthSchema, webhookListenSchema, webhookTlsSchema } from '@gitops-reverser/webhook-server';
import { AuditSource } from './audit-source.js';

export const auditOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['tls'],
  properties: {
    listen: webhookListenSchema(9443),
    tls: webhookTlsSchema,
    auth: webhookAuthSchema,
    mode: {
      enum: ['attribute', 'changes'],
      default: 'attribute',
      'x-fix': 'attribute: authors for watch changes (with source-informer); changes: the audit stream alone (clusters that can only push)',
    },
    maxBodyBytes: { type: 'integer', minimum: 1024, default: 10 * 1024 * 1024 },
    dedupeEntries: { type: 'integer', minimum: 100, default: 100_000 },
    actors: {
      type: 'object',
      additionalProperties: false,
      properties: {
        users: {
          type: 'object',
          additionalProperties: { type: 'object', additionalProperties: false, properties: { name: { type: 'string', minLength: 1 }, email: { type: 'string', minLength: 3 } } },
          default: {},
        },
        emailFromExtra: { type: 'string', minLength: 1, 'x-fix': 'a user.extra key holding the email, e.g. an OIDC claim' },
      },
      default: {},
    },
  },
} as const;

/** The source's `with:` options, defaults filled in (see the README's table). */
export interface AuditOptions {
  listen: WebhookListenOptions;
  tls: { certFile: string; keyFile: string; clientCAFile?: string };
  auth: { token?: string; tokenFile?: string; clientCertificate?: { commonNames: string[] } };
  mode: 'attribute' | 'changes';
  maxBodyBytes: number;
  dedupeEntries: number;
  actors: { users: Record<string, { name?: string; email?: string }>; emailFromExtra?: string };
}

export default defineAdapter<'source', AuditOptions>({
  meta: { name: '@gitops-reverser/source-audit', version: packageVersionOf(import.meta.url), slot: 'source', kernel: '^0.3.0' },
  optionsSchema: auditOptionsSchema,
  create: ({ options, config }) => {
    const tls = {
      certFile: config.resolvePath(options.tls.certFile),
      keyFile: config.resolvePath(options.tls.keyFile),
      ...(options.tls.clientCAFile ? { clientCAFile: config.resolvePath(options.tls.clientCAFile) } : {}),
    };
    // Checked now, so validate says it: no source may accept anyone.
    const auth = checkedAuth(options.auth, { resolvePath: (path) => config.resolvePath(path), ...(tls.clientCAFile ? { clientCAFile: tls.clientCAFile } : {}) });
    return new AuditSource({
      listen: options.listen,
      tls,
      auth,
      mode: options.mode,
      maxBodyBytes: options.maxBodyBytes,
      dedupeEntries: options.dedupeEntries,
      actors: { users: options.actors.users, ...(options.actors.emailFromExtra ? { emailFromExtra: options.actors.emailFromExtra } : {}) },
    });
  },
});
