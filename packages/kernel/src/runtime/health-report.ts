import type { AdapterHealth, AdapterSlot } from '@gitops-reverser/contract';
import type { AssembledAdapter, Assembly } from '../assembly/assemble.js';
import type { Refusals } from '../ingest/refusals.js';
import { safeHealth } from './adapter-lifecycle.js';
import type { PartitionState } from './worker-supervisor.js';

/** What /readyz answers. */
export interface HealthReport {
  readonly ready: boolean;
  /** `ready`, `degraded` (still ready: see AdapterState), `not ready`, or the runtime's state. */
  readonly status: string;
  /** Every adapter, in start order: sources, normalizers, bus, sink. */
  readonly adapters: readonly { slot: string; name: string; state: string; reason?: string; details?: Readonly<Record<string, unknown>> }[];
  /** Partitions that need attention: a worker down, a sink call running long, answers that break the contract. */
  readonly partitions?: readonly {
    partition: string;
    state: 'restarting' | 'sink slow' | 'sink refusing';
    reason: string;
    restarts?: number;
    seconds?: number;
  }[];
}

/** A normalizer that refused changes within this time is reported degraded. */
const RECENT_REFUSAL_MS = 10 * 60_000;

/**
 * /readyz from what each owner knows: adapters' own health, what normalizers refused lately, and how
 * each partition's worker and sink calls are doing. Not ready while the runtime is not running, an
 * adapter is not ready or degraded, or a worker is down; degraded (still ready) when an adapter is,
 * which includes a sink whose answers have broken the contract for `refusedAnswersSeconds` and a
 * normalizer that refused changes in the last 10 minutes.
 */
export function healthReport(runtimeState: string, assembly: Assembly, partitions: readonly PartitionState[], refusals: Refusals): HealthReport {
  const entry = (adapter: AssembledAdapter<AdapterSlot>, health: AdapterHealth) => ({
    slot: adapter.slot,
    name: adapter.name,
    state: health.state,
    ...(health.reason ? { reason: health.reason } : {}),
    ...(health.details ? { details: health.details } : {}),
  });
  const adapters = [
    ...assembly.sources.map((source) => entry(source, safeHealth(source))),
    ...assembly.normalizers.map((normalizer) => entry(normalizer, withRefusals(safeHealth(normalizer), refusals, normalizer.instance.name))),
    entry(assembly.bus, safeHealth(assembly.bus)),
    entry(assembly.sink, withSinkCalls(safeHealth(assembly.sink), assembly.sink.name, partitions)),
  ];
  const attention = partitions.flatMap((state) => {
    const rows: NonNullable<HealthReport['partitions']>[number][] = [];
    if (state.down) rows.push({ partition: state.partition, state: 'restarting', reason: state.down.reason, restarts: state.down.restarts });
    const running = state.sink.running;
    if (running) {
      rows.push({
        partition: state.partition,
        state: 'sink slow',
        reason: `${running.call}() of ${running.items} item(s) has run for ${running.seconds} s${running.abandoned ? ' (given up after watchdog.applyTimeoutSeconds; the batch is retried once it returns)' : ''}`,
        seconds: running.seconds,
      });
    }
    const refusing = state.sink.refusing;
    if (refusing)
      rows.push({ partition: state.partition, state: 'sink refusing', reason: `every answer for ${refusing.seconds} s broke the Sink contract: ${refusing.problem}`, seconds: refusing.seconds });
    return rows;
  });
  const workersDown = partitions.some((state) => state.down);
  const adaptersReady = adapters.every((a) => a.state === 'ready' || a.state === 'degraded');
  const ready = runtimeState === 'running' && adaptersReady && !workersDown;
  const status = runtimeState !== 'running' ? runtimeState : !ready ? 'not ready' : adapters.some((a) => a.state === 'degraded') ? 'degraded' : 'ready';
  return { ready, status, adapters, ...(attention.length > 0 ? { partitions: attention } : {}) };
}

/** A ready normalizer that refused changes lately is degraded, with what it refused. */
function withRefusals(health: AdapterHealth, refusals: Refusals, name: string): AdapterHealth {
  const refused = refusals.of(name);
  if (!refused) return health;
  const details = { ...health.details, refused: refused.count, lastRefusal: `${refused.lastCode}: ${refused.lastMessage}` };
  if (health.state !== 'ready' || Date.now() - refused.lastAt > RECENT_REFUSAL_MS) return { ...health, details };
  return { state: 'degraded', reason: `refused ${refused.count} change(s); the last: ${refused.lastCode}: ${refused.lastMessage}`, details };
}

/** The sink's own health, degraded while a partition's answers have broken the contract long enough; slow calls in its details. */
function withSinkCalls(health: AdapterHealth, sinkName: string, partitions: readonly PartitionState[]): AdapterHealth {
  const slow = partitions.filter((state) => state.sink.running).map((state) => ({ partition: state.partition, ...state.sink.running }));
  const refusing = partitions.filter((state) => state.sink.refusing?.degraded);
  const details = { ...health.details, ...(slow.length > 0 ? { slowCalls: slow } : {}) };
  const withDetails = Object.keys(details).length > 0 ? { ...health, details } : health;
  if (refusing.length === 0 || (health.state !== 'ready' && health.state !== 'degraded')) return withDetails;
  const reasons = refusing.map((state) => `${state.partition}: every answer for ${state.sink.refusing?.seconds} s broke the Sink contract (${state.sink.refusing?.problem})`);
  return { ...withDetails, state: 'degraded', reason: [health.reason, `sink "${sinkName}" is answering against the contract: ${reasons.join('; ')}`].filter(Boolean).join('; ') };
}
