import { errorText, grError, type AdapterHealth, type AdapterSlot } from '@gitops-reverser/contract';
import type { AssembledAdapter } from '../assembly/assemble.js';
import { ErrorCodes } from '../errors.js';
import type { Logger } from '@gitops-reverser/contract';
import type { KernelMetrics } from './metrics.js';
import { withTimeout } from './with-timeout.js';

/** How long a start() may run silently before the runtime says it is still waiting. */
const START_NOTICE_MS = 10_000;

/**
 * Starts one adapter within `timeoutSeconds` (startup.timeoutSeconds): at start and when a reload
 * restarts a source, so no start can hang the runtime. Says so when it takes long; a throw or the
 * timeout becomes a named error.
 */
export async function startAdapter(adapter: AssembledAdapter<AdapterSlot>, start: () => Promise<void>, options: { timeoutSeconds: number; logger: Logger; metrics: KernelMetrics }): Promise<void> {
  const { timeoutSeconds, logger, metrics } = options;
  const timeoutMs = timeoutSeconds * 1000;
  const notice = setTimeout(
    () => logger.warn({ slot: adapter.slot, adapter: adapter.name }, `still waiting for ${adapter.slot} "${adapter.name}" to start (it has ${timeoutSeconds}s: startup.timeoutSeconds)`),
    Math.min(START_NOTICE_MS, timeoutMs),
  );
  notice.unref();
  let result: Awaited<ReturnType<typeof withTimeout>>;
  try {
    result = await withTimeout(Promise.resolve().then(start), timeoutMs);
  } catch (cause) {
    throw grError(ErrorCodes.PLUGIN_LIFECYCLE, `${adapter.slot} adapter "${adapter.name}" failed to start: ${errorText(cause)}`, {
      fix: 'see the cause above; check the adapter options and that what it connects to is reachable',
      cause,
    });
  } finally {
    clearTimeout(notice);
  }
  if (result.timedOut) {
    throw grError(ErrorCodes.PLUGIN_START_TIMEOUT, `${adapter.slot} adapter "${adapter.name}" did not finish start() within ${timeoutSeconds}s`, {
      fix: 'check what it connects to; raise startup.timeoutSeconds if a first seed of a large cluster needs longer',
    });
  }
  metrics.adapterUp.set({ slot: adapter.slot, adapter: adapter.name }, 1);
}

/** An adapter's health, never throwing: a health() that throws or answers nonsense reports `failed`. */
export function safeHealth(adapter: AssembledAdapter<AdapterSlot>): AdapterHealth {
  const health = (adapter.instance as { health?: () => AdapterHealth }).health;
  // Normalizers may leave health() out: started is healthy.
  if (health === undefined && adapter.slot === 'normalizer') return { state: 'ready' };
  try {
    const report = health?.call(adapter.instance);
    return report && typeof report.state === 'string' ? report : { state: 'failed', reason: 'health() returned no state' };
  } catch (error) {
    return { state: 'failed', reason: errorText(error) };
  }
}
