import { ruleSelects, type ResourceIdentity, type RuleConfig, type RuleOperation, type SinkPartition, type TargetConfig } from '@gitops-reverser/contract';

/** A target an event is routed to, with the partition the sink planned for it. */
export interface Route {
  readonly target: TargetConfig;
  readonly partition: SinkPartition;
}

/**
 * Compiled routing: which targets an event goes to. Semantics follow WatchRule / ClusterWatchRule
 * (the contract's `ruleSelects`): scope Namespaced selects namespaced objects (in `namespaces`, or
 * all when empty), scope Cluster cluster-scoped ones; clusters, groups, versions, resources and
 * operations narrow the selection, empty or "*" meaning all. Several rules for one target yield it once.
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

  /** Routes for a write of this object that counts as any of `operations` (see `operationsOf`); empty when no rule selects it. */
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

  /** True when a rule of `targetName` that selects this object lets Secrets be written in plain text. */
  plaintextSecretsAllowed(identity: ResourceIdentity, targetName: string): boolean {
    return this.rules.some((rule) => rule.target === targetName && rule.plaintextSecrets && ruleSelects(rule, identity));
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
