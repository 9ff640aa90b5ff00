import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { LogFormat, LogLevel } from '../config/config-types.js';
import { textLogLine } from './text-log-line.js';

/**
 * pino's logger: JSON lines on stdout, or readable lines (`log.format: text`, and `auto` when the
 * destination is a terminal). It implements the contract's `Logger`; adapters get a child bound to
 * `{ adapter: name }`.
 */
export type Logger = PinoLogger;

export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream, format: LogFormat = 'json'): Logger {
  const options = {
    level,
    base: { service: 'gitops-reverser' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const terminal = destination === undefined ? process.stdout.isTTY === true : (destination as { isTTY?: boolean }).isTTY === true;
  if (format === 'json' || (format === 'auto' && !terminal)) return pino(options, destination ?? pino.destination({ fd: 1, sync: false }));
  // Text: a person reads it as it comes (process.stdout writes terminals, files and pipes synchronously
  // on Linux); colours only on a terminal that wants them.
  const out = destination ?? process.stdout;
  const colour = terminal && process.env['NO_COLOR'] === undefined && process.env['TERM'] !== 'dumb';
  // A reader that went away (`run | head`) must not stop the process: its log is dropped from then
  // on, as pino's own destination does (an unhandled EPIPE would crash the daemon mid-write).
  let closed = false;
  if (out === process.stdout && process.stdout.listenerCount('error') === 0) {
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      closed = true;
    });
  }
  const text: DestinationStream = {
    write: (record: string) => {
      if (!closed) out.write(textLogLine(record, { colour }));
    },
  };
  return pino(options, text);
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
