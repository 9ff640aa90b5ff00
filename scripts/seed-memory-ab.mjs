// A/B of `gitops-reverser run`'s memory while it seeds N ConfigMaps: one control plane, the ConfigMaps
// created once, then `run` from each given checkout in turn (ROUNDS times, alternating), each reading
// its peak (VmHWM), its RSS 2 s after the seed commit and, with SETTLE > 0, after SETTLE s idle.
// The checkouts are built worktrees (e.g. main in a second worktree against a branch): the same-hour
// A/B that ADR 0045 reads, without the informer bench's other scenarios. A measurement: wrap it in
// `flock /tmp/gr-heavy.lock`. Never a test, never a pass or fail.
// flock /tmp/gr-heavy.lock node scripts/seed-memory-ab.mjs <checkout-A> <checkout-B> ...   (OBJECTS, ROUNDS, SETTLE env)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane } from '@gitops-reverser/testkit';
import { apiClient, createConfigMaps, imageNodeOptions, memoryOf } from '../packages/source-informer/bench/live-fixture.mjs';

const OBJECTS = Number(process.env.OBJECTS ?? 10000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SETTLE = Number(process.env.SETTLE ?? 0);
const checkouts = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// KUBECONFIG_FILE: a cluster that already holds the ConfigMaps (namespace bench); else one is started here.
const plane = process.env.KUBECONFIG_FILE ? undefined : await ControlPlane.start();
const dir = mkdtempSync(join(tmpdir(), 'gr-seedmem-'));
try {
  const kubeconfig = process.env.KUBECONFIG_FILE ?? join(dir, 'kubeconfig');
  if (plane) {
    await createConfigMaps(apiClient(plane), 'bench', OBJECTS);
    writeFileSync(kubeconfig, plane.kubeconfigText('admin'));
  }
  const results = Object.fromEntries(checkouts.map((c) => [c, []]));
  let n = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const checkout of round % 2 ? [...checkouts].reverse() : checkouts) {
      const repo = join(dir, `repo-${n}`);
      const config = join(dir, `run-${n++}.yaml`);
      writeFileSync(
        config,
        `apiVersion: gitops-reverser/v1alpha2
server: { enabled: false }
sources: [ { use: "@gitops-reverser/source-informer", cluster: bench, with: { kubeconfig: ${kubeconfig} } } ]
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: origin, url: ${repo} } ] } }
targets: [ { name: live, with: { provider: origin, branch: main, path: clusters/bench } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [bench], resources: [configmaps] } ]
`,
      );
      const start = performance.now();
      const child = spawn(process.execPath, [join(checkout, 'packages/kernel/bin/gitops-reverser.js'), 'run', '--config', config], {
        stdio: 'ignore',
        env: { ...process.env, NODE_OPTIONS: imageNodeOptions() },
      });
      while (!existsSync(join(repo, 'refs/heads/main'))) await sleep(5);
      const seedMs = Math.round(performance.now() - start);
      await sleep(2000);
      const after = memoryOf(child.pid);
      let settled;
      if (SETTLE > 0) {
        await sleep(SETTLE * 1000 - 2000);
        settled = memoryOf(child.pid).rssMb;
      }
      const peak = memoryOf(child.pid).peakRssMb;
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
      const tree = execFileSync('git', ['-C', repo, 'rev-parse', 'main^{tree}'], { encoding: 'utf8' }).trim();
      const row = { seedMs, peak, afterSeed: after.rssMb, settled, tree };
      results[checkout].push(row);
      console.log(checkout, JSON.stringify(row));
      rmSync(repo, { recursive: true, force: true });
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const [checkout, rows] of Object.entries(results)) {
    console.log(
      `${checkout}: peak median ${median(rows.map((r) => r.peak))} [${rows.map((r) => r.peak).join(', ')}], after seed ${median(rows.map((r) => r.afterSeed))}, settled ${SETTLE ? median(rows.map((r) => r.settled)) : '-'} [${rows.map((r) => r.settled).join(', ')}], seed ms ${median(rows.map((r) => r.seedMs))}`,
    );
  }
} finally {
  await plane?.stop();
  rmSync(dir, { recursive: true, force: true });
}
