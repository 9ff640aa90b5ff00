import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Records which processes a harness started (pid + executable) and which folder it owns, so they
 * can be stopped by pid later, even by another process (`cluster:down`) or after a crash of the
 * test runner (the next start reaps entries whose owner is gone).
 */
export interface RegistryEntry {
  readonly id: string;
  readonly ownerPid: number;
  readonly pids: readonly { pid: number; executable: string }[];
  readonly dataDir: string;
  readonly kubeconfig?: string;
}

export function cacheRoot(): string {
  return process.env['GITOPS_REVERSER_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'gitops-reverser');
}

function registryDir(): string {
  const dir = join(cacheRoot(), 'run');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function recordEntry(entry: RegistryEntry): void {
  writeFileSync(join(registryDir(), `${entry.id}.json`), JSON.stringify(entry, null, 2));
}

export function removeEntry(id: string): void {
  rmSync(join(registryDir(), `${id}.json`), { force: true });
}

export function listEntries(): RegistryEntry[] {
  return readdirSync(registryDir())
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(join(registryDir(), f), 'utf8')) as RegistryEntry];
      } catch {
        return [];
      }
    });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when `pid` is alive and still runs `executable` (a pid may have been reused). */
export function runs(pid: number, executable: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === executable;
  } catch {
    return true; // no /proc: trust the pid
  }
}

/** Kills the processes of an entry (SIGKILL) and removes its folder and record. */
export function reap(entry: RegistryEntry): void {
  for (const { pid, executable } of entry.pids) {
    if (runs(pid, executable)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  if (existsSync(entry.dataDir)) rmSync(entry.dataDir, { recursive: true, force: true });
  removeEntry(entry.id);
}

/** Reaps entries whose owner process is gone (a crashed or killed test run). */
export function reapOrphans(): number {
  const orphans = listEntries().filter((entry) => !isAlive(entry.ownerPid));
  orphans.forEach(reap);
  return orphans.length;
}
