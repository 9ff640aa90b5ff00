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
  const dir = runBuildScript(BUILD_SCRIPT, 'the test control plane');
  return { dir, kubeApiserver: join(dir, 'kube-apiserver'), etcd: join(dir, 'etcd'), kubectl: join(dir, 'kubectl') };
}

export const TOOLS_BUILD_SCRIPT = join(repoRoot, 'test/tools/build.sh');

export interface ToolBinaries {
  /** The real `sops` CLI (getsops/sops), to check that what we write decrypts. */
  readonly sops: string;
  readonly age: string;
  readonly ageKeygen: string;
  readonly natsServer: string;
  readonly dir: string;
}

/** Paths of sops, age, age-keygen and nats-server, built from their Go modules into the cache the first time. */
export function toolBinaries(): ToolBinaries {
  const dir = runBuildScript(TOOLS_BUILD_SCRIPT, 'sops and age');
  return { dir, sops: join(dir, 'sops'), age: join(dir, 'age'), ageKeygen: join(dir, 'age-keygen'), natsServer: join(dir, 'nats-server') };
}

export const HELM_BUILD_SCRIPT = join(repoRoot, 'test/tools/build-helm.sh');

/** Path of `helm`, built from its Go module into the cache the first time. */
export function helmBinary(): string {
  return join(runBuildScript(HELM_BUILD_SCRIPT, 'helm'), 'helm');
}

/** Runs one of the cached build scripts (progress on stderr) and returns the folder it prints last. */
function runBuildScript(script: string, what: string): string {
  const result = spawnSync(script, [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(`building ${what} failed (exit ${result.status}): run ${script} to see why; it needs Go 1.26+ and the Go module proxy`);
  }
  return result.stdout.trim().split('\n').pop() as string;
}
