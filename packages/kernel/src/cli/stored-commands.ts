import { errorText, grError, isGitopsReverserError } from '@gitops-reverser/contract';
import type { GitopsReverserConfig } from '../config/config-types.js';
import { ErrorCodes } from '../errors.js';
import type { CliIo } from './run-cli.js';

/** The commands that read what the sink stored: the audit trail, drift against the cluster, and the undo. */
export const STORED_COMMANDS = ['history', 'diff', 'restore'] as const;
export type StoredCommand = (typeof STORED_COMMANDS)[number];

export const STORED_COMMAND_USAGE = `  gitops-reverser history  <selector> --config <file>   every change of an object, namespace or path: when, who, how the author was known, what changed
  gitops-reverser diff     --config <file>              what the next seed would change, per target, without writing; exit 0 in step, 1 drifted, 2 cannot tell
  gitops-reverser restore  <selector> --at <time|commit> --config <file>   objects as they were then, compared with the cluster; --apply writes them back`;

export const STORED_COMMAND_OPTION_USAGE = `  --target <name>       history, diff, restore: only this target (default: all)
  --output text|json    history, diff, restore: output format (default text)
  --no-fetch            history, diff, restore: read the local copy as it is (default: fetch a remote's clone first)
  --since, --until <t>  history: only changes observed in that window (2026-11-20, 2026-11-20T14:30Z, 3d = 3 days ago)
  --author <text>       history: only changes whose author's name or email contains it
  --at <time|commit>    restore: the point to go back to
  --identities <file>   restore: age identity file that decrypts the SOPS files
  --apply               restore: write the objects (server-side apply, field manager gitops-reverser-restore)
  --dry-run=server      restore: the default: the API server checks every write and keeps none
  --to-cluster <id>     restore: into this cluster, even if the files came from another
  --kubeconfig, --context   restore: whose credentials (default: $KUBECONFIG or ~/.kube/config, its current context)
  selectors: Kind/namespace/name, group/Kind/namespace/name, Kind/name, group/Kind/name, <namespace>, path:<path>`;

export const STORED_COMMAND_OPTIONS = {
  target: { type: 'string' },
  output: { type: 'string' },
  'no-fetch': { type: 'boolean' },
  since: { type: 'string' },
  until: { type: 'string' },
  author: { type: 'string' },
  at: { type: 'string' },
  identities: { type: 'string' },
  apply: { type: 'boolean' },
  'dry-run': { type: 'string' },
  'to-cluster': { type: 'string' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
} as const;

type Values = { readonly [K in keyof typeof STORED_COMMAND_OPTIONS]?: (typeof STORED_COMMAND_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string } & { readonly timeout?: string };

export function isStoredCommand(command: string): command is StoredCommand {
  return (STORED_COMMANDS as readonly string[]).includes(command);
}

// The three commands are imported when run: `run` and the other commands do not load them and what
// they use (the cluster client, SOPS decryption, the field diff; docs/adr/0043-small-install-memory.md).

/**
 * Runs history, diff or restore. Errors are printed with their code and fix. Exit codes: history and
 * restore 0 or 1; diff 0 (in step), 1 (drifted) or 2 (an error: it could not tell).
 */
export async function runStoredCommand(command: StoredCommand, config: GitopsReverserConfig, values: Values, positionals: readonly string[], io: CliIo): Promise<number> {
  const failed = command === 'diff' ? 2 : 1;
  try {
    const output = values.output ?? 'text';
    if (output !== 'text' && output !== 'json') throw usage(`--output "${output}" is neither text nor json`, 'use --output text or --output json');
    const fetch = values['no-fetch'] !== true;
    if (command === 'diff') {
      if (positionals.length > 0) throw usage(`diff takes no selector ("${positionals.join(' ')}")`, 'diff compares every object of each target; narrow it with --target');
      const { diffCommand } = await import('./diff-command.js');
      return await diffCommand(config, { target: values.target, output, fetch, timeoutSeconds: Number(values.timeout ?? 600) }, io);
    }
    const selector = positionals[0];
    if (selector === undefined || positionals.length > 1) {
      throw usage(`${command} takes one selector${positionals.length > 1 ? `, not ${positionals.length}` : ''}`, `e.g. gitops-reverser ${command} ConfigMap/team-a/settings --config <file>`);
    }
    if (command === 'history') {
      const { historyCommand } = await import('./history-command.js');
      return await historyCommand(config, { selector, target: values.target, since: values.since, until: values.until, author: values.author, output, fetch }, io);
    }
    if (values.at === undefined) throw usage('restore needs --at <time|commit>', 'e.g. --at 2026-11-20T14:30Z, --at 2d, or a commit id from gitops-reverser history');
    const dryRun = values['dry-run'];
    if (dryRun !== undefined && dryRun !== 'server') throw usage(`--dry-run=${dryRun} is not known`, 'use --dry-run=server (the default), or --apply to write');
    if (dryRun === 'server' && values.apply) throw usage('--apply and --dry-run=server contradict each other', 'leave out one of them');
    const { restoreCommand } = await import('./restore-command.js');
    return await restoreCommand(
      config,
      {
        selector,
        at: values.at,
        target: values.target,
        identities: values.identities,
        apply: values.apply === true,
        toCluster: values['to-cluster'],
        kubeconfig: values.kubeconfig,
        context: values.context,
        output,
        fetch,
      },
      io,
    );
  } catch (error) {
    io.stderr(`${isGitopsReverserError(error) ? error.describe() : `error: ${errorText(error)}`}\n`);
    return failed;
  }
}

function usage(message: string, fix: string): Error {
  return grError(ErrorCodes.CLI_USAGE, message, { fix });
}
