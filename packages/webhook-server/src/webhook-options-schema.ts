import { MIN_TOKEN_LENGTH } from './token-file.js';

/** JSON Schema of a webhook source's `listen:` option (its default port is the source's own). */
export function webhookListenSchema(defaultPort: number) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      host: { type: 'string', minLength: 1, default: '127.0.0.1', 'x-fix': 'an address to listen on; in a pod 0.0.0.0' },
      port: { type: 'integer', minimum: 0, maximum: 65535, default: defaultPort },
      maxConnections: { type: 'integer', minimum: 1, default: 256, 'x-fix': 'open connections at most on this listener, e.g. 256' },
      requestTimeoutSeconds: { type: 'number', exclusiveMinimum: 0, default: 30, 'x-fix': 'seconds a request may take to arrive whole, e.g. 30' },
    },
    default: {},
  } as const;
}

/** JSON Schema of a webhook source's `tls:` option. */
export const webhookTlsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['certFile', 'keyFile'],
  properties: {
    certFile: { type: 'string', minLength: 1 },
    keyFile: { type: 'string', minLength: 1 },
    clientCAFile: { type: 'string', minLength: 1, 'x-fix': 'the CA of the client certificates API servers present (for auth.clientCertificate)' },
  },
  'x-fix': 'the API server only calls webhooks over https: give tls: { certFile, keyFile }',
} as const;

/** The `listen:` option as the descriptor's schema leaves it. */
export interface WebhookListenOptions {
  host: string;
  port: number;
  maxConnections: number;
  requestTimeoutSeconds: number;
}

export { MIN_TOKEN_LENGTH };
