import { attributionFactProblem, changeEventProblem } from '@gitops-reverser/contract';

const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';

/**
 * Why a message taken off the bus cannot be handled, or undefined. Every delivery is checked before
 * anything reads it: a bus carries whatever was published to it (another version, a bug, a forgery),
 * and one bad message must be dead-lettered with its reason, never crash the partition's worker.
 */
export function busMessageProblem(message: unknown): string | undefined {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) return 'not an object';
  const record = message as Record<string, unknown>;
  if (!isText(record['target'])) return 'target is missing';
  switch (record['kind']) {
    case 'change': {
      const problem = changeEventProblem(record['event'] as never);
      return problem ? `change event: ${problem}` : undefined;
    }
    case 'snapshot-end': {
      if (!isText(record['snapshotId'])) return 'snapshot end: snapshotId is missing';
      const count = record['objectCount'];
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) return 'snapshot end: objectCount is not a whole number >= 0';
      if (!isText(record['clusterId'])) return 'snapshot end: clusterId is missing';
      if (record['partial'] !== undefined && typeof record['partial'] !== 'boolean') return 'snapshot end: partial is not a boolean';
      const versions = record['resourceVersions'];
      if (versions !== undefined && (versions === null || typeof versions !== 'object' || Array.isArray(versions) || Object.values(versions).some((v) => typeof v !== 'string')))
        return 'snapshot end: resourceVersions is not a map of type to resourceVersion';
      return undefined;
    }
    case 'attribution': {
      const problem = attributionFactProblem(record['fact'] as never);
      return problem ? `attribution fact: ${problem}` : undefined;
    }
    default:
      return `kind ${JSON.stringify(record['kind'])} is none of change, snapshot-end, attribution (a message of another version?)`;
  }
}
