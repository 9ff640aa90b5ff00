import type { KubeApiClient, KubeApiResponse } from './kube-api-client.js';
import { webhookCertificateFailure } from './webhook-certificate-failure.js';
import { WEBHOOK_CERTIFICATE_LABELS } from './ensure-webhook-certificate.js';

export interface DeleteWebhookCertificateOptions {
  readonly namespace: string;
  readonly secret: string;
}

/**
 * `deleted`; `absent` (nothing to do); `kept`: the Secret was not made by `webhook-certificate` (it
 * lacks its labels), so it is someone's own certificate and stays.
 */
export type DeleteWebhookCertificateResult = 'deleted' | 'absent' | 'kept';

interface SecretObject {
  metadata?: { uid?: string; labels?: Record<string, string> };
}

/**
 * Deletes the Secret `ensureWebhookCertificate` created (the chart's post-delete hook runs this), and
 * only that one: a Secret of the same name without its labels is left alone. The delete is
 * conditional on the uid that was read, so a Secret made again meanwhile is not the one deleted.
 */
export async function deleteWebhookCertificate(api: KubeApiClient, options: DeleteWebhookCertificateOptions): Promise<DeleteWebhookCertificateResult> {
  const what = `Secret ${options.namespace}/${options.secret}`;
  const path = `/api/v1/namespaces/${options.namespace}/secrets/${options.secret}`;
  const read = await api.request('GET', path);
  if (read.status === 404) return 'absent';
  if (read.status !== 200) throw failure(`read ${what}`, read, api);
  const secret = JSON.parse(read.body) as SecretObject;
  const labels = secret.metadata?.labels ?? {};
  if (Object.entries(WEBHOOK_CERTIFICATE_LABELS).some(([key, value]) => labels[key] !== value)) return 'kept';
  const preconditions = secret.metadata?.uid ? { preconditions: { uid: secret.metadata.uid } } : {};
  const response = await api.request('DELETE', path, { apiVersion: 'v1', kind: 'DeleteOptions', ...preconditions });
  if (response.status === 200 || response.status === 202) return 'deleted';
  // 404: gone meanwhile; 409: another Secret of that name was made since it was read (it stays).
  if (response.status === 404) return 'absent';
  if (response.status === 409) return 'kept';
  throw failure(`delete ${what}`, response, api);
}

function failure(action: string, response: KubeApiResponse, api: KubeApiClient): Error {
  return webhookCertificateFailure(action, response, api, 'get and delete on that Secret');
}
