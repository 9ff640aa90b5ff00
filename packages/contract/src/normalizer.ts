import type { AdapterHealth } from './adapter-health.js';
import type { ChangeEvent } from './change-event.js';
import type { KubeObject } from './identity.js';
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
  /**
   * Set in the `encode` phase when the kernel's credential gate found credentials in this object and
   * the rules ask for `credentials: encrypt`: the paths of the values to encrypt (keys and list
   * indexes from the object's root). Only an encoder that declares `encryptsPaths` gets it; the kernel
   * checks the result and refuses the change if one of those values is still readable.
   */
  readonly encryptPaths?: readonly (readonly (string | number)[])[];
}

/**
 * One step of the normalizer chain. The default sanitizer always runs first. A normalizer that
 * throws refuses that change: it is not written, the refusal is logged with the normalizer's name and
 * GR_ERR_NORMALIZER_FAILED and counted per normalizer, and a snapshot it was part of prunes nothing.
 * It never stops the pipeline.
 */
/** A type as protection is declared for it: API group ("" for core) and plural resource. */
export interface ProtectedType {
  readonly group: string;
  readonly resource: string;
}

/** The types the configured encoders protect, as one service (`KernelServices.ProtectedTypes`). */
export interface ProtectedTypes {
  protects(type: ProtectedType): boolean;
}

export interface Normalizer {
  readonly name: string;
  readonly phase: NormalizerPhase;
  /** Returns the new object (never mutate the input), or null to not write this object at all. */
  normalize(object: KubeObject, context: NormalizeContext): KubeObject | null | Promise<KubeObject | null>;
  /**
   * Encode phase: true when this normalizer protects (encrypts) objects of this type. The one place a
   * protection is declared: the kernel refuses core Secrets that no normalizer protects (unless the
   * rule that selects them opts into plain text, `plaintextSecrets: true`), and answers sources'
   * questions through `KernelServices.ProtectedTypes` from it.
   */
  protects?(type: ProtectedType): boolean;
  /**
   * Encode phase: true when this normalizer encrypts the values named by `NormalizeContext.encryptPaths`
   * in objects of any type (sanitizer-sops does). `credentials: encrypt` needs such an encoder.
   */
  readonly encryptsPaths?: boolean;
  start?(): Promise<void>;
  stop?(): Promise<void>;
  /** For /readyz; without it a started normalizer is `ready` (the kernel adds what it refused). */
  health?(): AdapterHealth;
}
