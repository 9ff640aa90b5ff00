import { join } from 'node:path';
import { cacheRoot } from './process-registry.js';

/**
 * Where `cluster:up` records its state and writes its kubeconfig (a stable path across restarts).
 * GITOPS_REVERSER_CLUSTER_STATE moves it (tests use that to stay away from a developer's cluster).
 */
export function localClusterPaths(): { stateDir: string; stateFile: string; kubeconfig: string } {
  const stateDir = process.env['GITOPS_REVERSER_CLUSTER_STATE'] ?? join(cacheRoot(), 'cluster');
  return { stateDir, stateFile: join(stateDir, 'current.json'), kubeconfig: join(stateDir, 'kubeconfig') };
}
