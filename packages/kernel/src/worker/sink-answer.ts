import type { SinkOutcome } from '@gitops-reverser/contract';

const STATUSES: ReadonlySet<string> = new Set(['applied', 'unchanged', 'retry', 'rejected']);

/** A sink's answer to one batch, read against the contract. */
export interface CheckedAnswer {
  /** One known outcome per item; whatever the sink did not answer properly is `retry`. */
  readonly outcomes: SinkOutcome[];
  /** What broke the contract, when something did (logged with the sink's name, counted, watched). */
  readonly problem?: string;
}

/**
 * Reads what `apply()` resolved to: exactly one known outcome per item, in order. No array, a wrong
 * length or an unknown status break the Sink contract; the affected items count as `retry` (nothing is
 * assumed written), and the problem is named.
 */
export function checkSinkAnswer(answer: unknown, count: number, sinkName: string): CheckedAnswer {
  if (!Array.isArray(answer)) {
    return {
      outcomes: Array.from({ length: count }, () => ({ status: 'retry', reason: `sink "${sinkName}" reported no outcomes` })),
      problem: `apply() resolved to ${answer === null ? 'null' : typeof answer}, not an array of outcomes`,
    };
  }
  const problems: string[] = [];
  if (answer.length !== count) problems.push(`apply() returned ${answer.length} outcomes for ${count} items`);
  let unknown = 0;
  const outcomes = Array.from({ length: count }, (_, index): SinkOutcome => {
    const outcome = answer[index] as { status?: unknown; reason?: unknown } | undefined;
    if (outcome && typeof outcome === 'object' && typeof outcome.status === 'string' && STATUSES.has(outcome.status)) {
      if ((outcome.status === 'retry' || outcome.status === 'rejected') && typeof outcome.reason !== 'string') return { ...(outcome as SinkOutcome), reason: 'no reason given' } as SinkOutcome;
      return outcome as SinkOutcome;
    }
    if (index < answer.length) unknown++;
    return { status: 'retry', reason: `sink "${sinkName}" reported no known outcome for this item` };
  });
  if (unknown > 0) problems.push(`${unknown} outcome(s) without a known status (applied, unchanged, retry, rejected)`);
  return problems.length > 0 ? { outcomes, problem: problems.join('; ') } : { outcomes };
}
