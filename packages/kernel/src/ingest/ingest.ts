import {
  attributionFactProblem,
  changeEventProblem,
  ContractErrorCodes,
  errorText,
  identityKey,
  isGitopsReverserError,
  operationsOf,
  type AttributionFact,
  type Bus,
  type ChangeEvent,
  type ChangeMessage,
  type KubeObject,
  type Normalizer,
} from '@gitops-reverser/contract';
import { CREDENTIAL_GATE_NAME, type CredentialGate, describePath, valuePaths } from '../credentials/credential-gate.js';
import type { CredentialFinding, ValuePath } from '../credentials/credential-scanner.js';
import { ErrorCodes } from '../errors.js';
import { contentHash } from '../normalize/content-hash.js';
import { ContentHasher, latestFieldManager } from './content-hasher.js';
import { renderYamlOnce } from '../normalize/render-yaml.js';
import type { LabelFacts, Route, RouteTable } from '../routing/route-table.js';
import type { KernelMetrics } from '../runtime/metrics.js';
import type { Refusal, Refusals } from './refusals.js';

/** Deeper objects are refused: rendering and cloning them would exhaust the stack. */
export const MAX_OBJECT_DEPTH = 100;

/** How deeply a value nests objects and arrays; iterative, so any depth is measured without recursion. */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  // Two parallel stacks rather than a tuple per value: every event is measured.
  const values: unknown[] = [value];
  const depths: number[] = [1];
  while (values.length > 0) {
    const current = values.pop();
    const depth = depths.pop() as number;
    if (current === null || typeof current !== 'object') continue;
    if (depth > deepest) deepest = depth;
    if (deepest > MAX_OBJECT_DEPTH) return deepest;
    const children = Array.isArray(current) ? current : Object.values(current);
    for (const child of children) {
      if (child === null || typeof child !== 'object') continue;
      values.push(child);
      depths.push(depth + 1);
    }
  }
  return deepest;
}

/** Which source handed an event over, and the cluster it was configured to observe. */
export interface EventOrigin {
  /** The source's instance name (logs, metrics). */
  readonly source: string;
  /** `sources[].cluster`: every identity it hands over must carry it. */
  readonly cluster: string;
}

/** A target an event was meant for but got nothing, because something refused it. */
export interface TargetRefusal {
  /** The target, or `*` when the event was refused before it could be routed (no valid identity, a foreign cluster). */
  readonly target: string;
  /** Whose doing it was (a normalizer's name, the source's, `secret-guard`, `kernel`). */
  readonly adapter: string;
  readonly code: string;
}

/** What became of one event. */
export interface IngestResult {
  /** Targets a message was published to. */
  readonly published: readonly string[];
  /** Targets it was meant for but that got nothing because it was refused (a normalizer threw, an unprotected Secret, ...). */
  readonly refused: readonly TargetRefusal[];
}

export interface IngestOptions {
  readonly bus: Bus;
  /** The bus's instance name: a message it can never carry is refused in its name. */
  readonly busName: string;
  readonly routes: RouteTable;
  /** The whole chain, default sanitizer first. Split by phase here. */
  readonly normalizers: readonly Normalizer[];
  readonly refusals: Refusals;
  readonly metrics: KernelMetrics;
  /** The keyed content hash put on upserts and admission facts (default: no key; protected objects get none). */
  readonly contentHasher?: ContentHasher;
  /** The credential gate (the runtime always gives one; without it nothing is scanned). */
  readonly credentialGate?: CredentialGate;
}

/** What the credential gate lets through to the encoders for one target, and what to check afterwards. */
interface GatePass {
  readonly object: KubeObject;
  /** Values an encoder that encrypts by path is asked to encrypt. */
  readonly encryptPaths?: readonly ValuePath[];
  /** Credentials that must not be readable in the stored object: `refuse` them if they are, or `warn` about them. */
  readonly check?: { readonly findings: readonly CredentialFinding[]; readonly onLeak: 'refuse' | 'warn' };
}

const NOTHING: IngestResult = { published: [], refused: [] };

/**
 * The path from a source to the bus: check the event, sanitize, hash, route, drop no-ops, encode per
 * target and publish. `accept` resolves when every message is on the bus, so a source that awaits it
 * is slowed down by a full bus instead of losing events. Whatever it does not write is either a no-op
 * (unchanged, unrouted, dropped by a normalizer on purpose) or a refusal, recorded with the adapter
 * whose doing it was; a snapshot learns which targets a refusal concerned, so it never prunes them.
 */
export class Ingest {
  private routes: RouteTable;
  private readonly sanitizers: readonly Normalizer[];
  private readonly encoders: readonly Normalizer[];
  /** Last published content hash per `{identityKey}|{target}`: equal content is a no-op. In memory only. */
  private readonly lastHash = new Map<string, string>();

  private readonly hasher: ContentHasher;

  constructor(private readonly options: IngestOptions) {
    this.routes = options.routes;
    this.hasher = options.contentHasher ?? new ContentHasher(undefined);
    this.sanitizers = options.normalizers.filter((n) => n.phase !== 'encode');
    this.encoders = options.normalizers.filter((n) => n.phase === 'encode');
  }

  /** Switches routing (config reload). Events in flight finish with the table they started with. */
  setRoutes(routes: RouteTable): void {
    this.routes = routes;
  }

  /**
   * Handles one event; `onlyTargets` narrows it to a snapshot's targets. Never throws for a bad
   * event: it is refused (logged, counted) and the source goes on.
   */
  async accept(event: ChangeEvent, origin: EventOrigin, onlyTargets?: ReadonlySet<string>): Promise<IngestResult> {
    try {
      return await this.acceptOne(event, origin, onlyTargets);
    } catch (error) {
      // Total: whatever one object does, it is refused, and the source (a seed) goes on.
      const refusal = this.refuse({
        code: ErrorCodes.INGEST_FAILED,
        adapter: 'kernel',
        source: origin.source,
        key: keyOf(event),
        message: `${keyOf(event) ?? 'an event'} from ${origin.source} was not written: ${errorText(error)}`,
      });
      return { published: [], refused: [toTarget(refusal, '*')] };
    }
  }

  private async acceptOne(event: ChangeEvent, origin: EventOrigin, onlyTargets?: ReadonlySet<string>): Promise<IngestResult> {
    const { metrics } = this.options;
    metrics.eventsReceived.inc({ source: origin.source, phase: typeof event?.phase === 'string' ? event.phase : 'unknown' });
    const problem = changeEventProblem(event);
    if (problem) {
      const refusal = this.refuse({
        code: ErrorCodes.EVENT_INVALID,
        adapter: origin.source,
        source: origin.source,
        key: keyOf(event),
        message: `source ${origin.source} emitted an invalid event: ${problem}`,
        fix: 'a bug in the source adapter: report it to its author',
      });
      return { published: [], refused: [toTarget(refusal, '*')] };
    }
    const key = identityKey(event.identity);
    if (event.identity.clusterId !== origin.cluster) {
      const refusal = this.refuse({
        code: ErrorCodes.EVENT_FOREIGN_CLUSTER,
        adapter: origin.source,
        source: origin.source,
        key,
        message: `source ${origin.source} observes cluster "${origin.cluster}" but emitted ${key} of cluster "${event.identity.clusterId}"; it is not written`,
        fix: 'a source may only emit identities of its own sources[].cluster: fix the source, or configure one source entry per cluster',
      });
      return { published: [], refused: [toTarget(refusal, '*')] };
    }
    const labels: LabelFacts = { object: event.object, namespaceLabels: event.namespaceLabels };
    const selection = this.routes.select(event.identity, operationsOf(event), labels);
    const wanted = (route: Route) => !onlyTargets || onlyTargets.has(route.target.name);
    const routes = selection.selected.filter(wanted);
    // Targets the object left (a label selector no longer matches it) and, for a delete, targets that
    // cannot judge it for lack of labels: there the change is a delete, sent where this process wrote
    // the object. A seed sends none: it states what is selected, and its snapshot end does the rest (ADR 0021).
    const leaving =
      event.phase === 'seed'
        ? []
        : [...selection.unselected, ...(event.operation === 'delete' ? selection.undecided : [])].filter((route) => wanted(route) && this.lastHash.has(dedupeKeyOf(key, route.target.name)));
    if (routes.length === 0 && leaving.length === 0) {
      metrics.eventsSuppressed.inc({ reason: 'unrouted' });
      return NOTHING;
    }
    const refused: TargetRefusal[] = [];
    const published: string[] = [];
    if (leaving.length > 0) {
      const gone = await this.publishDelete(event, key, leaving, refused, origin);
      published.push(...gone.published);
      if (event.operation === 'upsert') for (const target of gone.published) metrics.objectsUnselected.inc({ target });
    }
    if (routes.length === 0) return { published, refused };
    const targets = routes.map((route) => route.target.name);
    if (event.object !== undefined && nestingDepth(event.object) > MAX_OBJECT_DEPTH) {
      const refusal = this.refuse({
        code: ErrorCodes.EVENT_TOO_DEEP,
        adapter: 'kernel',
        source: origin.source,
        key,
        message: `${key} is nested more than ${MAX_OBJECT_DEPTH} levels deep; it is not written`,
        fix: 'flatten the object; no desired state needs that depth',
      });
      return { published, refused: [...refused, ...targets.map((target) => toTarget(refusal, target))] };
    }
    const allowed = this.secretsGuard(event, key, routes, origin, refused, labels);
    if (allowed.length === 0) return { published, refused };

    if (event.operation === 'delete') {
      const deleted = await this.publishDelete(event, key, allowed, refused, origin);
      return { published: [...published, ...deleted.published], refused };
    }

    let sanitized: KubeObject | null = event.object as KubeObject;
    for (const normalizer of this.sanitizers) {
      try {
        sanitized = await normalizer.normalize(sanitized, { event });
      } catch (error) {
        const refusal = this.normalizerFailed(normalizer, error, key, origin);
        return { published, refused: [...refused, ...allowed.map((route) => toTarget(refusal, route.target.name))] };
      }
      if (sanitized === null) break;
    }
    if (!sanitized) {
      metrics.eventsSuppressed.inc({ reason: 'dropped_by_normalizer' });
      return { published, refused };
    }
    // The hash is taken of the file content; the text is remembered for the worker of this process.
    const text = renderYamlOnce(sanitized);
    const hash = contentHash(text);
    // What travels: a keyed hash (joins admission facts) and the manager of the latest write; never a source's own claim of either.
    const { contentHash: _claimed, fieldManager: _alsoClaimed, namespaceLabels: _routingOnly, ...observed } = event;
    const joinHash = this.hasher.hash(text, this.isProtected(event.identity));
    const fieldManager = latestFieldManager(event.object);
    const travelling = { ...observed, ...(joinHash ? { contentHash: joinHash } : {}), ...(fieldManager ? { fieldManager } : {}) };
    // Scanned once per event, when a target's mode asks for it first.
    let findings: CredentialFinding[] | undefined;
    const scanned = () => {
      findings ??= this.options.credentialGate?.findings(sanitized, event.identity) ?? [];
      return findings;
    };
    for (const route of allowed) {
      const dedupeKey = dedupeKeyOf(key, route.target.name);
      // Seeds always pass: they are the reference state a writer compares its files with.
      if (event.phase !== 'seed' && this.lastHash.get(dedupeKey) === hash) {
        metrics.eventsSuppressed.inc({ reason: 'unchanged' });
        continue;
      }
      const gated = this.gateCredentials(sanitized, scanned, event, route, key, origin, refused, labels);
      if (!gated) continue;
      const stored = await this.encode(gated.object, event, route, key, origin, refused, gated.encryptPaths);
      if (stored === undefined) continue;
      if (stored === null) {
        metrics.eventsSuppressed.inc({ reason: 'dropped_by_normalizer' });
        continue;
      }
      if (gated.check && !this.credentialsHidden(stored, gated.check, key, route, origin, refused)) continue;
      const uid = event.uid ?? uidOf(event.object);
      const tooLarge = await this.publish(route, { kind: 'change', target: route.target.name, event: { ...travelling, object: stored, ...(uid ? { uid } : {}) } }, key, origin);
      if (tooLarge) {
        refused.push(toTarget(tooLarge, route.target.name));
        continue;
      }
      // Only once it is on the bus: a refused or failed publish must not make the next equal event a no-op.
      this.lastHash.set(dedupeKey, hash);
      published.push(route.target.name);
    }
    return { published, refused };
  }

  /**
   * A delete leaves its last known state off the bus (it is written nowhere), but keeps its uid. An
   * upsert sent here (the object left a target's selection) travels as the delete it is there.
   */
  private async publishDelete(event: ChangeEvent, key: string, routes: readonly Route[], refused: TargetRefusal[], origin: EventOrigin): Promise<IngestResult> {
    const { object, contentHash: _claimed, fieldManager: _alsoClaimed, namespaceLabels: _routingOnly, ...rest } = event;
    const uid = rest.uid ?? uidOf(object);
    const fieldManager = latestFieldManager(object);
    const travelling: ChangeEvent = { ...rest, operation: 'delete', created: false, ...(uid ? { uid } : {}), ...(fieldManager ? { fieldManager } : {}) };
    const published: string[] = [];
    for (const route of routes) {
      this.lastHash.delete(dedupeKeyOf(key, route.target.name));
      const tooLarge = await this.publish(route, { kind: 'change', target: route.target.name, event: travelling }, key, origin);
      if (tooLarge) refused.push(toTarget(tooLarge, route.target.name));
      else published.push(route.target.name);
    }
    return { published, refused };
  }

  /**
   * The credential gate for one target: the object to encode (redacted, or with paths to encrypt)
   * and what to check after encoding; undefined when the target's mode refuses it (added to `refused`).
   * An object an encoder protects is the encoder's to encrypt: whatever the mode, the gate only
   * checks afterwards that nothing it found is still readable.
   */
  private gateCredentials(
    sanitized: KubeObject,
    scanned: () => CredentialFinding[],
    event: ChangeEvent,
    route: Route,
    key: string,
    origin: EventOrigin,
    refused: TargetRefusal[],
    labels: LabelFacts,
  ): GatePass | undefined {
    const gate = this.options.credentialGate;
    if (!gate) return { object: sanitized };
    const target = route.target.name;
    const mode = this.routes.credentialMode(event.identity, target, labels, gate.defaultMode);
    if (mode === 'off') return { object: sanitized };
    const findings = scanned();
    if (findings.length === 0) return { object: sanitized };
    const byPath = this.encoders.some((encoder) => encoder.encryptsPaths === true);
    if (this.isProtected(event.identity)) {
      return { object: sanitized, ...(byPath && mode !== 'warn' ? { encryptPaths: valuePaths(findings) } : {}), check: { findings, onLeak: mode === 'warn' ? 'warn' : 'refuse' } };
    }
    switch (mode) {
      case 'warn':
        gate.report(findings, key, target, mode, 'written unencrypted');
        return { object: sanitized };
      case 'redact':
        gate.report(findings, key, target, mode, 'redacted');
        return { object: gate.redact(sanitized, findings), check: { findings, onLeak: 'refuse' } };
      case 'encrypt':
        if (byPath) {
          gate.report(findings, key, target, mode, 'encrypted');
          return { object: sanitized, encryptPaths: valuePaths(findings), check: { findings, onLeak: 'refuse' } };
        }
        gate.report(findings, key, target, mode, 'not written: no encoder encrypts values by path');
        refused.push(
          this.credentialRefusal(
            ErrorCodes.CREDENTIAL_UNENCRYPTED,
            origin,
            key,
            target,
            `${key} holds ${describeFindings(findings)} and is not written to target ${target}: credentials: encrypt, but no configured encoder encrypts values by path`,
            'configure @gitops-reverser/sanitizer-sops under normalizers, or choose credentials: redact or refuse for this rule',
          ),
        );
        return undefined;
      default:
        gate.report(findings, key, target, mode, 'not written');
        refused.push(
          this.credentialRefusal(
            ErrorCodes.CREDENTIAL_FOUND,
            origin,
            key,
            target,
            `${key} holds ${describeFindings(findings)} and is not written to target ${target} (credentials: refuse)`,
            'move the credential into a Secret (or remove it), set credentials: redact or encrypt on the rule, or list known-safe content under credentials.ignore',
          ),
        );
        return undefined;
    }
  }

  /**
   * After encoding: true when no credential the gate found can still be read in what is stored.
   * Otherwise the change is refused (`GR_ERR_CREDENTIAL_UNENCRYPTED`), or, for `warn`, reported and written.
   */
  private credentialsHidden(stored: KubeObject, check: NonNullable<GatePass['check']>, key: string, route: Route, origin: EventOrigin, refused: TargetRefusal[]): boolean {
    const gate = this.options.credentialGate as CredentialGate;
    const leaks = gate.leaks(stored, check.findings);
    if (leaks.length === 0) return true;
    const target = route.target.name;
    if (check.onLeak === 'warn') {
      gate.report(leaks, key, target, 'warn', 'written unencrypted (the encoder left it readable)');
      return true;
    }
    refused.push(
      this.credentialRefusal(
        ErrorCodes.CREDENTIAL_UNENCRYPTED,
        origin,
        key,
        target,
        `${key} would still hold ${describeFindings(leaks)} readable after encoding; it is not written to target ${target}`,
        'let the encoder encrypt those values (sanitizer-sops: encryptedRegex, or credentials: encrypt), or choose credentials: redact or refuse',
      ),
    );
    return false;
  }

  /** The encode chain for one target: the stored object, null when a normalizer dropped it, undefined when refused (added to `refused`). */
  private async encode(
    sanitized: KubeObject,
    event: ChangeEvent,
    route: Route,
    key: string,
    origin: EventOrigin,
    refused: TargetRefusal[],
    encryptPaths?: readonly ValuePath[],
  ): Promise<KubeObject | null | undefined> {
    let current: KubeObject | null = sanitized;
    for (const normalizer of this.encoders) {
      try {
        const hint = encryptPaths && normalizer.encryptsPaths === true ? { encryptPaths } : {};
        current = await normalizer.normalize(current, { event, target: route.target, partition: route.partition, ...hint });
      } catch (error) {
        refused.push(toTarget(this.normalizerFailed(normalizer, error, key, origin, route.target.name), route.target.name));
        return undefined;
      }
      if (current === null) return null;
    }
    return current;
  }

  /**
   * Publishes one target's change; waits as long as the bus does (full, unreachable). A message the
   * bus says it can never carry is the one error not waited out: it comes back as a refusal in the
   * bus's name, so the source goes on and a snapshot holding it prunes nothing. Any other error throws.
   */
  private async publish(route: Route, message: ChangeMessage, key: string, origin: EventOrigin): Promise<Refusal | undefined> {
    try {
      await this.options.bus.publish(route.partition.key, message);
    } catch (error) {
      if (!isGitopsReverserError(error) || error.code !== ContractErrorCodes.BUS_MESSAGE_TOO_LARGE) throw error;
      return this.refuse({
        code: ContractErrorCodes.BUS_MESSAGE_TOO_LARGE,
        adapter: this.options.busName,
        source: origin.source,
        key,
        target: route.target.name,
        message: `${key} is not written to target ${route.target.name}: ${error.message}`,
        fix: error.fix ?? 'raise the bus limit, or leave the object out with a rule',
      });
    }
    this.options.metrics.messagesPublished.inc({ target: route.target.name, kind: 'change' });
    return undefined;
  }

  /**
   * Fail closed for Secrets: a core Secret goes only to targets where an encoder protects it or a rule
   * opts into plain text. Deletes pass (removing a file leaks nothing).
   */
  private secretsGuard(event: ChangeEvent, key: string, routes: readonly Route[], origin: EventOrigin, refused: TargetRefusal[], labels: LabelFacts): Route[] {
    if (event.operation === 'delete' || event.identity.group !== '' || event.identity.resource !== 'secrets') return [...routes];
    if (this.encoders.some((encoder) => protects(encoder, event.identity))) return [...routes];
    return routes.filter((route) => {
      if (this.routes.plaintextSecretsAllowed(event.identity, route.target.name, labels)) return true;
      const refusal = this.refuse({
        code: ErrorCodes.SECRET_PLAINTEXT,
        adapter: 'secret-guard',
        source: origin.source,
        key,
        target: route.target.name,
        message: `Secret ${key} is not written to target ${route.target.name}: no encoder protects it`,
        fix: 'configure an encoder such as @gitops-reverser/sanitizer-sops under normalizers, or set plaintextSecrets: true on the rule to store it unencrypted',
      });
      refused.push(toTarget(refusal, route.target.name));
      return false;
    });
  }

  /**
   * Routes a fact like a write of its object (an upsert counts as create or update for rule
   * operations) and publishes it to each target's partition. Never throws for a bad fact.
   */
  async attribute(fact: AttributionFact, origin: EventOrigin): Promise<void> {
    try {
      const problem = attributionFactProblem(fact);
      if (problem) {
        this.refuse({
          code: ErrorCodes.ATTRIBUTION_INVALID,
          adapter: origin.source,
          source: origin.source,
          message: `source ${origin.source} handed over an invalid attribution fact: ${problem}`,
          fix: 'a bug in the source adapter: report it to its author',
        });
        return;
      }
      const key = identityKey(fact.identity);
      if (fact.identity.clusterId !== origin.cluster) {
        this.refuse({
          code: ErrorCodes.EVENT_FOREIGN_CLUSTER,
          adapter: origin.source,
          source: origin.source,
          key,
          message: `source ${origin.source} observes cluster "${origin.cluster}" but handed over a fact about ${key} of cluster "${fact.identity.clusterId}"; it authors nothing`,
          fix: 'a source may only name objects of its own sources[].cluster',
        });
        return;
      }
      const operations = fact.operation === 'delete' ? (['DELETE'] as const) : (['CREATE', 'UPDATE'] as const);
      const routes = this.routes.routesFor(fact.identity, operations);
      if (routes.length === 0) return;
      const travelling = await this.hashedFact(fact);
      for (const route of routes) {
        await this.options.bus.publish(route.partition.key, { kind: 'attribution', target: route.target.name, fact: travelling });
        this.options.metrics.messagesPublished.inc({ target: route.target.name, kind: 'attribution' });
      }
    } catch (error) {
      this.refuse({ code: ErrorCodes.INGEST_FAILED, adapter: 'kernel', source: origin.source, message: `an attribution fact from ${origin.source} was not routed: ${errorText(error)}` });
    }
  }

  /**
   * A fact as it travels: a fact that carries the object (admission) gets the content hash of the
   * object sanitized as a change would be, and loses the object (it never travels the bus). A
   * normalizer that throws or drops it leaves the fact without a hash (it can then match deletes only).
   */
  private async hashedFact(fact: AttributionFact): Promise<AttributionFact> {
    const { object, contentHash: _claimed, ...rest } = fact;
    if (!object || fact.operation === 'delete') return rest;
    const event: ChangeEvent = { identity: fact.identity, operation: 'upsert', created: false, object, resourceVersion: '', observedAt: fact.at, phase: 'live', observedBy: fact.by };
    let sanitized: KubeObject | null = object;
    try {
      for (const normalizer of this.sanitizers) {
        sanitized = await normalizer.normalize(sanitized, { event });
        if (sanitized === null) return rest;
      }
    } catch {
      return rest;
    }
    const joinHash = this.hasher.hash(renderYamlOnce(sanitized), this.isProtected(fact.identity));
    return joinHash ? { ...rest, contentHash: joinHash } : rest;
  }

  /** True when an encoder protects the object's type (its plaintext must never be hashed without a key). */
  private isProtected(identity: ChangeEvent['identity']): boolean {
    return this.encoders.some((encoder) => protects(encoder, identity));
  }

  private normalizerFailed(normalizer: Normalizer, error: unknown, key: string, origin: EventOrigin, target?: string): Refusal {
    return this.refuse({
      code: ErrorCodes.NORMALIZER_FAILED,
      adapter: normalizer.name,
      source: origin.source,
      key,
      ...(target ? { target } : {}),
      message: `normalizer "${normalizer.name}" failed on ${key}${target ? ` for target ${target}` : ''}; the change is not written: ${errorText(error)}`,
      fix: "see the normalizer's message; a snapshot that held this object prunes nothing until it is written",
    });
  }

  /** A change the credential gate keeps from one target: recorded (log, metric) and returned for that target. */
  private credentialRefusal(code: string, origin: EventOrigin, key: string, target: string, message: string, fix: string): TargetRefusal {
    return toTarget(this.refuse({ code, adapter: CREDENTIAL_GATE_NAME, source: origin.source, key, target, message, fix }), target);
  }

  private refuse(refusal: Refusal): Refusal {
    this.options.refusals.record(refusal);
    return refusal;
  }
}

/** True when an encoder declares it protects this type (a throwing `protects` protects nothing). */
function protects(encoder: Normalizer, identity: ChangeEvent['identity']): boolean {
  try {
    return encoder.protects?.({ group: identity.group, resource: identity.resource }) === true;
  } catch {
    return false;
  }
}

/** Which rules found what where, for a refusal's message (never the values). */
function describeFindings(findings: readonly CredentialFinding[]): string {
  const places = [...new Set(findings.map((finding) => `${finding.rule} at ${describePath(finding.path)}`))];
  return `${places.length === 1 ? 'a credential' : `${places.length} credentials`} (${places.slice(0, 5).join(', ')}${places.length > 5 ? ', ...' : ''})`;
}

/**
 * The `lastHash` key of an object and target. Joined, not a template literal: a template gives a
 * concatenated string that V8 keeps beside its flattened text once hashed (~32 B more per object held).
 */
function dedupeKeyOf(key: string, target: string): string {
  return [key, target].join('|');
}

function toTarget(refusal: Refusal, target: string): TargetRefusal {
  return { target, adapter: refusal.adapter, code: refusal.code };
}

function uidOf(object: KubeObject | undefined): string | undefined {
  const uid = object?.metadata?.uid;
  return typeof uid === 'string' && uid !== '' ? uid : undefined;
}

function keyOf(event: ChangeEvent | undefined): string | undefined {
  try {
    return event?.identity ? identityKey(event.identity) : undefined;
  } catch {
    return undefined;
  }
}
