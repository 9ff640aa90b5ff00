import { identityKey, type AttributionFact, type ChangeEvent } from '@gitops-reverser/contract';

export interface AttributionJoinOptions {
  /** Facts kept at most; beyond it the oldest go first. */
  readonly maxFacts?: number;
  /** A fact no change claimed within this time is dropped. */
  readonly ttlMs?: number;
}

/** What of a change the join reads. */
export type AttributedChange = Pick<ChangeEvent, 'identity' | 'operation' | 'resourceVersion' | 'uid'>;

/**
 * Joins the facts of who made a write (from the bus) to the changes they describe. A fact is used at
 * most once, and only for the change it certainly describes, never for a neighbour:
 * - an upsert matches on the object and the resourceVersion its write produced;
 * - a delete matches on the object and the uid of the object it deleted (the same name re-created is
 *   another uid). Not on a resourceVersion: a delete's response may carry the version of the last
 *   write before it, which is that write's key.
 * Nothing matches on a name alone: an upsert fact without a resourceVersion, or a delete fact without
 * a uid, authors nothing. Taken facts are dropped at once; unused ones after `ttlMs` or beyond `maxFacts`.
 */
export class AttributionJoin {
  /** `{identityKey}|rv:{resourceVersion}` (upserts) or `{identityKey}|uid:{uid}` (deletes) -> the fact, in arrival order. */
  private readonly facts = new Map<string, { readonly fact: AttributionFact; readonly at: number }>();
  private readonly maxFacts: number;
  private readonly ttlMs: number;

  constructor(options: AttributionJoinOptions = {}) {
    this.maxFacts = options.maxFacts ?? 50_000;
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
  }

  /** Facts waiting for their change. */
  get size(): number {
    return this.facts.size;
  }

  /** Files a fact (a repeated one replaces the earlier copy), then drops expired and surplus facts. */
  add(fact: AttributionFact, now: number): void {
    const key = keyOf(fact);
    if (key !== undefined) {
      // Re-inserted at the end: expiry walks the map from its oldest entry.
      this.facts.delete(key);
      this.facts.set(key, { fact, at: now });
    }
    this.expire(now);
  }

  /** The fact that describes `change`, left in place (a change waiting in a window, or retried, looks again). */
  peek(change: AttributedChange): AttributionFact | undefined {
    const key = keyOf(change);
    return key === undefined ? undefined : this.facts.get(key)?.fact;
  }

  /** The fact that describes `change`, removed: no other change can be authored by it. */
  take(change: AttributedChange): AttributionFact | undefined {
    const key = keyOf(change);
    if (key === undefined) return undefined;
    const entry = this.facts.get(key);
    this.facts.delete(key);
    return entry?.fact;
  }

  /** Drops facts older than the time to live, then the oldest beyond the cap. */
  expire(now: number): void {
    for (const [key, entry] of this.facts) {
      if (this.facts.size <= this.maxFacts && now - entry.at < this.ttlMs) break;
      this.facts.delete(key);
    }
  }
}

/** The one key a fact is filed under and a change looked up by; undefined when nothing identifies it with certainty. */
function keyOf(write: AttributedChange): string | undefined {
  if (write.operation === 'delete') return write.uid ? `${identityKey(write.identity)}|uid:${write.uid}` : undefined;
  return write.resourceVersion === '' ? undefined : `${identityKey(write.identity)}|rv:${write.resourceVersion}`;
}
