export interface BackoffOptions {
  /** Delay after the first failure. Default 500 ms. */
  readonly baseMs?: number;
  /** The delay never grows past this. Default 30 s. */
  readonly maxMs?: number;
}

/**
 * The one retry delay used everywhere (redelivery after `retry`, restarting a worker, reconnecting a
 * watch): `baseMs` doubling per attempt up to `maxMs`, with ±20% jitter so replicas and watches that
 * failed together do not retry together. `attempt` is 1 for the first retry.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions = {}): number {
  const baseMs = options.baseMs ?? 500;
  const maxMs = options.maxMs ?? 30_000;
  // Cap the exponent before exponentiation so huge attempt counts cannot overflow to Infinity.
  const exponent = Math.min(Math.max(0, attempt - 1), 30);
  const delay = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.round(delay * (0.8 + Math.random() * 0.4));
}
