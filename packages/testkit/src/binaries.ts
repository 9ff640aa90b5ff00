import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const BUILD_SCRIPT = join(repoRoot, 'test/controlplane/build.sh');

export interface ControlPlaneBinaries {
  readonly kubeApiserver: string;
  readonly etcd: string;
  /** kubectl of the same release, built alongside. */
  readonly kubectl: string;
  readonly dir: string;
}

/**
 * Paths of kube-apiserver, etcd and kubectl, building them from their Go modules into the user's cache the
 * first time (several minutes, progress on stderr) and reusing them after (instant).
 */
export function controlPlaneBinaries(): ControlPlaneBinaries {
  const result = spawnSync(BUILD_SCRIPT, [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(`building the test control plane failed (exit ${result.status}): run ${BUILD_SCRIPT} to see why; it needs Go 1.26+ and the Go module proxy`);
  }
  const dir = result.stdout.trim().split('\n').pop() as string;
  return { dir, kubeApiserver: join(dir, 'kube-apiserver'), etcd: join(dir, 'etcd'), kubectl: join(dir, 'kubectl') };
}
