/**
 * The readable log line for a terminal (`log.format: text`, or `auto` on a TTY): pino's JSON record
 * turned into `15:04:05.123 INFO  [sink-git] pushed 3 commit(s) target=live partition=origin#main`.
 * Built in rather than pino-pretty: one small function, no dependency, no worker thread (ADR 0032).
 */

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

// ANSI colours per level, as kubectl's and controller-runtime's development logs use them.
const LEVEL_COLOURS: Record<string, string> = { TRACE: '\x1b[90m', DEBUG: '\x1b[90m', INFO: '\x1b[32m', WARN: '\x1b[33m', ERROR: '\x1b[31m', FATAL: '\x1b[35m' };
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

/** Keys every record has that the line shows in its own place (or, like `service`, not at all). */
const PLACED = new Set(['level', 'time', 'msg', 'adapter', 'service', 'pid', 'hostname', 'v']);

export interface TextLogOptions {
  /** ANSI colours for the level and the key names. */
  readonly colour: boolean;
}

/** One pino JSON record (a line, with or without its newline) as one readable line ending in "\n". */
export function textLogLine(record: string, options: TextLogOptions): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(record);
  } catch {
    // Not a record of ours: show it as it came rather than lose it.
    return record.endsWith('\n') ? record : `${record}\n`;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return `${record.trimEnd()}\n`;
  const fields = parsed as Record<string, unknown>;
  const level = levelName(fields['level']);
  const levelText = level.padEnd(5);
  const parts = [clock(fields['time']), options.colour ? `${LEVEL_COLOURS[level] ?? ''}${levelText}${RESET}` : levelText];
  if (typeof fields['adapter'] === 'string') parts.push(`[${fields['adapter']}]`);
  parts.push(typeof fields['msg'] === 'string' ? fields['msg'] : '');
  let line = parts.filter((part) => part !== '').join(' ');
  // A multi-line value (a stack) goes under the line, indented, so the line itself stays one line.
  const trailing: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (PLACED.has(key) || value === undefined) continue;
    const text = valueText(value);
    if (text.includes('\n')) trailing.push(...text.split('\n').map((l) => `    ${l}`));
    else line += ` ${options.colour ? `${DIM}${key}=${RESET}` : `${key}=`}${text}`;
  }
  return `${[line, ...trailing].join('\n')}\n`;
}

function levelName(level: unknown): string {
  if (typeof level === 'string') return level.toUpperCase();
  if (typeof level === 'number') return LEVEL_NAMES[level] ?? String(level);
  return 'INFO';
}

/** Local wall-clock time with milliseconds: the date is noise in a terminal session. */
function clock(time: unknown): string {
  const date = typeof time === 'string' || typeof time === 'number' ? new Date(time) : new Date();
  if (Number.isNaN(date.getTime())) return String(time);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/** Plain words stay bare; anything with spaces, quotes or `=` is quoted; objects are compact JSON. */
function valueText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : value.includes('\n') ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'object' && typeof (value as { stack?: unknown }).stack === 'string') return (value as { stack: string }).stack;
  return JSON.stringify(value);
}
