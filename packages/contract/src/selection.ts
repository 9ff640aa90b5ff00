import type { ChangeEvent } from './change-event.js';
import type { KubeObject, ResourceIdentity } from './identity.js';
import { isEmptyLabelSelector, labelSelectorMatches, type LabelSelector, type Labels } from './label-selector.js';

export type RuleScope = 'Namespaced' | 'Cluster';
export type RuleOperation = 'CREATE' | 'UPDATE' | 'DELETE';
/** What a target does with an object that stops matching a rule's label selectors: remove its file, or keep it as last written. */
export type UnselectedPolicy = 'delete' | 'keep';
/**
 * What the kernel's credential gate does with a credential found in an object written unencrypted:
 * `refuse` it (nothing written), `redact` the value (a keyed-hash marker), `encrypt` it (through an
 * encoder that honours `NormalizeContext.encryptPaths`), `warn` (written, logged, counted) or `off`.
 */
export type CredentialMode = 'refuse' | 'redact' | 'encrypt' | 'warn' | 'off';

/** One entry of config `rules:`, defaults applied. Semantics follow WatchRule / ClusterWatchRule. */
export interface RuleConfig {
  readonly target: string;
  readonly scope: RuleScope;
  /** Cluster ids (of `sources[].cluster`) the rule applies to; empty = every cluster. */
  readonly clusters: readonly string[];
  /** Namespaced rules only: the namespaces to select; empty = all namespaces. */
  readonly namespaces: readonly string[];
  /** "" is the core group; "*" or empty = all groups. */
  readonly apiGroups: readonly string[];
  /** "*" or empty = all versions (a watching source uses the preferred one). */
  readonly apiVersions: readonly string[];
  /** Plural resource names; "*" = all. */
  readonly resources: readonly string[];
  /** Empty = all operations. */
  readonly operations: readonly RuleOperation[];
  /**
   * Core Secrets this rule selects may be written in plain text when no encoder protects them. Off by
   * default: without an encoder (e.g. sanitizer-sops) Secrets are refused.
   */
  readonly plaintextSecrets: boolean;
  /**
   * Only objects whose labels match (Kubernetes semantics). A watching source may ask the API server
   * for them (`labelSelector`); the kernel checks every event's object against it.
   */
  readonly objectSelector?: LabelSelector;
  /**
   * Namespaced rules only: only objects in namespaces whose labels match. The kernel reads the labels
   * from `ChangeEvent.namespaceLabels`; an event without them is never selected by such a rule.
   */
  readonly namespaceSelector?: LabelSelector;
  /** An object that stops matching the selectors: `delete` its file (default) or `keep` it. */
  readonly unselected?: UnselectedPolicy;
  /** The credential gate's mode for objects this rule selects (default: config `credentials.mode`). */
  readonly credentials?: CredentialMode;
  /** Key path in the config file (`rules[2]`), for messages. */
  readonly keyPath: string;
}

/**
 * One entry of config `targets:`. The kernel knows only its name; everything about where and how it
 * is written (`with:`) belongs to the sink, which validates it with its `targetOptionsSchema`.
 */
export interface TargetConfig {
  readonly name: string;
  /** The sink's options for this target, validated and with the schema's defaults applied. */
  readonly with: Readonly<Record<string, unknown>>;
  /** Key path in the config file (`targets[0]`), for messages. */
  readonly keyPath: string;
  /**
   * The cluster ids whose objects the target's rules route to it (set by the kernel before
   * `planTargets`). More than one: objects of different clusters may share namespace and name, and a
   * sink must keep them apart (sink-git refuses a layout without `{cluster}` then).
   */
  readonly clusters?: readonly string[];
}

/** What a source should observe: the rules that apply to its cluster, and the names of the targets they feed. */
export interface Selection {
  readonly rules: readonly RuleConfig[];
  readonly targets: readonly string[];
}

/** A served type, as discovery reports it. */
export interface ResourceType {
  readonly group: string;
  readonly version: string;
  /** Plural name, e.g. "configmaps". */
  readonly resource: string;
  readonly namespaced: boolean;
}

function matchesList(list: readonly string[], value: string): boolean {
  return list.length === 0 || list.includes('*') || list.includes(value);
}

/**
 * True when `rule` covers objects of this type (scope, group, version, resource), before namespaces,
 * clusters and operations. The one matcher: the kernel routes with it and sources plan watches with it.
 */
export function ruleMatchesType(rule: RuleConfig, type: ResourceType): boolean {
  if ((rule.scope === 'Namespaced') !== type.namespaced) return false;
  return matchesList(rule.apiGroups, type.group) && matchesList(rule.apiVersions, type.version) && matchesList(rule.resources, type.resource);
}

/** True when `rule` selects this object by cluster, namespace and type (ignoring operations and label selectors: see `ruleLabelVerdict`). */
export function ruleSelects(rule: RuleConfig, identity: ResourceIdentity): boolean {
  const namespaced = identity.namespace !== '';
  if (rule.clusters.length > 0 && !rule.clusters.includes(identity.clusterId)) return false;
  if (namespaced && rule.namespaces.length > 0 && !rule.namespaces.includes(identity.namespace)) return false;
  return ruleMatchesType(rule, { group: identity.group, version: identity.version, resource: identity.resource, namespaced });
}

/** True when the rule has a label selector (object or namespace) that is not empty. */
export function ruleHasLabelSelectors(rule: RuleConfig): boolean {
  return !isEmptyLabelSelector(rule.objectSelector) || !isEmptyLabelSelector(rule.namespaceSelector);
}

/**
 * How a rule's label selectors judge an object it covers by type, namespace and cluster:
 * - `selected`: every selector matches (or the rule has none);
 * - `unselected`: the labels are known and a selector does not match them;
 * - `unknown`: a selector needs labels the event does not carry (a delete without its object, an
 *   event without `namespaceLabels`): such a rule neither selects nor unselects it.
 */
export function ruleLabelVerdict(rule: RuleConfig, labels: { readonly object?: KubeObject | undefined; readonly namespaceLabels?: Labels }): 'selected' | 'unselected' | 'unknown' {
  let unknown = false;
  if (!isEmptyLabelSelector(rule.objectSelector)) {
    if (labels.object === undefined) unknown = true;
    else if (!labelSelectorMatches(rule.objectSelector as LabelSelector, labelsOf(labels.object))) return 'unselected';
  }
  if (!isEmptyLabelSelector(rule.namespaceSelector)) {
    if (labels.namespaceLabels === undefined) unknown = true;
    else if (!labelSelectorMatches(rule.namespaceSelector as LabelSelector, labels.namespaceLabels)) return 'unselected';
  }
  return unknown ? 'unknown' : 'selected';
}

/** An object's labels, when they are a map of strings (anything else counts as no labels). */
export function labelsOf(object: KubeObject | undefined): Labels {
  const labels = object?.metadata?.labels;
  return labels !== null && typeof labels === 'object' && !Array.isArray(labels) ? (labels as Record<string, string>) : undefined;
}

/** The rules that apply to one cluster's objects. */
export function rulesForCluster(rules: readonly RuleConfig[], clusterId: string): RuleConfig[] {
  return rules.filter((rule) => rule.clusters.length === 0 || rule.clusters.includes(clusterId));
}

/** Which rule operation an event counts as. Seeds are the current state: they match CREATE or UPDATE. */
export function operationsOf(event: Pick<ChangeEvent, 'operation' | 'created' | 'phase'>): readonly RuleOperation[] {
  if (event.operation === 'delete') return ['DELETE'];
  if (event.phase === 'seed') return ['CREATE', 'UPDATE'];
  return [event.created ? 'CREATE' : 'UPDATE'];
}
