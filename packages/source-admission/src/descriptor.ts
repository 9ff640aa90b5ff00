import { defineAdapter, packageVersionOf } from '@gitops-reverser/contract';
import { checkedAuth, type WebhookListenOptions, webhookAuthSchema, webhookListenSchema, webhookTlsSchema } from '@gitops-reverser/webhook-server';
import { AdmissionSource } from './admission-source.js';

const admissionOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['tls'],
  properties: {
    listen: webhookListenSchema(9444),
    tls: webhookTlsSchema,
    auth: { ...webhookAuthSchema, 'x-fix': 'optional: the credentials the API server presents (its admission kubeconfig); managed clusters cannot set them' },
    maxBodyBytes: { type: 'integer', minimum: 1024, default: 8 * 1024 * 1024, 'x-fix': 'bytes of one AdmissionReview at most (object and oldObject), e.g. 8388608' },
    queueSize: { type: 'integer', minimum: 1, default: 10_000, 'x-fix': 'facts waiting for the bus at most, e.g. 10000' },
  },
} as const;

/** The source's `with:` options, defaults filled in (see the README's table). */
export interface AdmissionOptions {
  listen: WebhookListenOptions;
  tls: { certFile: string; keyFile: string; clientCAFile?: string };
  auth: { token?: string; tokenFile?: string; clientCertificate?: { commonNames: string[] } };
  maxBodyBytes: number;
  queueSize: number;
}

export default defineAdapter<'source', AdmissionOptions>({
  meta: { name: '@gitops-reverser/source-admission', version: packageVersionOf(import.meta.url), slot: 'source', kernel: '^0.3.0' },
  optionsSchema: admissionOptionsSchema,
  create: ({ options, config }) => {
    const tls = {
      certFile: config.resolvePath(options.tls.certFile),
      keyFile: config.resolvePath(options.tls.keyFile),
      ...(options.tls.clientCAFile ? { clientCAFile: config.resolvePath(options.tls.clientCAFile) } : {}),
    };
    // Caller authentication is optional here (managed control planes cannot configure it), but what is configured must be usable.
    const auth = checkedAuth(options.auth, { resolvePath: (path) => config.resolvePath(path), optional: true, ...(tls.clientCAFile ? { clientCAFile: tls.clientCAFile } : {}) });
    return new AdmissionSource({ listen: options.listen, tls, auth, maxBodyBytes: options.maxBodyBytes, queueSize: options.queueSize });
  },
});
