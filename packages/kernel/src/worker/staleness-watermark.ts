import { identityKey, type ChangeMessage, type ResourceIdentity } from '@gitops-reverser/contract';

/** resourceVersions remembered per worker (bounded, oldest dropped). */
const MAX_OBJECTS = 50_000;

const DECIMAL = /^\d+$/;

/** What the watermark remembers of one object of one target: the newest resourceVersion written. */
export interface WrittenVersion {
  readonly target: string;
  readonly identity: ResourceIdentity;
  readonly resourceVersion: bigint;
}

/**
 * The newest resourceVersion written per target and object, so an older state (from another
 * replica's lagging view) is never written over a newer one. resourceVersions are opaque, but decimal
 * in every API server: compared as numbers when they are, ignored otherwise.
 */
export class StalenessWatermark {
  private readonly newest = new Map<string, WrittenVersion>();

  /** True for a change older than the newest written for its object and target. */
  isStale(message: ChangeMessage): boolean {
    const rv = versionOf(message);
    const newest = this.newest.get(keyOf(message));
    return rv !== undefined && newest !== undefined && rv < newest.resourceVersion;
  }

  /** The newest resourceVersion written for the change's object and target, if any. */
  newestOf(message: ChangeMessage): string | undefined {
    return this.newest.get(keyOf(message))?.resourceVersion.toString();
  }

  /** A change was written (or found already written). */
  written(message: ChangeMessage): void {
    const rv = versionOf(message);
    if (rv === undefined) return;
    const key = keyOf(message);
    const known = this.newest.get(key);
    if (known !== undefined) {
      if (known.resourceVersion >= rv) return;
      // Moved to the end: the map drops its oldest entries first.
      this.newest.delete(key);
    }
    this.newest.set(key, { target: message.target, identity: message.event.identity, resourceVersion: rv });
    if (this.newest.size > MAX_OBJECTS) this.newest.delete(this.newest.keys().next().value as string);
  }

  /** Every object remembered for `target`. */
  *of(target: string): Iterable<WrittenVersion> {
    for (const entry of this.newest.values()) if (entry.target === target) yield entry;
  }
}

/** The change's resourceVersion as a number, or undefined when it is not decimal. */
export function versionOf(message: ChangeMessage): bigint | undefined {
  return DECIMAL.test(message.event.resourceVersion) ? BigInt(message.event.resourceVersion) : undefined;
}

/** Joined, not a template literal: the watermark holds one per object, and a flat string is half a concatenated one's cost as a key. */
export function keyOf(message: ChangeMessage): string {
  return [message.target, identityKey(message.event.identity)].join('|');
}
