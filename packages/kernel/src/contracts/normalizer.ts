import type { ChangeEvent } from '../model/change-event.js';
import type { KubeObject } from '../model/identity.js';
import type { Route } from '../routing/route-table.js';

/**
 * - `sanitize`: removes or rewrites content; runs once per event, before the content hash, so
 *   the hash (and thus no-op detection) sees its result.
 * - `encode`: turns the sanitized object into its stored form (e.g. SOPS encryption); runs per
 *   route after the hash, because its output may differ on every run (random nonces).
 */
export type NormalizerPhase = 'sanitize' | 'encode';

export interface NormalizeContext {
  readonly event: ChangeEvent;
  /** Set in the `encode` phase: the target the result is written to. */
  readonly route?: Route;
}

/** One step of the normalizer chain. The default sanitizer always runs first. */
export interface Normalizer {
  readonly name: string;
  readonly phase: NormalizerPhase;
  /** Returns the new object (never mutate the input), or null to not write this object at all. */
  normalize(object: KubeObject, context: NormalizeContext): KubeObject | null | Promise<KubeObject | null>;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}
