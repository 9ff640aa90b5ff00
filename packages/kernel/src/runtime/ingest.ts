import { randomUUID } from 'node:crypto';
import {
  changeEventProblem,
  type AttributionFact,
  errorText,
  identityKey,
  type Bus,
  type BusMessage,
  type ChangeEvent,
  type KubeObject,
  type Logger,
  type Normalizer,
  type SnapshotWriter,
} from '@gitops-reverser/contract';
import { contentHash } from '../normalize/content-hash.js';
import { renderYaml } from '../normalize/render-yaml.js';
import type { Route, RouteTable } from '../routing/route-table.js';
import { ErrorCodes } from '../errors.js';
import type { KernelMetrics } from './metrics.js';

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

function uidOf(object: KubeObject | undefined): string | undefined {
  const uid = object?.metadata?.uid;
  return typeof uid === 'string' && uid !== '' ? uid : undefined;
}

function describeEvent(event: ChangeEvent): string {
  try {
    return identityKey(event.identity);
  } catch {
    return 'an event without identity';
  }
}

export interface IngestOptions {
  readonly bus: Bus;
  readonly routes: RouteTable;
  /** The whole chain, default sanitizer first. Split by phase here. */
  readonly normalizers: readonly Normalizer[];
  readonly logger: Logger;
  readonly metrics: KernelMetrics;
}

/**
 * The path from a source to the bus: check the event, sanitize, hash, route, drop no-ops,
 * encode per target and publish. `accept` resolves when every message is on the bus, so a source
 * that awaits it is slowed down by a full bus instead of losing events.
 */
export class Ingest {
  private routes: RouteTable;
  private readonly sanitizers: readonly Normalizer[];
  private readonly encoders: readonly Normalizer[];
  /** Secret/target pairs already reported as refused (one log line each, not one per event). */
  private readonly refusedSecrets = new Set<string>();
  /** Last published content hash per `{identityKey}|{target}`: equal content is a no-op. */
  private readonly lastHash = new Map<string, string>();

  constructor(private readonly options: IngestOptions) {
    this.routes = options.routes;
    this.sanitizers = options.normalizers.filter((n) => n.phase !== 'encode');
    this.encoders = options.normalizers.filter((n) => n.phase === 'encode');
  }

  /** Switches routing (config reload). Events in flight finish with the table they started with. */
  setRoutes(routes: RouteTable): void {
    this.routes = routes;
  }

  /**
   * Handles one event. Returns the targets it was published to (empty when it was a no-op or
   * invalid). Never throws for a bad event: it is logged and counted, and the source goes on.
   */
  async accept(event: ChangeEvent, sourceName: string, onlyTargets?: ReadonlySet<string>): Promise<readonly string[]> {
    try {
      return await this.acceptOne(event, sourceName, onlyTargets);
    } catch (error) {
      // Total: whatever one object does, it is logged and counted, and the source (a seed) goes on.
      const key = describeEvent(event);
      this.options.metrics.eventsInvalid.inc({ source: sourceName });
      this.options.logger.error(
        { source: sourceName, key, code: ErrorCodes.INGEST_FAILED, err: errorText(error) },
        `${ErrorCodes.INGEST_FAILED}: ${key} from ${sourceName} was not written: ${errorText(error)}`,
      );
      return [];
    }
  }

  private async acceptOne(event: ChangeEvent, sourceName: string, onlyTargets?: ReadonlySet<string>): Promise<readonly string[]> {
    const { metrics, logger } = this.options;
    metrics.eventsReceived.inc({ source: sourceName, origin: typeof event?.origin === 'string' ? event.origin : 'unknown' });
    const problem = changeEventProblem(event);
    if (problem) {
      metrics.eventsInvalid.inc({ source: sourceName });
      logger.error({ source: sourceName, problem, identity: event?.identity }, `refused an invalid event from ${sourceName}: ${problem}`);
      return [];
    }
    const key = identityKey(event.identity);
    if (event.object !== undefined && nestingDepth(event.object) > MAX_OBJECT_DEPTH) {
      metrics.eventsInvalid.inc({ source: sourceName });
      logger.error(
        { source: sourceName, key, code: ErrorCodes.EVENT_TOO_DEEP },
        `${ErrorCodes.EVENT_TOO_DEEP}: ${key} is nested more than ${MAX_OBJECT_DEPTH} levels deep; it is not written (fix: flatten the object; no desired state needs that depth)`,
      );
      return [];
    }
    const routes = this.secretsGuard(
      event,
      key,
      this.routes.routesFor(event).filter((route) => !onlyTargets || onlyTargets.has(route.target.name)),
    );
    if (routes.length === 0) {
      metrics.eventsSuppressed.inc({ reason: 'unrouted' });
      return [];
    }

    let sanitized: KubeObject | undefined;
    let hash: string | undefined;
    let yaml: string | undefined;
    if (event.operation === 'upsert') {
      try {
        sanitized = (await this.runChain(this.sanitizers, event.object as KubeObject, event)) ?? undefined;
      } catch (error) {
        metrics.eventsInvalid.inc({ source: sourceName });
        logger.error({ key, err: errorText(error) }, `normalizer failed for ${key}; the change is not written: ${errorText(error)}`);
        return [];
      }
      if (!sanitized) {
        metrics.eventsSuppressed.inc({ reason: 'dropped_by_normalizer' });
        return [];
      }
      // Rendered once: the hash is taken of the file content, and the same text travels to the sink.
      yaml = renderYaml(sanitized);
      hash = contentHash(yaml);
    }

    const published: string[] = [];
    for (const route of routes) {
      const dedupeKey = `${key}|${route.target.name}`;
      if (event.operation === 'upsert') {
        // Seeds always pass: they are the reference state a writer compares its files with.
        if (event.origin !== 'seed' && this.lastHash.get(dedupeKey) === hash) {
          metrics.eventsSuppressed.inc({ reason: 'unchanged' });
          continue;
        }
        this.lastHash.set(dedupeKey, hash as string);
      } else {
        this.lastHash.delete(dedupeKey);
      }
      const message = await this.message(event, route, sanitized, hash, yaml);
      if (!message) continue;
      await this.options.bus.publish(route.partition.key, message);
      metrics.messagesPublished.inc({ target: route.target.name, kind: 'change' });
      published.push(route.target.name);
    }
    return published;
  }

  /**
   * Fail closed for Secrets: a core Secret goes only to targets where an encoder protects it or a rule
   * opts into plain text. Deletes pass (removing a file leaks nothing). Said once per object and target.
   */
  private secretsGuard(event: ChangeEvent, key: string, routes: Route[]): Route[] {
    if (event.operation === 'delete' || event.identity.group !== '' || event.identity.resource !== 'secrets') return routes;
    if (this.encoders.some((encoder) => encoder.protects?.(event.identity) === true)) return routes;
    return routes.filter((route) => {
      if (this.routes.plaintextSecretsAllowed(event.identity, route.target.name)) return true;
      this.options.metrics.eventsSuppressed.inc({ reason: 'secret_unprotected' });
      const warned = `${key}|${route.target.name}`;
      if (!this.refusedSecrets.has(warned)) {
        this.refusedSecrets.add(warned);
        this.options.logger.error(
          { key, target: route.target.name, code: ErrorCodes.SECRET_PLAINTEXT },
          `${ErrorCodes.SECRET_PLAINTEXT}: Secret ${key} is not written to target ${route.target.name}: no encoder protects it ` +
            '(fix: configure an encoder such as @gitops-reverser/sanitizer-sops under normalizers, or set plaintextSecrets: true on the rule to store it unencrypted)',
        );
      }
      return false;
    });
  }

  /**
   * Routes an audit fact like a change of its object (a write counts as create or update for rule
   * operations) and publishes it to each target's partition. Never throws for a bad fact.
   */
  async attribute(fact: AttributionFact, sourceName: string): Promise<void> {
    try {
      const problem = changeEventProblem({
        identity: fact?.identity,
        operation: fact?.operation,
        object: {},
        origin: 'audit',
        resourceVersion: fact?.resourceVersion,
        created: false,
        observedAt: '',
      } as ChangeEvent);
      if (problem || typeof fact.actor?.username !== 'string' || fact.actor.username === '') {
        this.options.metrics.eventsInvalid.inc({ source: sourceName });
        this.options.logger.error({ source: sourceName, problem: problem ?? 'actor.username is missing' }, `refused an attribution fact from ${sourceName}: ${problem ?? 'actor.username is missing'}`);
        return;
      }
      const routes = this.routes.routesFor({ identity: fact.identity, operation: fact.operation, created: false, origin: fact.operation === 'upsert' ? 'seed' : 'audit' });
      for (const route of routes) {
        await this.options.bus.publish(route.partition.key, { kind: 'attribution', target: route.target.name, fact });
        this.options.metrics.messagesPublished.inc({ target: route.target.name, kind: 'attribution' });
      }
    } catch (error) {
      this.options.metrics.eventsInvalid.inc({ source: sourceName });
      this.options.logger.error(
        { source: sourceName, code: ErrorCodes.INGEST_FAILED, err: errorText(error) },
        `${ErrorCodes.INGEST_FAILED}: an attribution fact from ${sourceName} was not routed: ${errorText(error)}`,
      );
    }
  }

  /** A snapshot: counts seed events per covered target and publishes each target's marker on completion. */
  beginSnapshot(targets: readonly string[], sourceName: string, clusterId: string): SnapshotWriter {
    const snapshotId = randomUUID();
    const counts = new Map<string, number>(targets.map((target) => [target, 0]));
    const covered: ReadonlySet<string> = new Set(targets);
    let completed = false;
    return {
      snapshotId,
      emit: async (event) => {
        if (completed) throw new Error(`snapshot ${snapshotId} is already complete`);
        const publishedTo = await this.accept({ ...event, origin: 'seed', snapshotId }, sourceName, covered);
        for (const target of publishedTo) counts.set(target, (counts.get(target) ?? 0) + 1);
      },
      complete: async (options = {}) => {
        if (completed) return;
        completed = true;
        const partial = new Set(options.partialTargets ?? []);
        for (const [target, objectCount] of counts) {
          const route = this.routes.route(target);
          if (!route) continue;
          const marker: BusMessage = {
            kind: 'snapshot',
            target,
            snapshotId,
            objectCount,
            clusterId,
            completedAt: new Date().toISOString(),
            ...(partial.has(target) ? { partial: true } : {}),
          };
          await this.options.bus.publish(route.partition.key, marker);
          this.options.metrics.messagesPublished.inc({ target, kind: 'snapshot' });
        }
      },
    };
  }

  private async message(event: ChangeEvent, route: Route, sanitized: KubeObject | undefined, hash: string | undefined, yaml: string | undefined): Promise<BusMessage | undefined> {
    if (event.operation === 'delete') {
      // The last known state is not written anywhere for a delete; leave it out of the bus, but keep
      // its uid: it tells this delete apart from the delete of a later object of the same name.
      const { object, ...rest } = event;
      const uid = rest.uid ?? uidOf(object);
      return { kind: 'change', target: route.target.name, event: uid ? { ...rest, uid } : rest };
    }
    let stored: KubeObject | null = sanitized as KubeObject;
    if (this.encoders.length > 0) {
      try {
        stored = await this.runChain(this.encoders, stored, event, route);
        // The stored form differs from what was hashed: render it (once, here).
        if (stored) yaml = renderYaml(stored);
      } catch (error) {
        this.options.logger.error(
          { key: identityKey(event.identity), target: route.target.name, err: errorText(error) },
          `encoding failed for ${identityKey(event.identity)} on target ${route.target.name}; the change is not written: ${errorText(error)}`,
        );
        return undefined;
      }
      if (!stored) {
        this.options.metrics.eventsSuppressed.inc({ reason: 'dropped_by_normalizer' });
        return undefined;
      }
    }
    return { kind: 'change', target: route.target.name, event: { ...event, object: stored, contentHash: hash as string }, yaml: yaml as string };
  }

  private async runChain(chain: readonly Normalizer[], object: KubeObject, event: ChangeEvent, route?: Route): Promise<KubeObject | null> {
    let current: KubeObject | null = object;
    for (const normalizer of chain) {
      if (current === null) return null;
      current = await normalizer.normalize(current, route ? { event, target: route.target, partition: route.partition } : { event });
    }
    return current;
  }
}
