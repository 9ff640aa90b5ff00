import type { AttributionFact } from '@gitops-reverser/contract';

/**
 * Facts waiting to go on the bus, handed over one at a time in arrival order. A webhook answer never
 * waits for the bus; when the bus is slower than the API server's writes for long, the queue is
 * bounded: the oldest fact is dropped (its change is committed without an author, counted), never
 * the write delayed and never the process's memory exhausted.
 */
export class FactQueue {
  private readonly waiting: AttributionFact[] = [];
  private running: Promise<void> | undefined;
  dropped = 0;

  constructor(
    private readonly capacity: number,
    private readonly handOver: (fact: AttributionFact) => Promise<void>,
    private readonly onDrop: () => void,
  ) {}

  get size(): number {
    return this.waiting.length;
  }

  push(fact: AttributionFact): void {
    this.waiting.push(fact);
    if (this.waiting.length > this.capacity) {
      this.waiting.shift();
      this.dropped++;
      this.onDrop();
    }
    // Started on the next turn of the event loop, not now: handing a fact over sanitizes and renders
    // its object, and run synchronously (or in the microtasks queued here) that work would come
    // before the webhook's answer is written, adding to every write's latency.
    this.running ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.run())
      .finally(() => {
        this.running = undefined;
      });
  }

  /** Resolves once every queued fact was handed over. */
  async drain(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  private async run(): Promise<void> {
    for (let fact = this.waiting.shift(); fact; fact = this.waiting.shift()) {
      // The kernel never rejects for a bad fact; a broken bus is its concern, not the webhook's.
      await this.handOver(fact).catch(() => undefined);
    }
  }
}
