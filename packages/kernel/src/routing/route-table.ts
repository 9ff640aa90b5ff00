import type { ProviderConfig, RuleConfig, RuleOperation, TargetConfig } from '../config/config-types.js';
import type { ChangeEvent } from '../model/change-event.js';
import type { ResourceIdentity } from '../model/identity.js';
import { partitionKeyOf } from '../model/partition-key.js';

/** A target an event is routed to, with everything a sink needs to place it. */
export interface Route {
  readonly target: TargetConfig;
  readonly provider: ProviderConfig;
  /** `{repo}#{branch}`: see partitionKeyOf. */
  readonly partitionKey: string;
}

/** Which rule operation an event counts as. Seeds are the current state: they match CREATE or UPDATE. */
export function operationsOf(event: Pick<ChangeEvent, 'operation' | 'created' | 'origin'>): readonly RuleOperation[] {
  if (event.operation === 'delete') return ['DELETE'];
  if (event.origin === 'seed') return ['CREATE', 'UPDATE'];
  return [event.created ? 'CREATE' : 'UPDATE'];
}

/** True when `rule` selects objects of this identity (ignoring operations). */
export function ruleSelects(rule: RuleConfig, identity: ResourceIdentity): boolean {
  const namespaced = identity.namespace !== '';
  if (rule.scope === 'Namespaced' ? !namespaced : namespaced) return false;
  if (namespaced && rule.namespaces.length > 0 && !rule.namespaces.includes(identity.namespace)) return false;
  return (
    matchesList(rule.apiGroups, identity.group) &&
    matchesList(rule.apiVersions, identity.version) &&
    matchesList(rule.resources, identity.resource)
  );
}

function matchesList(list: readonly string[], value: string): boolean {
  return list.length === 0 || list.includes('*') || list.includes(value);
}

/**
 * Compiled routing: which targets an event goes to. Semantics follow WatchRule / ClusterWatchRule:
 * a rule with scope Namespaced selects namespaced objects (in `namespaces`, or all when empty);
 * scope Cluster selects cluster-scoped objects; apiGroups/apiVersions/resources/operations narrow
 * the selection, empty or "*" meaning all. Several rules for one target yield the target once.
 */
export class RouteTable {
  private readonly routesByTarget = new Map<string, Route>();

  constructor(
    readonly rules: readonly RuleConfig[],
    targets: readonly TargetConfig[],
    providers: readonly ProviderConfig[],
  ) {
    const providerByName = new Map(providers.map((p) => [p.name, p]));
    for (const target of targets) {
      const provider = providerByName.get(target.provider);
      if (!provider) continue; // config validation refuses this; kept total for code-built configs
      this.routesByTarget.set(target.name, { target, provider, partitionKey: partitionKeyOf(provider.url, target.branch) });
    }
  }

  /** Routes for an event; empty when no rule selects it. */
  routesFor(event: Pick<ChangeEvent, 'identity' | 'operation' | 'created' | 'origin'>): Route[] {
    const operations = operationsOf(event);
    const matched = new Set<string>();
    for (const rule of this.rules) {
      if (matched.has(rule.target)) continue;
      if (!ruleSelects(rule, event.identity)) continue;
      if (rule.operations.length > 0 && !operations.some((op) => rule.operations.includes(op))) continue;
      matched.add(rule.target);
    }
    return [...matched].flatMap((name) => {
      const route = this.routesByTarget.get(name);
      return route ? [route] : [];
    });
  }

  /** The route of a target by name. */
  route(targetName: string): Route | undefined {
    return this.routesByTarget.get(targetName);
  }

  routes(): Route[] {
    return [...this.routesByTarget.values()];
  }

  /** Rules of one target. */
  rulesOf(targetName: string): RuleConfig[] {
    return this.rules.filter((rule) => rule.target === targetName);
  }
}
