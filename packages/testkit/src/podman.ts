import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from './process-registry.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

/**
 * Runs podman the way test/image/podman.sh does for the image builds: its own storage in the
 * cache and the settings of test/image/containers.conf (runc, rlimits within the hard limits,
 * cgroupfs), so tests run what the build scripts built. Asynchronous, so servers in the test's
 * own process (a git server) keep answering the container.
 */
export async function podman(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const root = join(cacheRoot(), 'podman');
  const child = spawn('podman', ['--root', join(root, 'storage'), '--runroot', join(root, 'run'), '--tmpdir', join(root, 'tmp'), '--storage-driver', 'overlay', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CONTAINERS_CONF: join(repoRoot, 'test/image/containers.conf'), TMPDIR: join(root, 'tmp') },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => resolve(exitCode));
  });
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** What this machine lacks to build and run the image (empty when it can). */
export function missingImagePrerequisites(): string[] {
  const missing: string[] = [];
  for (const command of ['podman', 'runc', 'mmdebstrap']) if (spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0) missing.push(command);
  if (process.getuid?.() !== 0) missing.push('root (the image scripts use rootful podman)');
  return missing;
}
