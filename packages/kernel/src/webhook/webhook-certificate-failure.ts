import { grError } from '@gitops-reverser/contract';
import { ErrorCodes } from '../errors.js';
import type { KubeApiClient, KubeApiResponse } from './kube-api-client.js';

/**
 * The error of a webhook-certificate request the API server refused: its own message (from the
 * Status it answers with, else the start of the raw text), and for 401/403 which grant is missing.
 */
export function webhookCertificateFailure(action: string, response: KubeApiResponse, api: KubeApiClient, grantsNeeded: string): Error {
  let message = response.body.slice(0, 300);
  try {
    message = (JSON.parse(response.body) as { message?: string }).message ?? message;
  } catch {
    // not a Status object: the raw text says it
  }
  return grError(ErrorCodes.WEBHOOK_CERTIFICATE, `cannot ${action} (${api.server}): HTTP ${response.status} ${message}`, {
    fix: response.status === 401 || response.status === 403 ? `the ServiceAccount needs ${grantsNeeded} (the chart grants exactly these)` : 'see the API server message',
  });
}
