import { readFileSync } from 'node:fs';
import { defineAdapter, grError, packageVersionOf } from '@gitops-reverser/contract';
import { AuditErrorCodes } from './audit-error-codes.js';
import { AuditSource } from './audit-source.js';
import { MIN_TOKEN_LENGTH, tokenProblem } from './token-file.js';

export const auditOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['tls'],
  properties: {
    listen: {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: { type: 'string', minLength: 1, default: '127.0.0.1', 'x-fix': 'an address to listen on; in a pod 0.0.0.0' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 9443 },
        maxConnections: { type: 'integer', minimum: 1, default: 256, 'x-fix': 'open connections at most on this listener, e.g. 256' },
        requestTimeoutSeconds: { type: 'number', exclusiveMinimum: 0, default: 30, 'x-fix': 'seconds a request may take to arrive whole, e.g. 30' },
      },
      default: {},
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['certFile', 'keyFile'],
      properties: {
        certFile: { type: 'string', minLength: 1 },
        keyFile: { type: 'string', minLength: 1 },
        clientCAFile: { type: 'string', minLength: 1, 'x-fix': 'the CA of the client certificates API servers present (for auth.clientCertificate)' },
      },
      'x-fix': 'the API server only posts audit events over https: give tls: { certFile, keyFile }',
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      properties: {
        token: { type: 'string', minLength: 16, 'x-fix': 'a random token of 16+ characters, e.g. "${AUDIT_TOKEN}"; the API server sends it as users[].user.token' },
        tokenFile: { type: 'string', minLength: 1, 'x-fix': 'a file holding a random token of 16+ characters (a mounted Secret); it is re-read when it changes' },
        clientCertificate: {
          type: 'object',
          additionalProperties: false,
          required: ['commonNames'],
          properties: {
            commonNames: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, 'x-fix': 'the common names of this cluster API server client certificate, e.g. [kube-apiserver-prod]' },
          },
          'x-fix': 'name the common names of this cluster API server client certificate, e.g. { commonNames: [kube-apiserver-prod] }: a CA signs other clients too, and clusters may share a listener',
        },
      },
      default: {},
    },
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
  listen: { host: string; port: number; maxConnections: number; requestTimeoutSeconds: number };
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
    const tokenFile = options.auth.tokenFile ? config.resolvePath(options.auth.tokenFile) : undefined;
    // Checked now so validate says it; at run time the file is re-read when it changes (fail closed).
    if (tokenFile !== undefined) {
      let text: string;
      try {
        text = readFileSync(tokenFile, 'utf8');
      } catch (cause) {
        throw grError(AuditErrorCodes.AUTH_CONFIG, `cannot read auth.tokenFile: ${(cause as Error).message}`, {
          fix: 'check the path (relative to the config file)',
          details: { optionPath: 'auth.tokenFile' },
        });
      }
      const problem = tokenProblem(text);
      if (problem) {
        throw grError(AuditErrorCodes.AUTH_CONFIG, `the token in auth.tokenFile ${tokenFile} is not usable: ${problem}`, {
          fix: `write a random token of ${MIN_TOKEN_LENGTH}+ characters without whitespace into it, e.g. openssl rand -hex 32`,
          details: { optionPath: 'auth.tokenFile' },
        });
      }
    }
    const inline = options.auth.token;
    const inlineProblem = inline === undefined ? undefined : tokenProblem(inline);
    if (inlineProblem) {
      throw grError(AuditErrorCodes.AUTH_CONFIG, `auth.token is not usable: ${inlineProblem}`, {
        fix: `a random token of ${MIN_TOKEN_LENGTH}+ characters without whitespace, e.g. "\${AUDIT_TOKEN}"`,
        details: { optionPath: 'auth.token' },
      });
    }
    if (inline !== undefined && tokenFile !== undefined) {
      throw grError(AuditErrorCodes.AUTH_CONFIG, 'auth.token and auth.tokenFile are both set', { fix: 'keep one of them', details: { optionPath: 'auth' } });
    }
    const token = inline ?? tokenFile;
    if (token === undefined && !options.auth.clientCertificate) {
      throw grError(AuditErrorCodes.AUTH_CONFIG, 'the audit webhook would accept anyone: no token and no client certificate is configured', {
        fix: 'set auth.token (or auth.tokenFile), or auth.clientCertificate with tls.clientCAFile',
        details: { optionPath: 'auth' },
      });
    }
    if (options.auth.clientCertificate && !options.tls.clientCAFile) {
      throw grError(AuditErrorCodes.AUTH_CONFIG, 'auth.clientCertificate needs tls.clientCAFile to check the certificates against', { fix: 'set tls.clientCAFile', details: { optionPath: 'tls' } });
    }
    return new AuditSource({
      listen: options.listen,
      tls: {
        certFile: config.resolvePath(options.tls.certFile),
        keyFile: config.resolvePath(options.tls.keyFile),
        ...(options.tls.clientCAFile ? { clientCAFile: config.resolvePath(options.tls.clientCAFile) } : {}),
      },
      auth: {
        ...(inline !== undefined ? { token: inline } : {}),
        ...(tokenFile !== undefined ? { tokenFile } : {}),
        ...(options.auth.clientCertificate ? { clientCertificate: options.auth.clientCertificate } : {}),
      },
      mode: options.mode,
      maxBodyBytes: options.maxBodyBytes,
      dedupeEntries: options.dedupeEntries,
      actors: { users: options.actors.users, ...(options.actors.emailFromExtra ? { emailFromExtra: options.actors.emailFromExtra } : {}) },
    });
  },
});
