import { identityKey, type AttributionFact, type ChangeEvent } from '@gitops-reverser/contract';

export interface AttributionJoinOptions {
  /** Facts kept at most; beyond it the oldest go first. */
  readonly maxFacts?: number;
  /** A fact no change claimed within this time is dropped. */
  readonly ttlMs?: number;
  /**
   * A fact of a source that saw the request rather than the write (admission: a content hash, a
   * scale's base version, a delete's uid) older than this no longer matches: the write it saw may have
   * been refused after the webhook, a later write of the same content must not be credited to it, and
   * a forged review naming a readable uid or version can claim a change only within this window.
   */
  readonly contentTtlMs?: number;
  /** The `by` words of sources whose facts name the exact write (audit): preferred for deletes, and what `peek(change, now, exact)` asks for. */
  readonly exactBy?: ReadonlySet<string>;
}

/** What of a change the join reads. */
export type AttributedChange = Pick<ChangeEvent, 'identity' | 'operation' | 'resourceVersion' | 'uid' | 'contentHash'> & {
  /** The resourceVersion this change replaced, when the writer knows it (it wrote that version). */
  readonly previousResourceVersion?: string;
};

interface Filed {
  readonly fact: AttributionFact;
  readonly at: number;
  readonly key: string;
}

/**
 * Joins the facts of who made a write (from the bus) to the changes they describe, in tiers of
 * certainty. A fact is used at most once, and only for the change it describes, never for a
 * neighbour:
 * 1. exact: an upsert on the object and the resourceVersion its write produced (audit); a delete on
 *    the object and the uid of the object it removed (audit or admission: the same name re-created is
 *    another uid), an audit fact preferred, an admission fact only within `contentTtlMs`;
 * 2. content: an upsert on the object and the keyed hash of the content the write stored (admission,
 *    which sees the write before it has a resourceVersion). Several facts with one hash (two people
 *    writing identical content): the oldest, since the first write changed the object and a later
 *    identical write changed nothing; a content fact matches only within `contentTtlMs`;
 *    A write whose content is not known (a scale) matches the change that directly followed the
 *    resourceVersion it replaced, when the writer wrote that version;
 * 3. none: the committer authors the change.
 * When a change matches an exact fact, the content fact of the same write is dropped with it, so
 * audit and admission together make one attribution per change. Taken facts are dropped at once;
 * unused ones after `ttlMs` or beyond `maxFacts`.
 */
export class AttributionJoin {
  /** Facts by key, each list oldest first: `rv:`, `uid:` and `hash:` keys (see `keysOf`). */
  private readonly filed = new Map<string, Filed[]>();
  /** Every filed fact in arrival order, for expiry and the cap. */
  private readonly arrivals = new Set<Filed>();
  private readonly maxFacts: number;
  private readonly ttlMs: number;
  private readonly contentTtlMs: number;
  private readonly exactBy: ReadonlySet<string>;

  constructor(options: AttributionJoinOptions = {}) {
    this.exactBy = options.exactBy ?? new Set(['audit']);
    this.maxFacts = options.maxFacts ?? 50_000;
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.contentTtlMs = options.contentTtlMs ?? 60_000;
  }

  /** Facts waiting for their change. */
  get size(): number {
    return this.arrivals.size;
  }

  /** Files a fact (an identical one, e.g. redelivered, replaces the earlier copy), then drops expired and surplus facts. */
  add(fact: AttributionFact, now: number): void {
    const key = factKey(fact);
    if (key !== undefined) {
      const list = this.filed.get(key) ?? [];
      const repeated = list.find((filed) => filed.fact.by === fact.by && filed.fact.id === fact.id);
      if (repeated) this.remove(repeated);
      const filed: Filed = { fact, at: now, key };
      this.filed.set(key, [...(this.filed.get(key) ?? []), filed]);
      this.arrivals.add(filed);
    }
    this.expire(now);
  }

  /**
   * The fact that describes `change`, left in place (a change waiting in a window, or retried, looks
   * again). `exactOnly`: only a fact of an exact source (`exactBy`), for a writer that waits for it.
   */
  peek(change: AttributedChange, now = Date.now(), exactOnly = false): AttributionFact | undefined {
    return this.find(change, now, exactOnly)?.fact;
  }

  /** The fact that describes `change`, removed with any other fact of the same write: none authors another change. */
  take(change: AttributedChange, now = Date.now()): AttributionFact | undefined {
    const found = this.find(change, now);
    if (!found) return undefined;
    this.remove(found);
    const object = identityKey(change.identity);
    if (change.operation === 'delete') {
      for (const other of [...(this.filed.get(found.key) ?? [])]) this.remove(other);
    } else if (found.key.includes('|rv:') && change.contentHash) {
      const sameWrite = this.live(`${object}|hash:${change.contentHash}`, now)[0];
      if (sameWrite) this.remove(sameWrite);
    }
    return found.fact;
  }

  /** Drops facts older than the time to live, then the oldest beyond the cap. */
  expire(now: number): void {
    for (const filed of this.arrivals) {
      if (this.arrivals.size <= this.maxFacts && now - filed.at < this.ttlMs) break;
      this.remove(filed);
    }
  }

  private find(change: AttributedChange, now: number, exactOnly = false): Filed | undefined {
    const object = identityKey(change.identity);
    const exact = (filed: Filed | undefined) => (filed && (!exactOnly || this.exactBy.has(filed.fact.by)) ? filed : undefined);
    if (change.operation === 'delete') {
      if (!change.uid) return undefined;
      const candidates = this.filed.get(`${object}|uid:${change.uid}`) ?? [];
      const named = candidates.find((filed) => this.exactBy.has(filed.fact.by));
      if (named || exactOnly) return named;
      // A delete fact of a source that saw the request, not the write (admission), names only a uid, which
      // anyone who can read the object knows: it matches within the content window, like a content fact.
      return candidates.find((filed) => now - filed.at < this.contentTtlMs);
    }
    if (change.resourceVersion !== '') {
      const byVersion = exact(this.filed.get(`${object}|rv:${change.resourceVersion}`)?.[0]);
      if (byVersion || exactOnly) return byVersion;
    } else if (exactOnly) return undefined;
    const byContent = change.contentHash ? this.live(`${object}|hash:${change.contentHash}`, now)[0] : undefined;
    if (byContent) return byContent;
    // A write whose content was not known (scale): the change that directly followed the version it replaced.
    return change.previousResourceVersion ? this.live(`${object}|base:${change.previousResourceVersion}`, now)[0] : undefined;
  }

  /** Content facts under `key` still young enough to match. */
  private live(key: string, now: number): Filed[] {
    return (this.filed.get(key) ?? []).filter((filed) => now - filed.at < this.contentTtlMs);
  }

  private remove(filed: Filed): void {
    this.arrivals.delete(filed);
    const rest = (this.filed.get(filed.key) ?? []).filter((other) => other !== filed);
    if (rest.length > 0) this.filed.set(filed.key, rest);
    else this.filed.delete(filed.key);
  }
}

/**
 * The one key a fact is filed under; undefined when nothing identifies its write with certainty:
 * an upsert by the resourceVersion it produced, else by its content hash; a delete by the deleted uid.
 */
function factKey(fact: AttributionFact): string | undefined {
  const object = identityKey(fact.identity);
  if (fact.operation === 'delete') return fact.uid ? `${object}|uid:${fact.uid}` : undefined;
  if (fact.resourceVersion !== '') return `${object}|rv:${fact.resourceVersion}`;
  if (fact.contentHash) return `${object}|hash:${fact.contentHash}`;
  return fact.baseResourceVersion ? `${object}|base:${fact.baseResourceVersion}` : undefined;
}
