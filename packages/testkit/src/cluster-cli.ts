#!/usr/bin/env node
// `npm run cluster:up` / `npm run cluster:down`: a local control plane for developers and the demo.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { controlPlaneBinaries } from './binaries.js';
import { ControlPlane } from './control-plane.js';
import { localClusterPaths } from './local-cluster.js';
import { isAlive, listEntries, reap } from './process-registry.js';

const { stateDir, stateFile, kubeconfig: LOCAL_KUBECONFIG } = localClusterPaths();

async function up(): Promise<void> {
  if (existsSync(stateFile)) {
    const previous = JSON.parse(readFileSync(stateFile, 'utf8')) as { id: string; ownerPid: number };
    const entry = listEntries().find((e) => e.id === previous.id);
    if (entry && isAlive(entry.ownerPid)) {
      process.stderr.write(`a local control plane is already running (pid ${entry.ownerPid}); kubeconfig: ${LOCAL_KUBECONFIG}\nstop it with: npm run cluster:down\n`);
      process.exit(1);
    }
  }
  process.stderr.write('starting etcd and kube-apiserver (the first run builds them from Go modules: a few minutes)...\n');
  const plane = await ControlPlane.start();
  mkdirSync(stateDir, { recursive: true });
  copyFileSync(plane.kubeconfig, LOCAL_KUBECONFIG);
  writeFileSync(stateFile, JSON.stringify({ id: plane.id, ownerPid: process.pid, server: plane.server, kubeconfig: LOCAL_KUBECONFIG }, null, 2));
  const { kubectl } = controlPlaneBinaries();
  process.stdout.write(
    `control plane ready at ${plane.server}\nkubeconfig: ${LOCAL_KUBECONFIG}\n  kubectl --kubeconfig ${LOCAL_KUBECONFIG} get ns\n(a kubectl of the same release: ${kubectl})\nCtrl-C stops it.\n`,
  );
  const stop = async () => {
    await plane.stop();
    rmSync(stateFile, { force: true });
    process.stdout.write('control plane stopped\n');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  setInterval(() => undefined, 1 << 30);
}

function down(): void {
  if (!existsSync(stateFile)) {
    process.stdout.write('no local control plane is recorded as running\n');
    return;
  }
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { id: string; ownerPid: number };
  const entry = listEntries().find((e) => e.id === state.id);
  if (isAlive(state.ownerPid)) {
    // Ask the owner to stop cleanly; it removes its folder and record.
    process.kill(state.ownerPid, 'SIGTERM');
    process.stdout.write(`asked the control plane (pid ${state.ownerPid}) to stop\n`);
  } else if (entry) {
    reap(entry);
    process.stdout.write('stopped the processes of a control plane whose owner was gone\n');
  }
  rmSync(stateFile, { force: true });
}

const command = process.argv[2];
if (command === 'up') await up();
else if (command === 'down') down();
else {
  process.stderr.write('usage: gitops-reverser-cluster up|down\n');
  process.exit(2);
}
