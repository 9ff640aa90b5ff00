import { X509Certificate } from 'node:crypto';
import { grError } from '@gitops-reverser/contract';
import { ErrorCodes } from '../errors.js';
import type { KubeApiClient, KubeApiResponse } from './kube-api-client.js';
import { webhookCertificateFailure } from './webhook-certificate-failure.js';
import { createWebhookCertificate } from './webhook-certificate.js';

export interface EnsureWebhookCertificateOptions {
  readonly namespace: string;
  /** The `kubernetes.io/tls` Secret: created when missing, never replaced. */
  readonly secret: string;
  /** Names the serving certificate is for (the Service's DNS names). */
  readonly dnsNames: readonly string[];
  readonly validityDays: number;
  /** A ValidatingWebhookConfiguration whose webhooks get the Secret's CA as `caBundle`, when it exists. */
  readonly webhookConfiguration?: string;
  readonly now?: Date;
}

export interface WebhookCertificateReport {
  readonly secret: 'created' | 'kept';
  readonly notAfter: Date;
  /** `absent`: the configuration does not exist (yet: a chart's first pre-install run). */
  readonly caBundle: 'patched' | 'current' | 'absent' | 'not-asked';
  readonly patchedWebhooks: number;
  readonly warnings: string[];
}

/** Field manager of the `caBundle` patch: Helm and Argo CD never set the field, so they leave it to this one. */
export const CA_BUNDLE_FIELD_MANAGER = 'gitops-reverser-webhook-certificate';

/** Labels of the Secret this creates: `webhook-certificate --delete` removes only a Secret that has them. */
export const WEBHOOK_CERTIFICATE_LABELS = { 'app.kubernetes.io/name': 'gitops-reverser', 'app.kubernetes.io/component': 'webhook-certificate' } as const;

interface SecretObject {
  data?: Record<string, string>;
}

interface WebhookConfigurationObject {
  webhooks?: { name: string; clientConfig?: { caBundle?: string } }[];
}

/**
 * Makes the webhooks' serving certificate exist once and be trusted: creates the Secret (a new CA and a
 * serving certificate it signed) only when it does not exist, and sets every webhook's `caBundle` of
 * the configuration to that Secret's CA (`ca.crt`, or `tls.crt` for a self-signed one). Idempotent:
 * run before and after every install and upgrade, it changes nothing once both are right, so the
 * API server's trust survives any number of renders (`helm template`, Argo CD) and upgrades.
 */
export async function ensureWebhookCertificate(api: KubeApiClient, options: EnsureWebhookCertificateOptions): Promise<WebhookCertificateReport> {
  const secretPath = `/api/v1/namespaces/${options.namespace}/secrets/${options.secret}`;
  let secret = await existing<SecretObject>(api, secretPath, `Secret ${options.namespace}/${options.secret}`);
  let created = false;
  if (!secret) {
    const generated = createWebhookCertificate({
      commonName: options.dnsNames[0] ?? options.secret,
      dnsNames: options.dnsNames,
      validityDays: options.validityDays,
      ...(options.now ? { now: options.now } : {}),
    });
    const body = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: {
        name: options.secret,
        namespace: options.namespace,
        labels: { ...WEBHOOK_CERTIFICATE_LABELS },
        annotations: { 'gitops-reverser.io/renew': 'delete this Secret, then run `gitops-reverser webhook-certificate` again (the chart does on every upgrade)' },
      },
      data: { 'ca.crt': base64(generated.caCert), 'tls.crt': base64(generated.cert), 'tls.key': base64(generated.key) },
    };
    const response = await api.request('POST', `/api/v1/namespaces/${options.namespace}/secrets?fieldManager=${CA_BUNDLE_FIELD_MANAGER}`, body);
    if (response.status === 201) {
      secret = body;
      created = true;
    } else if (response.status === 409) {
      // Another run created it meanwhile: that one is kept, as any existing Secret is.
      secret = await existing<SecretObject>(api, secretPath, `Secret ${options.namespace}/${options.secret}`);
    } else {
      throw failure(`create Secret ${options.namespace}/${options.secret}`, response, api);
    }
    if (!secret) throw grError(ErrorCodes.WEBHOOK_CERTIFICATE, `Secret ${options.namespace}/${options.secret} vanished while it was being created`, { fix: 'run the command again' });
  }

  const caBundle = secret.data?.['ca.crt'] ?? secret.data?.['tls.crt'];
  const servingCert = secret.data?.['tls.crt'];
  if (!caBundle || !servingCert || !secret.data?.['tls.key']) {
    throw grError(ErrorCodes.WEBHOOK_CERTIFICATE, `Secret ${options.namespace}/${options.secret} has no tls.crt and tls.key`, {
      fix: 'give a kubernetes.io/tls Secret (with ca.crt when a CA signed it), or delete it to have one generated',
    });
  }
  const { notAfter, warnings } = inspect(servingCert, options);

  if (!options.webhookConfiguration) return { secret: created ? 'created' : 'kept', notAfter, caBundle: 'not-asked', patchedWebhooks: 0, warnings };
  const configurationPath = `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${options.webhookConfiguration}`;
  const configuration = await existing<WebhookConfigurationObject>(api, configurationPath, `ValidatingWebhookConfiguration ${options.webhookConfiguration}`);
  if (!configuration) return { secret: created ? 'created' : 'kept', notAfter, caBundle: 'absent', patchedWebhooks: 0, warnings };
  const stale = (configuration.webhooks ?? []).filter((webhook) => webhook.clientConfig?.caBundle !== caBundle);
  if (stale.length === 0) return { secret: created ? 'created' : 'kept', notAfter, caBundle: 'current', patchedWebhooks: 0, warnings };
  // A strategic merge patch: webhooks merge by name, so only caBundle changes and nothing else is owned.
  const patch = { webhooks: stale.map((webhook) => ({ name: webhook.name, clientConfig: { caBundle } })) };
  const response = await api.request('PATCH', `${configurationPath}?fieldManager=${CA_BUNDLE_FIELD_MANAGER}`, patch, 'application/strategic-merge-patch+json');
  if (response.status !== 200) throw failure(`patch the caBundle of ValidatingWebhookConfiguration ${options.webhookConfiguration}`, response, api);
  return { secret: created ? 'created' : 'kept', notAfter, caBundle: 'patched', patchedWebhooks: stale.length, warnings };
}

/** Warnings about a certificate that is kept: names it lacks, an end within 30 days. */
function inspect(servingCertBase64: string, options: EnsureWebhookCertificateOptions): { notAfter: Date; warnings: string[] } {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(servingCertBase64, 'base64'));
  } catch (error) {
    throw grError(ErrorCodes.WEBHOOK_CERTIFICATE, `tls.crt of Secret ${options.namespace}/${options.secret} is not a certificate: ${(error as Error).message}`, {
      fix: 'delete the Secret to have one generated, or put a PEM certificate in it',
    });
  }
  const notAfter = new Date(cert.validTo);
  const now = options.now ?? new Date();
  const warnings: string[] = [];
  const missing = options.dnsNames.filter((dnsName) => cert.checkHost(dnsName, { wildcards: true }) === undefined);
  if (missing.length > 0) warnings.push(`the certificate in Secret ${options.namespace}/${options.secret} is not valid for ${missing.join(', ')}: delete the Secret to have a new one generated`);
  if (notAfter.getTime() <= now.getTime())
    warnings.push(`the certificate in Secret ${options.namespace}/${options.secret} expired on ${notAfter.toISOString()}: delete the Secret to have a new one generated`);
  else if (notAfter.getTime() - now.getTime() < 30 * 86_400_000) {
    warnings.push(`the certificate in Secret ${options.namespace}/${options.secret} expires on ${notAfter.toISOString()}: delete the Secret and run this again before then`);
  }
  return { notAfter, warnings };
}

async function existing<T>(api: KubeApiClient, path: string, what: string): Promise<T | undefined> {
  const response = await api.request('GET', path);
  if (response.status === 404) return undefined;
  if (response.status !== 200) throw failure(`read ${what}`, response, api);
  return JSON.parse(response.body) as T;
}

function failure(action: string, response: KubeApiResponse, api: KubeApiClient): Error {
  return webhookCertificateFailure(action, response, api, 'get/create on that Secret and get/patch on that ValidatingWebhookConfiguration');
}

const base64 = (text: string) => Buffer.from(text).toString('base64');
