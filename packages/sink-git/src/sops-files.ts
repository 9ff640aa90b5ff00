import type { KubeObject } from '@gitops-reverser/contract';

/**
 * SOPS-encrypted objects (a top-level `sops` block, as @gitops-reverser/sanitizer-sops writes them)
 * are stored as `<name>.sops.yaml`, the suffix sops users and Flux expect; the plain `<name>.yaml` of
 * the same object is removed when it becomes encrypted (and the other way round). Each target folder
 * that holds such files gets a `.sops.yaml` with a creation rule for them, so `sops` edits by hand
 * use the same recipients.
 *
 * Two objects must never share a file, and a variant must never remove another object's file
 * (ADR 0016): the plain file of an object named `x.sops` would be `x.sops.yaml`, the encrypted file
 * of `x`. So a plain file name never ends in `.sops.yaml`: there the dot before `sops` is written
 * `%2E` (`x%2Esops.yaml`). No Kubernetes name contains `%`, so no object's file can be that name, and
 * every `*.sops.yaml` file is an encrypted one.
 */
export const SOPS_CONFIG_FILE = '.sops.yaml';

const YAML = '.yaml';
const SOPS_YAML = '.sops.yaml';

export function isSopsObject(object: KubeObject | undefined): boolean {
  const sops = object?.['sops'];
  return sops !== null && typeof sops === 'object' && typeof (sops as { mac?: unknown }).mac === 'string';
}

/**
 * The file names of one object, from the name its layout produced (the last path segment): `plain`,
 * and for a `.yaml` name its SOPS variant `encrypted`. Distinct objects never share one of these.
 */
export function objectFileNames(name: string): { plain: string; encrypted?: string } {
  if (!name.endsWith(YAML)) return { plain: name };
  const stem = name.slice(0, -YAML.length);
  const plain = name.endsWith(SOPS_YAML) ? `${name.slice(0, -SOPS_YAML.length)}%2Esops${YAML}` : name;
  return { plain, encrypted: `${stem}${SOPS_YAML}` };
}

/** True for a name ending in `.sops.yaml` (kept whole when a long name is shortened). */
export function isSopsFileName(name: string): boolean {
  return name.endsWith(SOPS_YAML);
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
