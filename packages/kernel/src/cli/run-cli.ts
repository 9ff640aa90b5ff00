import { parseArgs } from 'node:util';
import type { GitopsReverserConfig, LogFormat } from '../config/config-types.js';
import { loadConfigFile } from '../config/load-config.js';
import { errorText, isGitopsReverserError } from '@gitops-reverser/contract';
import { ErrorCodes } from '../errors.js';
import { assemble } from '../assembly/assemble.js';
import { KERNEL_VERSION } from '../plugin/kernel-version.js';
import { createLogger, silentLogger } from '../runtime/logger.js';
import { KernelMetrics } from '../runtime/metrics.js';
import { Runtime, type SnapshotProgress, type SnapshotReport } from '../runtime/runtime.js';
import { readSharedKeys } from '../runtime/shared-key-files.js';
import { rbacForRules } from '../rbac/rbac-for-rules.js';
import { defaultsDocument } from './defaults-command.js';
import { serviceLines } from './service-lines.js';
import { ADMISSION_WEBHOOK_OPTIONS, admissionWebhookCommand } from './admission-webhook-command.js';
import { WEBHOOK_CERTIFICATE_OPTIONS, webhookCertificateCommand } from './webhook-certificate-command.js';
import { isStoredCommand, runStoredCommand, STORED_COMMAND_OPTION_USAGE, STORED_COMMAND_OPTIONS, STORED_COMMAND_USAGE } from './stored-commands.js';
import { rulesForCluster } from '@gitops-reverser/contract';
import { stringify } from 'yaml';

const USAGE = `gitops-reverser ${KERNEL_VERSION}: live Kubernetes state as clean YAML in git

Usage:
  gitops-reverser run      --config <file>   start; stops cleanly on SIGTERM/SIGINT, reloads rules on SIGHUP
  gitops-reverser validate --config <file>   check the config and every adapter it names; exit 0 or 1
  gitops-reverser plugins  --config <file>   list the adapters the config resolves to, with versions and the services they provide and need
  gitops-reverser snapshot --config <file>   seed every target once, commit, push, exit (0, or 1 with what is missing)
  gitops-reverser rbac     --config <file>   print the least-privilege ClusterRole/Roles (+ bindings) the rules need
  gitops-reverser admission-webhook --config <file> (--url <https://host:port> | --service <ns>/<name>[:port]) [--ca-file <ca.crt>]
                                             print the ValidatingWebhookConfiguration for the config's source-admission sources
  gitops-reverser webhook-certificate --namespace <ns> --secret <name> --dns-name <name>... [--webhook-configuration <name>]
                                             create the webhooks' serving certificate Secret once; set the configuration's caBundle from it
  gitops-reverser webhook-certificate --delete --namespace <ns> --secret <name>
                                             delete that Secret (only one webhook-certificate made)
  gitops-reverser defaults [--config <file>] print the built-in noise lists and credential rules (as the config changes them)
${STORED_COMMAND_USAGE}

Options:
  -c, --config <file>   config file (default: $GITOPS_REVERSER_CONFIG)
  --timeout <seconds>   snapshot, diff: give up waiting for the seed after this long (default 600)
  --log-format <f>      run, snapshot: auto (readable on a terminal, else JSON), json or text (default: log.format, $LOG_FORMAT, auto)
  --service-account <n> rbac: ServiceAccount the bindings name (default gitops-reverser)
  --namespace <ns>      rbac: namespace of that ServiceAccount (default gitops-reverser)
  --name <name>         rbac: name of the ClusterRole, Roles and bindings (default gitops-reverser)
  --cluster <id>        rbac, admission-webhook: only the rules (sources) of this cluster id (default: all)
  --url <url>           admission-webhook: https address the API server calls (the path /admission/<cluster> is added)
  --service <ns>/<name>[:port]  admission-webhook: the Service the API server calls instead (port default 443)
  --ca-file <file>      admission-webhook: PEM CA of the serving certificate, written as caBundle
  --timeout-seconds <n> admission-webhook: how long a write waits for the webhook, 1 or 2 (default 2)
                        admission-webhook also uses --namespace (never reviewed) and --name (of the configuration)
  --secret <name>       webhook-certificate: the kubernetes.io/tls Secret (in --namespace), created only if missing
  --dns-name <name>     webhook-certificate: a name the serving certificate is for (repeat for each)
  --validity-days <n>   webhook-certificate: lifetime of a new certificate (default 3650)
  --webhook-configuration <name>  webhook-certificate: ValidatingWebhookConfiguration whose caBundle is set (when it exists)
  --kubeconfig <file>   webhook-certificate: API access (default: the pod's ServiceAccount)
  --delete              webhook-certificate: delete the Secret instead (when it has the labels webhook-certificate gives)
${STORED_COMMAND_OPTION_USAGE}
  -h, --help            this text
  -v, --version         print the version
`;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

const CLI_OPTIONS = {
  config: { type: 'string', short: 'c' },
  'service-account': { type: 'string' },
  namespace: { type: 'string' },
  cluster: { type: 'string' },
  name: { type: 'string' },
  timeout: { type: 'string' },
  'log-format': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  ...ADMISSION_WEBHOOK_OPTIONS,
  ...WEBHOOK_CERTIFICATE_OPTIONS,
  ...STORED_COMMAND_OPTIONS,
} as const;

function parseCliArgs(argv: readonly string[]) {
  return parseArgs({ args: [...argv], allowPositionals: true, options: CLI_OPTIONS });
}

/** Runs one CLI command and returns the exit code. `run` resolves only after shutdown. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let parsed: ReturnType<typeof parseCliArgs>;
  try {
    parsed = parseCliArgs(argv);
  } catch (error) {
    io.stderr(`${ErrorCodes.CLI_USAGE}: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    io.stdout(`${KERNEL_VERSION}\n`);
    return 0;
  }
  const command = positionals[0];
  if (values.help || command === undefined || command === 'help') {
    io.stdout(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (!['run', 'validate', 'plugins', 'rbac', 'snapshot', 'admission-webhook', 'webhook-certificate', 'defaults'].includes(command) && !isStoredCommand(command)) {
    io.stderr(
      `${ErrorCodes.CLI_USAGE}: unknown command "${command}"\n  fix: use run, validate, plugins, rbac, snapshot, admission-webhook, webhook-certificate, defaults, history, diff or restore\n\n${USAGE}`,
    );
    return 2;
  }
  if (command === 'webhook-certificate') {
    // Needs no config: the chart's hook Job runs it before the config matters.
    const { namespace, secret, 'dns-name': dnsNames, 'validity-days': validityDays, 'webhook-configuration': webhookConfiguration, kubeconfig, delete: remove } = values;
    return await webhookCertificateCommand({ namespace, secret, dnsNames, validityDays, webhookConfiguration, kubeconfig, delete: remove }, io).catch((error: unknown) => {
      io.stderr(`${describeError(error)}\n`);
      return 1;
    });
  }
  if (command === 'defaults') return await defaults(values.config ?? process.env['GITOPS_REVERSER_CONFIG'], io);
  const timeoutSeconds = Number(values.timeout ?? 600);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    io.stderr(`${ErrorCodes.CLI_USAGE}: --timeout "${values.timeout}" is not a positive number of seconds\n  fix: e.g. --timeout 900\n`);
    return 2;
  }
  const logFormat = values['log-format'];
  if (logFormat !== undefined && !['auto', 'json', 'text'].includes(logFormat)) {
    io.stderr(`${ErrorCodes.CLI_USAGE}: --log-format "${logFormat}" is not a log format\n  fix: use --log-format auto, json or text\n`);
    return 2;
  }
  const configFile = values.config ?? process.env['GITOPS_REVERSER_CONFIG'];
  if (!configFile) {
    io.stderr(`${ErrorCodes.CLI_USAGE}: ${command} needs a config file\n  fix: pass --config <file>, e.g. --config examples/quickstart.yaml\n`);
    return 2;
  }

  try {
    const loaded = loadConfigFile(configFile);
    const config: GitopsReverserConfig = logFormat === undefined ? loaded : { ...loaded, log: { ...loaded.log, format: logFormat as LogFormat } };
    if (isStoredCommand(command)) return await runStoredCommand(command, config, values, positionals.slice(1), io);
    if (command === 'validate') return await validate(config, io);
    if (command === 'plugins') return await plugins(config, io);
    if (command === 'snapshot') return await snapshot(config, io, timeoutSeconds);
    if (command === 'admission-webhook') {
      const { url, service, 'ca-file': caFile, 'timeout-seconds': timeoutSeconds, namespace, name, cluster } = values;
      return admissionWebhookCommand(config, { url, service, caFile, timeoutSeconds, namespace, name, cluster }, io);
    }
    if (command === 'rbac') {
      return rbac(config, io, {
        serviceAccount: values['service-account'] ?? 'gitops-reverser',
        namespace: values.namespace ?? 'gitops-reverser',
        name: values.name ?? 'gitops-reverser',
        ...(values.cluster ? { cluster: values.cluster } : {}),
      });
    }
    return await run(config, io);
  } catch (error) {
    io.stderr(`${describeError(error)}\n`);
    // diff answers 1 for "drifted": a config it cannot load is 2, "cannot tell".
    return command === 'diff' ? 2 : 1;
  }
}

/** Prints the built-in lists; with a config file, as it changes them (its adapters are loaded, none is created). */
async function defaults(configFile: string | undefined, io: CliIo): Promise<number> {
  try {
    io.stdout(await defaultsDocument(configFile ? loadConfigFile(configFile) : undefined, process.cwd()));
    return 0;
  } catch (error) {
    io.stderr(`${describeError(error)}\n`);
    return 1;
  }
}

/** Loads, creates and checks every adapter and lets the sink plan the targets, exactly as `run` would; starts nothing. */
async function assembled(config: GitopsReverserConfig) {
  return assemble(config, { logger: silentLogger(), metrics: new KernelMetrics() });
}

async function validate(config: GitopsReverserConfig, io: CliIo): Promise<number> {
  const assembly = await assembled(config);
  // The shared key files are read as run reads them at start (Runtime.create), so a short or missing key fails here too.
  readSharedKeys(config);
  const clusters = [...new Set(assembly.sources.map((s) => s.cluster))];
  const partitions = new Set([...assembly.plan.partitions.values()].map((p) => p.key));
  io.stdout(
    `${config.configFile}: valid\n` +
      `  ${assembly.sources.length} source(s) for cluster(s) ${clusters.join(', ')}; ${assembly.normalizers.length} extra normalizer(s); ` +
      `bus ${assembly.bus.name}; sink ${assembly.sink.name}; ` +
      `${assembly.targets.length} target(s) in ${partitions.size} partition(s); ${config.rules.length} rule(s)\n`,
  );
  return 0;
}

async function plugins(config: GitopsReverserConfig, io: CliIo): Promise<number> {
  const assembly = await assembled(config);
  const adapters = [...assembly.sources, ...assembly.normalizers, assembly.bus, assembly.sink];
  const rows = adapters.map((adapter) => [
    adapter.keyPath,
    adapter.slot,
    adapter.name,
    adapter.packageName ?? '-',
    adapter.version ?? '-',
    adapter.kernelRange ? `kernel ${adapter.kernelRange}` : '-',
    adapter.file ?? '(given in code)',
  ]);
  // KERNEL: the kernel range the adapter is built for (the column was headed NEEDS before services were shown).
  const header = ['KEY', 'SLOT', 'NAME', 'PACKAGE', 'VERSION', 'KERNEL', 'FILE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  // Services go on indented lines under their adapter's row, so the table's columns stay as they are.
  const body = rows.flatMap((row, i) => [line(row), ...serviceLines(adapters[i] as (typeof adapters)[number], adapters)]);
  io.stdout(`kernel ${KERNEL_VERSION}\n${line(header)}\n${body.join('\n')}\n`);
  return 0;
}

/**
 * One seed of every target, written and pushed, then an ordered stop. Progress: one rewritten line
 * on a terminal, a plain line every few seconds otherwise. Exit 1 with a summary when a source could
 * not list something, or the sink could not write or push.
 */
async function snapshot(config: GitopsReverserConfig, io: CliIo, timeoutSeconds: number, isTty = Boolean(process.stdout.isTTY)): Promise<number> {
  // Info logs would interleave with the progress display; warnings and errors still show.
  const logger = createLogger(config.log.level === 'debug' || config.log.level === 'trace' ? config.log.level : 'warn', undefined, config.log.format);
  const runtime = await Runtime.create(config, { logger, serve: false });
  const describe = (p: SnapshotProgress) =>
    `snapshot: sources seeded ${p.sourcesSeeded}/${p.sources}` +
    (p.watchedTypes > 0 ? `, ${p.watchedTypes} type(s) watched` : '') +
    `, ${p.objectsReceived} object(s) listed, ${p.objectsWritten} file(s) written, ${p.queued} queued (${(p.elapsedMs / 1000).toFixed(1)} s)`;
  let lastPlainLine = 0;
  let report: SnapshotReport;
  let clean = false;
  try {
    await runtime.start();
    report = await runtime.snapshot({
      timeoutMs: timeoutSeconds * 1000,
      intervalMs: isTty ? 200 : 250,
      onProgress: (progress) => {
        if (isTty) io.stdout(`\r\x1b[2K${describe(progress)}`);
        else if (Date.now() - lastPlainLine >= 2000) {
          lastPlainLine = Date.now();
          io.stdout(`${describe(progress)}\n`);
        }
      },
    });
  } finally {
    clean = await runtime.stop('snapshot finished');
  }
  io.stdout(`${isTty ? '\r\x1b[2K' : ''}${describe(report.progress)}\n`);
  const problems = [...report.problems, ...(clean ? [] : ['the shutdown did not finish cleanly: a step timed out or failed (see the log above)'])];
  if (problems.length === 0) {
    io.stdout('snapshot complete\n');
    return 0;
  }
  io.stderr(`snapshot incomplete: ${problems.length} problem(s)\n${problems.map((problem) => `  - ${problem}`).join('\n')}\n`);
  return 1;
}

/** Prints the RBAC the rules need as multi-document YAML, ready for `kubectl apply -f -`. Loads no adapter. */
function rbac(config: GitopsReverserConfig, io: CliIo, options: { serviceAccount: string; namespace: string; name: string; cluster?: string }): number {
  const clusters = [...new Set(config.sources.map((source) => source.cluster))];
  // A cluster id no source observes is a typo: rules without clusters: would still print a role for it.
  if (options.cluster !== undefined && !clusters.includes(options.cluster)) {
    io.stderr(`${ErrorCodes.CLI_USAGE}: no source of ${config.configFile} observes cluster "${options.cluster}"\n  fix: use --cluster ${clusters.join(' or --cluster ')} (sources[].cluster)\n`);
    return 1;
  }
  const rules = options.cluster ? rulesForCluster(config.rules, options.cluster) : config.rules;
  if (rules.length === 0) {
    io.stderr(
      `${ErrorCodes.CLI_USAGE}: no rule applies${options.cluster ? ` to cluster "${options.cluster}"` : ''}, so no role is needed\n  fix: check --cluster against the rules' clusters: in ${config.configFile}\n`,
    );
    return 1;
  }
  const plan = rbacForRules(rules, { serviceAccount: options.serviceAccount, namespace: options.namespace, name: options.name });
  const header = [
    `# Least-privilege RBAC for ${config.configFile}${options.cluster ? ` (cluster ${options.cluster})` : ''}: read-only (get, list, watch),`,
    `# bound to ServiceAccount ${options.namespace}/${options.serviceAccount}. Generated by \`gitops-reverser rbac\`; regenerate when the rules change.`,
    ...plan.remarks.map((remark) => `# note: ${remark}`),
  ];
  io.stdout(`${header.join('\n')}\n${plan.manifests.map((manifest) => `---\n${stringify(manifest)}`).join('')}`);
  return 0;
}

async function run(config: GitopsReverserConfig, io: CliIo): Promise<number> {
  const logger = createLogger(config.log.level, undefined, config.log.format);
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: errorText(reason) }, `unhandled rejection (kept running): ${errorText(reason)}`);
  });
  // The CLI serves /healthz /readyz /metrics unless the config says server.enabled: false.
  const runtime = await Runtime.create(config, { logger, serve: config.server.enabled ?? true });
  await runtime.start();

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const onStop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now without finishing the shutdown');
        logger.flush();
        process.exit(130);
      }
      stopping = true;
      // A last guard in case a step ignores its timeout: exit anyway a little after the budget.
      const hardStop = setTimeout(
        () => {
          logger.error('shutdown did not finish in time; exiting');
          logger.flush();
          process.exit(1);
        },
        (config.shutdown.timeoutSeconds + 5) * 1000,
      );
      hardStop.unref();
      void runtime.stop(`received ${signal}`).then((clean) => {
        clearTimeout(hardStop);
        process.off('SIGHUP', onReload);
        logger.flush();
        resolve(clean ? 0 : 1);
      });
    };
    const onReload = () => {
      try {
        const next = loadConfigFile(config.configFile);
        void runtime.reload(next).catch((error: unknown) => logger.error({ err: errorText(error) }, `reload failed: ${errorText(error)}`));
      } catch (error) {
        io.stderr(`${describeError(error)}\n`);
        logger.error({ err: errorText(error) }, 'config reload refused; keeping the running config');
      }
    };
    process.on('SIGTERM', () => onStop('SIGTERM'));
    process.on('SIGINT', () => onStop('SIGINT'));
    process.on('SIGHUP', onReload);
  });
}

/** Our errors describe themselves (code, message, fix; a ConfigValidationError lists every problem). */
function describeError(error: unknown): string {
  return isGitopsReverserError(error) ? error.describe() : `error: ${errorText(error)}`;
}
