import { backoffDelayMs, errorText, grError, type PartitionLease } from '@gitops-reverser/contract';
import { ErrorCodes } from '../errors.js';
import type { PartitionWorker } from '../worker/partition-worker.js';
import type { SinkCallState } from '../worker/sink-call-watch.js';
import type { Logger } from '@gitops-reverser/contract';
import type { KernelMetrics } from './metrics.js';

/** A partition's worker and how it is doing. */
interface WorkerSlot {
  worker: PartitionWorker;
  readonly lease: PartitionLease;
  /** Set while the worker is down between a crash and its restart. */
  down?: { reason: string; since: number; restarts: number };
  running: Promise<void>;
}

/** How one partition is doing, for /readyz. */
export interface PartitionState {
  readonly partition: string;
  /** Set while its worker is down, restarting with backoff after an error. */
  readonly down?: { readonly reason: string; readonly restarts: number };
  readonly sink: SinkCallState;
}

/**
 * Runs a worker per partition lease and restarts one that stops on an error, with backoff, so a sink
 * or bus fault never leaves a dead worker behind a green probe (/readyz is 503 while it is down).
 */
export class WorkerSupervisor {
  private readonly slots = new Map<string, WorkerSlot>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly create: (lease: PartitionLease) => PartitionWorker,
    private readonly logger: Logger,
    private readonly metrics: KernelMetrics,
  ) {}

  /** Starts the worker of a lease (replacing a worker the same partition had). */
  supervise(lease: PartitionLease): void {
    const key = lease.partitionKey;
    this.slots.get(key)?.worker.stop();
    const slot: WorkerSlot = { worker: this.create(lease), lease, running: Promise.resolve() };
    this.slots.set(key, slot);
    slot.running = this.keepRunning(slot);
  }

  /** Stops every worker after its batch in progress; resolves when all have stopped. */
  async stopAll(): Promise<void> {
    this.stopping.abort();
    await Promise.all(
      [...this.slots.values()].map((slot) => {
        slot.worker.stop();
        return slot.running;
      }),
    );
  }

  states(): PartitionState[] {
    return [...this.slots.entries()].map(([partition, slot]) => ({
      partition,
      ...(slot.down ? { down: { reason: slot.down.reason, restarts: slot.down.restarts } } : {}),
      sink: slot.worker.sinkState(),
    }));
  }

  private async keepRunning(slot: WorkerSlot): Promise<void> {
    const { lease } = slot;
    const key = lease.partitionKey;
    const halted = () => this.stopping.signal.aborted || lease.revoked.aborted;
    for (let restarts = 0; ; ) {
      try {
        await slot.worker.run();
        return; // stopped or lease revoked
      } catch (error) {
        if (halted()) return;
        restarts++;
        const delayMs = backoffDelayMs(restarts, { baseMs: 200, maxMs: 10_000 });
        const reason = grError(ErrorCodes.WORKER_CRASHED, `the worker of ${key} stopped on an error: ${errorText(error)}`, {
          fix: `it restarts in ${delayMs} ms; nothing it held is lost (unacked messages are redelivered)`,
        }).describe();
        slot.down = { reason, since: Date.now(), restarts };
        this.metrics.workerRestarts.inc({ partition: key });
        this.logger.error({ partition: key, restarts, retryInMs: delayMs }, reason);
        await abortableSleep(delayMs, AbortSignal.any([this.stopping.signal, lease.revoked]));
        if (halted()) return;
        slot.worker = this.create(lease);
        slot.down = undefined;
        this.logger.info({ partition: key, restarts }, `restarted the worker of ${key}`);
      }
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
