import {
  ruleLabelVerdict,
  ruleSelects,
  type CredentialMode,
  type KubeObject,
  type Labels,
  type ResourceIdentity,
  type RuleConfig,
  type RuleOperation,
  type SinkPartition,
  type TargetConfig,
} from '@gitops-reverser/contract';

/** A target an event is routed to, with the partition the sink planned for it. */
export interface Route {
  readonly target: TargetConfig;
  readonly partition: SinkPartition;
}

/** What the routing knows of an object's labels: its state (when the event carries one) and its namespace's labels (when the source set them). */
export interface LabelFacts {
  readonly object?: KubeObject | undefined;
  readonly namespaceLabels?: Labels;
}

/** Which targets select an object, which it left, and which cannot tell. */
export interface TargetSelection {
  /** Targets with a rule that selects the object (labels included). */
  readonly selected: Route[];
  /**
   * Targets the object is not (or no longer) selected for because a rule's label selector rejects
   * its known labels, and whose rejecting rules let such objects go (`unselected: delete`): if the
   * target holds the object, it should be removed.
   */
  readonly unselected: Route[];
  /** Targets whose rules cover the object by type and namespace but need labels the event lacks. */
  readonly undecided: Route[];
}

/** Credential modes from the most to the least protective: the first of the selecting rules' modes wins. */
const STRICTNESS: readonly CredentialMode[] = ['refuse', 'redact', 'encrypt', 'warn', 'off'];

/**
 * Compiled routing: which targets an event goes to. Semantics follow WatchRule / ClusterWatchRule
 * (the contract's `ruleSelects`): scope Namespaced selects namespaced objects (in `namespaces`, or
 * all when empty), scope Cluster cluster-scoped ones; clusters, groups, versions, resources and
 * operations narrow the selection, empty or "*" meaning all; label selectors (`objectSelector`,
 * `namespaceSelector`) narrow it by the object's and its namespace's labels (`select`). Several rules
 * for one target yield it once.
 */
export class RouteTable {
  private readonly routesByTarget = new Map<string, Route>();
  private readonly partitionsByKey = new Map<string, SinkPartition>();

  constructor(
    readonly rules: readonly RuleConfig[],
    readonly targets: readonly TargetConfig[],
    partitions: ReadonlyMap<string, SinkPartition>,
  ) {
    for (const target of targets) {
      const partition = partitions.get(target.name);
      if (!partition) continue; // the assembly refuses this; kept total for tests
      this.routesByTarget.set(target.name, { target, partition });
      this.partitionsByKey.set(partition.key, partition);
    }
  }

  /**
   * Routes for a write of this object that counts as any of `operations` (see `operationsOf`), by
   * type, namespace and cluster only: label selectors are not checked (attribution facts route by
   * this; a fact reaching a target that does not hold the object authors nothing). Changes use `select`.
   */
  routesFor(identity: ResourceIdentity, operations: readonly RuleOperation[]): Route[] {
    const matched = new Set<string>();
    for (const rule of this.rules) {
      if (matched.has(rule.target)) continue;
      if (!ruleSelects(rule, identity)) continue;
      if (rule.operations.length > 0 && !operations.some((op) => rule.operations.includes(op))) continue;
      matched.add(rule.target);
    }
    return [...matched].flatMap((name) => {
      const route = this.routesByTarget.get(name);
      return route ? [route] : [];
    });
  }

  /**
   * Where a change of this object goes: targets whose rules select it, targets it left (a label
   * selector that selected it no longer does: a rule with `unselected: keep` holds it back), and
   * targets that cannot tell for lack of labels. A target is in one list at most, the first that applies.
   */
  select(identity: ResourceIdentity, operations: readonly RuleOperation[], labels: LabelFacts): TargetSelection {
    const verdicts = new Map<string, { selected: boolean; unselected: boolean; keep: boolean; unknown: boolean }>();
    for (const rule of this.rules) {
      if (!ruleSelects(rule, identity)) continue;
      if (rule.operations.length > 0 && !operations.some((op) => rule.operations.includes(op))) continue;
      const verdict = verdicts.get(rule.target) ?? { selected: false, unselected: false, keep: false, unknown: false };
      const judged = ruleLabelVerdict(rule, labels);
      if (judged === 'selected') verdict.selected = true;
      else if (judged === 'unknown') verdict.unknown = true;
      else {
        verdict.unselected = true;
        if (rule.unselected === 'keep') verdict.keep = true;
      }
      verdicts.set(rule.target, verdict);
    }
    const selection = { selected: [] as Route[], unselected: [] as Route[], undecided: [] as Route[] };
    for (const [name, verdict] of verdicts) {
      const route = this.routesByTarget.get(name);
      if (!route) continue;
      if (verdict.selected) selection.selected.push(route);
      else if (verdict.unselected && !verdict.keep) selection.unselected.push(route);
      else if (verdict.unknown) selection.undecided.push(route);
    }
    return selection;
  }

  /** True when a rule of `targetName` that selects this object lets Secrets be written in plain text. */
  plaintextSecretsAllowed(identity: ResourceIdentity, targetName: string, labels: LabelFacts = {}): boolean {
    return this.rules.some((rule) => rule.target === targetName && rule.plaintextSecrets && ruleSelects(rule, identity) && ruleLabelVerdict(rule, labels) === 'selected');
  }

  /**
   * The credential gate's mode for this object on a target: the most protective mode of the target's
   * rules that select it (`refuse` > `redact` > `encrypt` > `warn` > `off`), a rule without one
   * counting as `fallback` (config `credentials.mode`).
   */
  credentialMode(identity: ResourceIdentity, targetName: string, labels: LabelFacts, fallback: CredentialMode): CredentialMode {
    let strictest: CredentialMode | undefined;
    for (const rule of this.rules) {
      if (rule.target !== targetName || !ruleSelects(rule, identity) || ruleLabelVerdict(rule, labels) !== 'selected') continue;
      const mode = rule.credentials ?? fallback;
      if (strictest === undefined || STRICTNESS.indexOf(mode) < STRICTNESS.indexOf(strictest)) strictest = mode;
    }
    return strictest ?? fallback;
  }

  /** The route of a target by name. */
  route(targetName: string): Route | undefined {
    return this.routesByTarget.get(targetName);
  }

  routes(): Route[] {
    return [...this.routesByTarget.values()];
  }

  /** The partition object the sink planned for a key (undefined once no target writes there). */
  partition(key: string): SinkPartition | undefined {
    return this.partitionsByKey.get(key);
  }
}
