/**
 * How an adapter is doing. `ready` and `degraded` keep the process ready (a degraded sink keeps
 * accepting events into the bus while it retries: refusing readiness would cut audit webhook traffic
 * and lose changes); `starting`, `failed` and `stopped` make /readyz answer 503.
 */
export type AdapterState = 'starting' | 'ready' | 'degraded' | 'failed' | 'stopped';

export interface AdapterHealth {
  readonly state: AdapterState;
  /** Why the adapter is not plainly ready, for /readyz and logs. */
  readonly reason?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}
