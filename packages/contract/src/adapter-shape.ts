import type { AdapterSlot } from './adapter.js';
import type { ChangeEvent } from './change-event.js';

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

/**
 * Why an event cannot be processed, or undefined. The kernel checks every event a source emits with
 * it (sources are third-party code: check, do not trust), and the source conformance suite too.
 */
export function changeEventProblem(event: ChangeEvent): string | undefined {
  if (!event || typeof event !== 'object') return 'not an object';
  const id = event.identity;
  if (!id || typeof id !== 'object') return 'identity is missing';
  for (const field of ['clusterId', 'version', 'resource', 'kind', 'name'] as const) {
    if (typeof id[field] !== 'string' || id[field] === '') return `identity.${field} is missing`;
  }
  if (typeof id.group !== 'string') return 'identity.group must be a string ("" for the core group)';
  if (typeof id.namespace !== 'string') return 'identity.namespace must be a string ("" for cluster-scoped objects)';
  for (const field of ['clusterId', 'group', 'resource', 'namespace', 'name'] as const) {
    if (id[field].includes('/')) return `identity.${field} "${id[field]}" contains "/"`;
  }
  if (event.operation !== 'upsert' && event.operation !== 'delete') return `operation "${String(event.operation)}" is neither upsert nor delete`;
  if (event.operation === 'upsert' && (event.object === null || typeof event.object !== 'object' || Array.isArray(event.object))) return 'an upsert must carry the full object';
  if (!['watch', 'audit', 'seed', 'sweep'].includes(event.origin)) return `origin "${String(event.origin)}" is unknown`;
  if (typeof event.resourceVersion !== 'string') return 'resourceVersion must be a string';
  return undefined;
}
