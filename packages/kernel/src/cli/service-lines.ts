import { KernelServices, type AdapterSlot } from '@gitops-reverser/contract';
import type { AssembledAdapter } from '../assembly/assemble.js';

const KERNEL_SERVICE_IDS: ReadonlySet<string> = new Set(Object.values(KernelServices).map((token) => token.id));

/**
 * The lines `plugins` prints under an adapter's row: each service it provides (with the token's
 * description) and each it needs, marked optional or not, with what the config wires to it. Shows how
 * adapters depend on each other without reading their code.
 */
export function serviceLines(adapter: AssembledAdapter<AdapterSlot>, all: readonly AssembledAdapter<AdapterSlot>[]): string[] {
  const provided = (adapter.provides ?? []).map((token) => `    provides ${token.id}${token.description ? `: ${token.description}` : ''}`);
  const needed = (adapter.needs ?? []).map((need) => {
    const provider = all.find((other) => other.provides?.some((token) => token.id === need.token.id));
    const from = KERNEL_SERVICE_IDS.has(need.token.id)
      ? 'provided by the kernel'
      : provider
        ? `provided by ${provider.keyPath} (${provider.name})`
        : `not provided${need.token.providedBy ? ` (${need.token.providedBy} provides it)` : ''}`;
    return `    needs ${need.token.id}${need.optional ? ' (optional)' : ''}: ${from}`;
  });
  return [...provided, ...needed];
}
