import type { AdapterSlot } from './adapter.js';
import type { AttributionFact } from './bus-message.js';
import type { Actor, ChangeEvent } from './change-event.js';
import type { ResourceIdentity } from './identity.js';

const REQUIRED_METHODS: Record<AdapterSlot, readonly string[]> = {
  source: ['start', 'stop', 'health'],
  bus: ['start', 'publish', 'consume', 'depth', 'drain', 'stop', 'health'],
  normalizer: ['normalize'],
  sink: ['planTargets', 'start', 'apply', 'flush', 'stop', 'health'],
};

/**
 * What an instance lacks for its slot, or [] when it has everything. Checked for every adapter, loaded
 * or passed in code, in `validate` and before `run`: a mistake here must be a named error, never a
 * partition worker that dies later.
 */
export function adapterShapeProblems(slot: AdapterSlot, instance: unknown): string[] {
  if (instance === null || typeof instance !== 'object') return [`create() returned ${instance === null ? 'null' : typeof instance}, not an object`];
  const record = instance as Record<string, unknown>;
  const problems = REQUIRED_METHODS[slot].filter((method) => typeof record[method] !== 'function').map((method) => `${method}() is missing`);
  if (slot === 'normalizer') {
    if (typeof record['name'] !== 'string' || record['name'] === '') problems.push('name is not a non-empty string');
    if (record['phase'] !== 'sanitize' && record['phase'] !== 'encode') problems.push(`phase is ${JSON.stringify(record['phase'])}, not "sanitize" or "encode"`);
  }
  if (slot === 'sink') {
    const policy = record['batchPolicy'] as { windowMs?: unknown; maxBytes?: unknown } | undefined;
    if (!policy || typeof policy !== 'object') problems.push('batchPolicy is missing (e.g. { windowMs: 0, maxBytes: 1048576 })');
    else {
      if (typeof policy.windowMs !== 'number' || !Number.isFinite(policy.windowMs) || policy.windowMs < 0) problems.push('batchPolicy.windowMs is not a number >= 0');
      if (typeof policy.maxBytes !== 'number' || !(policy.maxBytes > 0)) problems.push('batchPolicy.maxBytes is not a number > 0');
    }
  }
  return problems;
}

const PHASES: ReadonlySet<unknown> = new Set(['seed', 'live', 'sweep']);
/** An `observedBy` word: what names a kind of source. */
const WORD = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * Why an event cannot be processed, or undefined. The kernel checks every event a source emits with
 * it (sources are third-party code: check, do not trust), and the source conformance suite too.
 */
export function changeEventProblem(event: ChangeEvent): string | undefined {
  if (!event || typeof event !== 'object') return 'not an object';
  const identity = identityProblem(event.identity);
  if (identity) return identity;
  if (event.operation !== 'upsert' && event.operation !== 'delete') return `operation "${String(event.operation)}" is neither upsert nor delete`;
  if (event.operation === 'upsert' && (event.object === null || typeof event.object !== 'object' || Array.isArray(event.object))) return 'an upsert must carry the full object';
  if (!PHASES.has(event.phase)) return `phase "${String(event.phase)}" is none of seed, live, sweep`;
  if (typeof event.observedBy !== 'string' || !WORD.test(event.observedBy)) return `observedBy ${JSON.stringify(event.observedBy)} is not a lowercase word (e.g. "watch", "audit")`;
  if (typeof event.resourceVersion !== 'string') return 'resourceVersion must be a string';
  if (event.uid !== undefined && typeof event.uid !== 'string') return 'uid must be a string';
  if (event.actor !== undefined && actorProblem(event.actor)) return actorProblem(event.actor);
  if (event.namespaceLabels !== undefined && !isStringMap(event.namespaceLabels)) return 'namespaceLabels must be a map of strings';
  return undefined;
}

function isStringMap(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value as Record<string, unknown>).every((v) => typeof v === 'string');
}

/** Why an attribution fact cannot be used, or undefined. Checked for every fact a source hands over. */
export function attributionFactProblem(fact: AttributionFact): string | undefined {
  if (!fact || typeof fact !== 'object') return 'not an object';
  const identity = identityProblem(fact.identity);
  if (identity) return identity;
  if (fact.operation !== 'upsert' && fact.operation !== 'delete') return `operation "${String(fact.operation)}" is neither upsert nor delete`;
  if (typeof fact.resourceVersion !== 'string') return 'resourceVersion must be a string';
  if (fact.uid !== undefined && typeof fact.uid !== 'string') return 'uid must be a string';
  const actor = actorProblem(fact.actor);
  if (actor) return actor;
  if (typeof fact.by !== 'string' || !WORD.test(fact.by)) return `by ${JSON.stringify(fact.by)} is not a lowercase word (e.g. "audit")`;
  if (typeof fact.id !== 'string') return 'id must be a string';
  if (fact.object !== undefined && (fact.object === null || typeof fact.object !== 'object' || Array.isArray(fact.object))) return 'object, when given, must be the object';
  return undefined;
}

function identityProblem(id: ResourceIdentity | undefined): string | undefined {
  if (!id || typeof id !== 'object') return 'identity is missing';
  for (const field of ['clusterId', 'version', 'resource', 'kind', 'name'] as const) {
    if (typeof id[field] !== 'string' || id[field] === '') return `identity.${field} is missing`;
  }
  if (typeof id.group !== 'string') return 'identity.group must be a string ("" for the core group)';
  if (typeof id.namespace !== 'string') return 'identity.namespace must be a string ("" for cluster-scoped objects)';
  for (const field of ['clusterId', 'group', 'resource', 'namespace', 'name'] as const) {
    if (id[field].includes('/')) return `identity.${field} "${id[field]}" contains "/"`;
  }
  return undefined;
}

function actorProblem(actor: Actor | undefined): string | undefined {
  if (!actor || typeof actor !== 'object' || typeof actor.username !== 'string' || actor.username === '') return 'actor.username must be a non-empty string';
  return undefined;
}
