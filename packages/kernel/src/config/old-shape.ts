import { ErrorCodes } from '../errors.js';
import type { ConfigProblem } from './config-problem.js';
import { CONFIG_API_VERSION } from './config-types.js';

const TARGET_KEYS_MOVED = ['provider', 'branch', 'path', 'prune', 'layout'];

/**
 * A config without `apiVersion`, or with another one. A file in the 0.1 shape (cluster, providers,
 * git keys on targets) gets one problem per key that moved, each saying where it goes now.
 */
export function oldShapeProblems(raw: Record<string, unknown>): ConfigProblem[] {
  const version = raw['apiVersion'];
  if (version === CONFIG_API_VERSION) return [];
  if (version !== undefined) {
    return [
      {
        code: ErrorCodes.CONFIG_VERSION,
        keyPath: 'apiVersion',
        message: `this gitops-reverser reads apiVersion ${CONFIG_API_VERSION}, not ${JSON.stringify(version)}`,
        fix: `write apiVersion: ${CONFIG_API_VERSION} and compare the file with examples/quickstart.yaml`,
      },
    ];
  }
  const problems: ConfigProblem[] = [
    {
      code: ErrorCodes.CONFIG_VERSION,
      keyPath: '',
      message: 'the config has no apiVersion',
      fix: `add apiVersion: ${CONFIG_API_VERSION} as the first line${looksOld(raw) ? ', and move the keys listed below (the 0.1 config shape)' : ''}`,
    },
  ];
  if (!looksOld(raw)) return problems;
  const cluster = raw['cluster'] as Record<string, unknown> | undefined;
  if (cluster !== undefined) {
    problems.push({
      code: ErrorCodes.CONFIG_VERSION,
      keyPath: 'cluster',
      message: 'the top-level cluster key is gone: each source names the cluster it observes',
      fix: `write cluster: ${typeof cluster?.['id'] === 'string' ? cluster['id'] : '<id>'} on each entry of sources:${
        cluster?.['kubeconfig'] !== undefined || cluster?.['context'] !== undefined
          ? ', and move cluster.kubeconfig / cluster.context to sources[].with.kubeconfig / with.context of @gitops-reverser/source-informer'
          : ''
      }`,
    });
  }
  if (raw['providers'] !== undefined) {
    problems.push({
      code: ErrorCodes.CONFIG_VERSION,
      keyPath: 'providers',
      message: 'providers are options of the git sink now',
      fix: 'move the list under sink.with.providers (sink: { use: "@gitops-reverser/sink-git", with: { providers: [...] } })',
    });
  }
  const targets = Array.isArray(raw['targets']) ? (raw['targets'] as unknown[]) : [];
  targets.forEach((target, i) => {
    if (target === null || typeof target !== 'object') return;
    const moved = TARGET_KEYS_MOVED.filter((key) => key in (target as Record<string, unknown>));
    if (moved.length === 0) return;
    problems.push({
      code: ErrorCodes.CONFIG_VERSION,
      keyPath: `targets[${i}]`,
      message: `${moved.join(', ')} ${moved.length === 1 ? 'is an option' : 'are options'} of the git sink now`,
      fix: `move ${moved.join(', ')} under targets[${i}].with, e.g. - { name: live, with: { provider: origin, branch: main, path: clusters/dev } }`,
    });
  });
  const sources = Array.isArray(raw['sources']) ? (raw['sources'] as unknown[]) : [];
  if (raw['sources'] === undefined) {
    problems.push({
      code: ErrorCodes.CONFIG_VERSION,
      keyPath: 'sources',
      message: 'sources is required now (0.1 added the informer by default)',
      fix: 'add sources: [ { use: "@gitops-reverser/source-informer", cluster: <id> } ]',
    });
  }
  sources.forEach((source, i) => {
    if (source !== null && typeof source === 'object' && !('cluster' in source)) {
      problems.push({ code: ErrorCodes.CONFIG_VERSION, keyPath: `sources[${i}]`, message: 'each source names its cluster now', fix: `add cluster: <id> to sources[${i}]` });
    }
  });
  return problems;
}

function looksOld(raw: Record<string, unknown>): boolean {
  return 'providers' in raw || 'cluster' in raw;
}
