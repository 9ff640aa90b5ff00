import type { ChangeEvent } from './change-event.js';
import type { KubeObject, ResourceIdentity } from './identity.js';
import type { SinkPartition } from './sink.js';
import type { TargetConfig } from './selection.js';

/**
 * - `sanitize`: removes or rewrites content; runs once per event, before the content hash, so
 *   the hash (and thus no-op detection) sees its result.
 * - `encode`: turns the sanitized object into its stored form (e.g. SOPS encryption); runs per
 *   target after the hash, because its output may differ on every run (random nonces).
 */
export type NormalizerPhase = 'sanitize' | 'encode';

export interface NormalizeContext {
  readonly event: ChangeEvent;
  /** Set in the `encode` phase: the target the result is written to, and its partition. */
  readonly target?: TargetConfig;
  readonly partition?: SinkPartition;
}

/**
 * One step of the normalizer chain. The default sanitizer always runs first. A normalizer that
 * throws drops that change (logged with its name and counted); it never stops the pipeline.
 */
export interface Normalizer {
  readonly name: string;
  readonly phase: NormalizerPhase;
  /** Returns the new object (never mutate the input), or null to not write this object at all. */
  normalize(object: KubeObject, context: NormalizeContext): KubeObject | null | Promise<KubeObject | null>;
  /**
   * Encode phase: true when this normalizer protects (encrypts) objects of this type, so they may be
   * written. The kernel refuses core Secrets that no normalizer protects, unless the rule that selects
   * them opts into plain text (`plaintextSecrets: true`).
   */
  protects?(identity: ResourceIdentity): boolean;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}
