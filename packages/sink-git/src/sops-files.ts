import type { KubeObject } from '@gitops-reverser/contract';

/**
 * SOPS-encrypted objects (a top-level `sops` block, as @gitops-reverser/sanitizer-sops writes them)
 * are stored as `<name>.sops.yaml`, the suffix sops users and Flux expect; the plain `<name>.yaml` of
 * the same object is removed when it becomes encrypted (and the other way round). Each target folder
 * that holds such files gets a `.sops.yaml` with a creation rule for them, so `sops` edits by hand
 * use the same recipients.
 */
export const SOPS_CONFIG_FILE = '.sops.yaml';

export function isSopsObject(object: KubeObject | undefined): boolean {
  const sops = object?.['sops'];
  return sops !== null && typeof sops === 'object' && typeof (sops as { mac?: unknown }).mac === 'string';
}

/** `x/name.yaml` -> `x/name.sops.yaml`, and back; paths not ending in `.yaml` have no variant. */
export function sopsVariantOf(path: string): { plain: string; encrypted: string } | undefined {
  if (path.endsWith('.sops.yaml')) return { plain: `${path.slice(0, -'.sops.yaml'.length)}.yaml`, encrypted: path };
  if (path.endsWith('.yaml')) return { plain: path, encrypted: `${path.slice(0, -'.yaml'.length)}.sops.yaml` };
  return undefined;
}

/** The `.sops.yaml` content for files encrypted with this `sops` block. */
export function creationRulesFor(sops: Record<string, unknown>): string | undefined {
  const age = Array.isArray(sops['age']) ? (sops['age'] as { recipient?: unknown }[]).map((key) => key.recipient).filter((r): r is string => typeof r === 'string') : [];
  if (age.length === 0) return undefined;
  const regex = typeof sops['encrypted_regex'] === 'string' ? sops['encrypted_regex'] : undefined;
  return [
    '# Written by gitops-reverser: the rule its SOPS files in this folder were made with, so `sops` edits use the same keys.',
    'creation_rules:',
    "  - path_regex: '.*\\.sops\\.yaml$'",
    ...(regex ? [`    encrypted_regex: '${regex.replace(/'/g, "''")}'`] : []),
    `    age: '${[...age].sort().join(',')}'`,
    '',
  ].join('\n');
}
