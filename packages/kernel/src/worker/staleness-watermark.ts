import { identityKey, type ChangeMessage } from '@gitops-reverser/contract';

/** resourceVersions remembered per worker (bounded, oldest dropped). */
const MAX_OBJECTS = 50_000;

const DECIMAL = /^\d+$/;

/**
 * The newest resourceVersion written per target and object, so an older state (from another
 * replica's lagging view) is never written over a newer one. resourceVersions are opaque, but decimal
 * in every API server: compared as numbers when they are, ignored otherwise.
 */
export class StalenessWatermark {
  private readonly newest = new Map<string, bigint>();

  /** True for a change older than the newest written for its object and target. */
  isStale(message: ChangeMessage): boolean {
    if (!DECIMAL.test(message.event.resourceVersion)) return false;
    const newest = this.newest.get(keyOf(message));
    return newest !== undefined && BigInt(message.event.resourceVersion) < newest;
  }

  /** The newest resourceVersion written for the change's object and target, if any. */
  newestOf(message: ChangeMessage): string | undefined {
    return this.newest.get(keyOf(message))?.toString();
  }

  /** A change was written (or found already written). */
  written(message: ChangeMessage): void {
    if (!DECIMAL.test(message.event.resourceVersion)) return;
    const key = keyOf(message);
    const rv = BigInt(message.event.resourceVersion);
    const known = this.newest.get(key);
    if (known !== undefined) {
      if (known >= rv) return;
      // Moved to the end: the map drops its oldest entries first.
      this.newest.delete(key);
    }
    this.newest.set(key, rv);
    if (this.newest.size > MAX_OBJECTS) this.newest.delete(this.newest.keys().next().value as string);
  }
}

function keyOf(message: ChangeMessage): string {
  return `${message.target}|${identityKey(message.event.identity)}`;
}
