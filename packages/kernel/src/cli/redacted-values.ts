import type { KubeObject } from '@gitops-reverser/contract';
import { REDACTION_PREFIX } from '../credentials/credential-gate.js';

/** True for a stored value the credential gate redacted (whole or in part): it holds a marker, not the credential. */
export function holdsRedaction(value: unknown): boolean {
  return typeof value === 'string' && value.includes(REDACTION_PREFIX);
}

/**
 * A stored object without the values the credential gate redacted (ADR 0022), and their paths
 * (`data.url`, `spec.args`). Restoring a marker would replace the live credential with it: what
 * git never held cannot be restored, so those fields are left out of the apply and the live value
 * stays. A list that holds a redacted string is left out whole (a list is replaced whole, and
 * dropping one item would shift the others).
 */
export function withoutRedactedValues(object: KubeObject): { readonly object: KubeObject; readonly redacted: readonly string[] } {
  const redacted: string[] = [];
  const strip = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) {
      if (value.some(holdsRedaction)) return DROP;
      return value.map((item, index) => {
        const kept = strip(item, `${path}[${index}]`);
        return kept === DROP ? null : kept;
      });
    }
    if (value === null || typeof value !== 'object') return holdsRedaction(value) ? DROP : value;
    const kept: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const childPath = path === '' ? key : `${path}.${key}`;
      const result = strip(child, childPath);
      if (result === DROP) redacted.push(childPath);
      else kept[key] = result;
    }
    return kept;
  };
  const stripped = strip(object, '') as KubeObject;
  return { object: redacted.length === 0 ? object : stripped, redacted };
}

/** True when `path` is one of `paths` or inside one. */
export function isUnder(path: string, paths: readonly string[]): boolean {
  return paths.some((p) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`));
}

const DROP = Symbol('redacted');
