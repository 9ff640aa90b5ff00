import { ErrorCodes } from '../errors.js';
import type { CliIo } from './run-cli.js';

/** The options of `webhook-certificate` (parsed with the CLI's others; `--namespace` is shared). */
export const WEBHOOK_CERTIFICATE_OPTIONS = {
  secret: { type: 'string' },
  'dns-name': { type: 'string', multiple: true },
  'validity-days': { type: 'string' },
  'webhook-configuration': { type: 'string' },
  kubeconfig: { type: 'string' },
  delete: { type: 'boolean' },
} as const;

export interface WebhookCertificateArgs {
  readonly namespace?: string | undefined;
  readonly secret?: string | undefined;
  readonly dnsNames?: readonly string[] | undefined;
  readonly validityDays?: string | undefined;
  readonly webhookConfiguration?: string | undefined;
  readonly kubeconfig?: string | undefined;
  readonly delete?: boolean | undefined;
}

/**
 * `gitops-reverser webhook-certificate`: the chart's hook Job runs it before and after every install
 * and upgrade (and anyone may run it by hand). Creates the serving certificate's Secret once and sets
 * the webhook configuration's `caBundle` from it; needs no config file. With `--delete` (the chart's
 * post-delete hook) it deletes that Secret instead, when it made it. Exit 0 when done, 1 when the API
 * refused, 2 for unusable options.
 */
export async function webhookCertificateCommand(args: WebhookCertificateArgs, io: CliIo): Promise<number> {
  if (args.delete) return await deleteCommand(args, io);
  const dnsNames = args.dnsNames ?? [];
  const validityDays = Number(args.validityDays ?? 3650);
  if (!args.namespace || !args.secret || dnsNames.length === 0) {
    io.stderr(
      `${ErrorCodes.CLI_USAGE}: webhook-certificate needs --namespace, --secret and at least one --dns-name\n` +
        '  fix: e.g. webhook-certificate --namespace gitops-reverser --secret gitops-reverser-webhook-tls --dns-name gitops-reverser.gitops-reverser.svc --webhook-configuration gitops-reverser\n',
    );
    return 2;
  }
  if (!Number.isInteger(validityDays) || validityDays < 1) {
    io.stderr(`${ErrorCodes.CLI_USAGE}: --validity-days "${args.validityDays}" is not a whole number of days\n  fix: e.g. --validity-days 3650\n`);
    return 2;
  }
  const [{ ensureWebhookCertificate }, { kubeApiClient }] = await Promise.all([import('../webhook/ensure-webhook-certificate.js'), import('../webhook/kube-api-client.js')]);
  const report = await ensureWebhookCertificate(kubeApiClient(args.kubeconfig), {
    namespace: args.namespace,
    secret: args.secret,
    dnsNames,
    validityDays,
    ...(args.webhookConfiguration ? { webhookConfiguration: args.webhookConfiguration } : {}),
  });
  const secret = `Secret ${args.namespace}/${args.secret}`;
  io.stdout(
    report.secret === 'created'
      ? `${secret}: created (a new CA and a serving certificate for ${dnsNames.join(', ')}, valid until ${report.notAfter.toISOString()})\n`
      : `${secret}: kept (valid until ${report.notAfter.toISOString()})\n`,
  );
  for (const warning of report.warnings) io.stdout(`warning: ${warning}\n`);
  const configuration = `ValidatingWebhookConfiguration ${args.webhookConfiguration}`;
  if (report.caBundle === 'patched') io.stdout(`${configuration}: caBundle set on ${report.patchedWebhooks} webhook(s)\n`);
  else if (report.caBundle === 'current') io.stdout(`${configuration}: caBundle already current\n`);
  else if (report.caBundle === 'absent') io.stdout(`${configuration}: not there yet (the run after the install sets its caBundle)\n`);
  return 0;
}

async function deleteCommand(args: WebhookCertificateArgs, io: CliIo): Promise<number> {
  if (!args.namespace || !args.secret || (args.dnsNames ?? []).length > 0 || args.validityDays !== undefined || args.webhookConfiguration !== undefined) {
    io.stderr(
      `${ErrorCodes.CLI_USAGE}: webhook-certificate --delete needs --namespace and --secret, and takes none of --dns-name, --validity-days, --webhook-configuration\n` +
        '  fix: e.g. webhook-certificate --delete --namespace gitops-reverser --secret gitops-reverser-webhook-tls\n',
    );
    return 2;
  }
  const [{ deleteWebhookCertificate }, { kubeApiClient }] = await Promise.all([import('../webhook/delete-webhook-certificate.js'), import('../webhook/kube-api-client.js')]);
  const result = await deleteWebhookCertificate(kubeApiClient(args.kubeconfig), { namespace: args.namespace, secret: args.secret });
  const secret = `Secret ${args.namespace}/${args.secret}`;
  if (result === 'deleted') io.stdout(`${secret}: deleted\n`);
  else if (result === 'absent') io.stdout(`${secret}: not there\n`);
  else io.stdout(`${secret}: kept (not made by webhook-certificate: it lacks the label app.kubernetes.io/component=webhook-certificate)\n`);
  return 0;
}
