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

export interface NodeBinaries {
  readonly kubelet: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kubeProxy: string;
  /** The static pod sandbox process the pause image holds. */
  readonly pause: string;
  readonly dir: string;
}

/**
 * Paths of the test node's kubelet, kube-controller-manager, kube-scheduler and kube-proxy, built
 * from the same Kubernetes module as the API server (`build.sh --node`) the first time.
 */
export function nodeBinaries(): NodeBinaries {
  const dir = runBuildScript(BUILD_SCRIPT, 'the test node (kubelet, kube-controller-manager, kube-scheduler, kube-proxy)', ['--node']);
  return {
    dir,
    kubelet: join(dir, 'kubelet'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
    kubeScheduler: join(dir, 'kube-scheduler'),
    kubeProxy: join(dir, 'kube-proxy'),
    pause: join(dir, 'pause'),
  };
}

export const IMAGE_BUILD_SCRIPT = join(repoRoot, 'test/image/build-image.sh');
export const PAUSE_BUILD_SCRIPT = join(repoRoot, 'test/image/build-pause.sh');

/** A container image built here: its name and a docker-archive of it (`podman load`, `ctr images import`). */
export interface BuiltImage {
  readonly name: string;
  readonly archive: string;
}

/**
 * The gitops-reverser image from deploy/docker/Dockerfile on the offline base (test/image), built
 * the first time for these sources (minutes) and reused while they do not change.
 */
export function gitopsReverserImage(): BuiltImage {
  return builtImage(IMAGE_BUILD_SCRIPT, 'the gitops-reverser image (podman, mmdebstrap)');
}

/** The test node's pod sandbox image (FROM scratch + the static pause binary). */
export function pauseImage(): BuiltImage {
  return builtImage(PAUSE_BUILD_SCRIPT, 'the pause image (podman)');
}

function builtImage(script: string, what: string): BuiltImage {
  const lines = runBuildScriptLines(script, what);
  const [name, archive] = lines.slice(-2) as [string, string];
  return { name, archive };
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
function runBuildScript(script: string, what: string, args: readonly string[] = []): string {
  return runBuildScriptLines(script, what, args).pop() as string;
}

function runBuildScriptLines(script: string, what: string, args: readonly string[] = []): string[] {
  const result = spawnSync(script, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(`building ${what} failed (exit ${result.status}): run ${[script, ...args].join(' ')} to see why; it needs Go 1.26+ and the Go module proxy`);
  }
  return result.stdout.trim().split('\n');
}
