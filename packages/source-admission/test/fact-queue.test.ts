import type { AttributionFact } from '@gitops-reverser/contract';
import { describe, expect, it } from 'vitest';
import { FactQueue } from '../src/fact-queue.js';

const fact = (id: string) => ({ id }) as unknown as AttributionFact;

describe('FactQueue', () => {
  it('hands nothing over before the current turn of the event loop ends (the webhook answer is written first)', async () => {
    const handed: string[] = [];
    const queue = new FactQueue(
      10,
      async (f) => {
        handed.push(f.id);
      },
      () => undefined,
    );
    queue.push(fact('a'));
    // Everything the answer's own promise chain runs in (microtasks) comes before the hand-over.
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(handed).toEqual([]);
    await queue.drain();
    expect(handed).toEqual(['a']);
  });

  it('hands facts over one at a time in arrival order; beyond the capacity the oldest is dropped and counted', async () => {
    const handed: string[] = [];
    let drops = 0;
    const queue = new FactQueue(
      2,
      async (f) => {
        handed.push(f.id);
      },
      () => drops++,
    );
    for (const id of ['a', 'b', 'c']) queue.push(fact(id));
    await queue.drain();
    expect(handed).toEqual(['b', 'c']);
    expect({ drops, dropped: queue.dropped }).toEqual({ drops: 1, dropped: 1 });
    queue.push(fact('d'));
    await queue.drain();
    expect(handed).toEqual(['b', 'c', 'd']);
  });
});
