import { grError, type StoredHistoryQuery } from '@gitops-reverser/contract';
import type { GitopsReverserConfig } from '../config/config-types.js';
import { ErrorCodes } from '../errors.js';
import type { CliIo } from './run-cli.js';
import { fieldChangeLines } from './field-diff.js';
import { attributionText, type HistoryEntry, historyEntryOf } from './history-entry.js';
import { describeSelection, parseSelector } from './object-selector.js';
import { parseTime } from './point-in-time.js';
import { openStoredTargets } from './stored-targets.js';

export interface HistoryOptions {
  readonly selector: string;
  readonly target?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly author?: string | undefined;
  readonly output: 'text' | 'json';
  /** False with `--no-fetch`: read the local copy as it is. */
  readonly fetch: boolean;
}

/**
 * `gitops-reverser history <selector>`: every change of an object (or of a namespace, or of the files
 * under a path), newest first, per target: when, who, how the author was known, what was done, and
 * which fields changed. Exit 0; GR_ERR_HISTORY_NOTHING when no target holds a change of it.
 */
export async function historyCommand(config: GitopsReverserConfig, options: HistoryOptions, io: CliIo): Promise<number> {
  const selection = parseSelector(options.selector);
  const query: StoredHistoryQuery = {
    ...(options.since ? { since: parseTime(options.since, '--since') } : {}),
    ...(options.until ? { until: parseTime(options.until, '--until') } : {}),
    ...(options.author ? { author: options.author } : {}),
  };
  const { history, targets } = await openStoredTargets(config, { target: options.target });
  const results: { target: string; location: string; changes: HistoryEntry[] }[] = [];
  for (const target of targets) {
    if (options.fetch) await history.refresh(target);
    const changes = (await history.history(target, selection, query)).map(historyEntryOf);
    results.push({ target: target.target.name, location: history.describe(target), changes });
  }
  const total = results.reduce((sum, r) => sum + r.changes.length, 0);
  if (total === 0) {
    const narrowed = query.since || query.until || query.author ? ' with the --since/--until/--author given' : '';
    throw grError(ErrorCodes.HISTORY_NOTHING, `no change of ${describeSelection(selection)}${narrowed} in target(s) ${results.map((r) => `${r.target} (${r.location})`).join(', ')}`, {
      fix:
        selection.kind === 'object' && selection.object.namespace === ''
          ? 'a namespaced object needs its namespace: Kind/namespace/name'
          : 'check the kind, namespace and name (a Kind is written as in the object, e.g. ConfigMap); without --no-fetch the clone is fetched first',
    });
  }
  if (options.output === 'json') {
    io.stdout(`${JSON.stringify({ selector: options.selector, targets: results.filter((r) => r.changes.length > 0) }, null, 2)}\n`);
    return 0;
  }
  const blocks: string[] = [];
  for (const result of results) {
    if (result.changes.length === 0) continue;
    const lines = [`${describeSelection(selection)} in target ${result.target} (${result.location}): ${result.changes.length} change(s), newest first`];
    for (const entry of result.changes) lines.push('', ...entryLines(entry, selection.kind !== 'object'));
    blocks.push(lines.join('\n'));
  }
  io.stdout(`${blocks.join('\n\n')}\n`);
  return 0;
}

function entryLines(entry: HistoryEntry, several: boolean): string[] {
  const when = entry.time.replace(/\.000Z$/, 'Z');
  const details = [entry.resourceVersion ? `resourceVersion ${entry.resourceVersion}` : undefined, entry.cluster ? `cluster ${entry.cluster}` : undefined].filter(Boolean).join(', ');
  const lines = [
    `${when}  ${entry.operation.padEnd(6)}  ${entry.author.name} <${entry.author.email}>  commit ${entry.revision.slice(0, 12)}`,
    `  author known by: ${attributionText(entry.attribution)}${details ? `; ${details}` : ''}`,
    entry.previousPath ? `  file: ${entry.previousPath} -> ${entry.path}` : `  file: ${entry.path}`,
  ];
  // Changes of several objects (a namespace, a folder, a file of several documents) say whose.
  if (several) lines.splice(2, 0, `  object: ${entry.object ? objectText(entry.object) : 'none of its objects changed (the file only)'}`);
  // A create or delete would list every field: the file says it better.
  if (entry.operation === 'UPDATE' || (entry.operation === 'MOVE' && entry.fields.length > 0)) lines.push(...fieldChangeLines(entry.fields).map((line) => `    ${line}`));
  return lines;
}

function objectText(object: NonNullable<HistoryEntry['object']>): string {
  return `${object.group ? `${object.group}/` : ''}${object.kind} ${object.namespace ? `${object.namespace}/` : ''}${object.name}`;
}
