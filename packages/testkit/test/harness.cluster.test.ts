import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ControlPlane, controlPlaneBinaries, isAlive, listEntries, localClusterPaths, reapOrphans, recordEntry, until } from '../src/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

describe('control plane harness lifecycle', () => {
  it('stops exactly the processes it started, by pid, and removes its data folder', async () => {
    const plane = await ControlPlane.start();
    const entry = listEntries().find((e) => e.id === plane.id);
    expect(entry?.pids).toHaveLength(2);
    const pids = entry?.pids.map((p) => p.pid) ?? [];
    expect(pids.every(isAlive)).toBe(true);
    expect(readFileSync(`/proc/${pids[1]}/cmdline`, 'utf8')).toContain('--token-auth-file=');
    expect(existsSync(plane.dataDir)).toBe(true);
    await plane.stop();
    expect(pids.some(isAlive)).toBe(false);
    expect(existsSync(plane.dataDir)).toBe(false);
    expect(listEntries().some((e) => e.id === plane.id)).toBe(false);
  });

  it('reaps processes and folders left by a run whose owner died', async () => {
    const deadOwner = spawn('true');
    await new Promise((r) => deadOwner.on('exit', r));
    const orphan = spawn('sleep', ['300'], { stdio: 'ignore' });
    const dataDir = mkdtempSync(join(tmpdir(), 'gr-orphan-'));
    recordEntry({ id: `orphan-${orphan.pid}`, ownerPid: deadOwner.pid as number, pids: [{ pid: orphan.pid as number, executable: 'sleep' }], dataDir });
    const exited = new Promise((r) => orphan.on('exit', r));
    expect(reapOrphans()).toBeGreaterThanOrEqual(1);
    await exited;
    expect(existsSync(dataDir)).toBe(false);
    expect(listEntries().some((e) => e.id === `orphan-${orphan.pid}`)).toBe(false);
  });

  it('npm run cluster:up serves kubectl until cluster:down stops it', async () => {
    const cli = join(repoRoot, 'packages/testkit/dist/cluster-cli.js');
    // A private state folder: a developer's own cluster:up must not interfere, nor be stopped.
    process.env['GITOPS_REVERSER_CLUSTER_STATE'] = mkdtempSync(join(tmpdir(), 'gr-cluster-state-'));
    const up = spawn(process.execPath, [cli, 'up'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    up.stdout.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((r) => up.on('exit', (code) => r(code)));
    await until(() => out.includes('Ctrl-C stops it.'), 'the control plane');
    const { kubeconfig } = localClusterPaths();
    expect(out).toContain(`kubeconfig: ${kubeconfig}`);
    const namespaces = execFileSync(controlPlaneBinaries().kubectl, ['--kubeconfig', kubeconfig, 'get', 'ns', '-o', 'name'], { encoding: 'utf8' });
    expect(namespaces).toContain('namespace/kube-system');
    execFileSync(process.execPath, [cli, 'down'], { encoding: 'utf8' });
    expect(await exited).toBe(0);
    expect(existsSync(localClusterPaths().stateFile)).toBe(false);
    delete process.env['GITOPS_REVERSER_CLUSTER_STATE'];
  });
});
