import { inWrittenOrder, type KubeObject } from '@gitops-reverser/contract';
import { stringify } from 'yaml';

/**
 * Deterministic YAML for an object, in the contract's written order (`inWrittenOrder`: apiVersion,
 * kind, metadata first, every other key sorted, list order kept). The same object always gives the
 * same bytes, so equal content is detectable by comparing files or hashes.
 *
 * Written as YAML 1.1-safe: strings a YAML 1.1 reader (Go's yaml.v2, which kubectl uses) would take
 * for booleans or numbers ("yes", "on", "12:30") are quoted.
 */
export function renderYaml(object: KubeObject): string {
  return stringify(inWrittenOrder(object), { version: '1.1', lineWidth: 0, indentSeq: true, aliasDuplicateObjects: false });
}
