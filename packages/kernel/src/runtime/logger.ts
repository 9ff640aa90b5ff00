import { pino, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from '../config/config-types.js';

/**
 * pino's logger: JSON lines on stdout. It implements the contract's `Logger`; adapters get a child
 * bound to `{ adapter: name }`.
 */
export type Logger = PinoLogger;

export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'gitops-reverser' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
