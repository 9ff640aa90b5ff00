import type { GitopsReverserConfig } from '../config/config-types.js';
import type { RouteTable } from '../routing/route-table.js';

/** Targets whose definition (options, partition) or rules differ between two route tables: their sources reseed them. */
export function changedTargetsBetween(previous: RouteTable, next: RouteTable): string[] {
  const signature = (table: RouteTable, name: string) => {
    const route = table.route(name);
    const rules = table.rules.filter((rule) => rule.target === name).map(({ keyPath: _k, ...rule }) => rule);
    return JSON.stringify({ with: route?.target.with, partition: route?.partition.key, rules });
  };
  return next.targets.map((t) => t.name).filter((name) => signature(previous, name) !== signature(next, name));
}

/** Top-level keys whose change a reload cannot apply (adapters, server, sanitizer, credentials, startup, watchdog): they need a restart. */
export function restartOnlyChanges(previous: GitopsReverserConfig, next: GitopsReverserConfig): string[] {
  const keys: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const refs = (config: GitopsReverserConfig) => ({
    sources: config.sources.map((r) => [r.use, r.with, r.name, r.cluster]),
    normalizers: config.normalizers.map((r) => [r.use, r.with, r.name]),
    bus: [config.bus.use, config.bus.with, config.bus.name],
    sink: [config.sink.use, config.sink.with, config.sink.name],
  });
  const a = refs(previous);
  const b = refs(next);
  for (const key of ['sources', 'normalizers', 'bus', 'sink'] as const) if (!same(a[key], b[key])) keys.push(key);
  for (const key of ['server', 'sanitizer', 'credentials', 'startup', 'watchdog', 'attribution'] as const) if (!same(previous[key], next[key])) keys.push(key);
  return keys;
}
