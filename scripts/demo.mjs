// `npm run demo`: the main job on its embedded default, end to end.
//   1. starts a local control plane (kube-apiserver + etcd built from Go modules; first run builds them),
//   2. runs `gitops-reverser run --config examples/quickstart.yaml` (memory bus, local git repo),
//   3. applies sample objects (examples/demo) as alice, then a hotfix and a delete as bob: the audit
//      webhook names them, so the commits carry their names,
//   4. prints `git log --stat` of the resulting repository,
//   5. keeps running until Ctrl-C (or exits at once with --once), stopping everything it started.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { ControlPlane, ControlPlaneAccess, controlPlaneBinaries, createPki, issueCertificate } from '../packages/testkit/dist/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const once = process.argv.includes('--once');
const demoDir = resolve(process.env.GITOPS_REVERSER_DEMO_DIR ?? join(root, '.demo'));
const repo = join(demoDir, 'state-repo');
const kubeconfig = join(demoDir, 'kubeconfig');
const say = (text) => process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);

rmSync(repo, { recursive: true, force: true });
mkdirSync(demoDir, { recursive: true });

say('starting the local control plane (the first run builds kube-apiserver, etcd and kubectl: a few minutes)');
// The API server posts its audit events to gitops-reverser's audit source (examples/quickstart.yaml).
const pki = createPki(join(demoDir, 'pki'));
issueCertificate(pki, 'audit-listener', { commonName: 'audit-listener', sans: ['IP:127.0.0.1', 'DNS:localhost'] });
const auditPort = process.env.GITOPS_REVERSER_AUDIT_PORT ?? '9443';
const auditToken = randomBytes(24).toString('hex');
const plane = await ControlPlane.start({ pki, audit: { url: `https://127.0.0.1:${auditPort}/audit-webhook/demo`, caFile: pki.caCert, token: auditToken, batchMaxWaitMs: 200 } });
copyFileSync(plane.kubeconfig, kubeconfig);
const { kubectl } = controlPlaneBinaries();
const access = new ControlPlaneAccess(plane.info);
const kubeconfigOf = (user) => {
  const file = join(demoDir, `kubeconfig-${user}`);
  writeFileSync(file, access.kubeconfigText(user));
  return file;
};
const asAlice = kubeconfigOf('alice');
const asBob = kubeconfigOf('bob');
const k = (...args) => execFileSync(kubectl, ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8' });
const kAs = (file, ...args) => execFileSync(kubectl, ['--kubeconfig', file, ...args], { encoding: 'utf8' });
console.log(`API server ${plane.server}; kubeconfig ${kubeconfig}`);

say('starting gitops-reverser with examples/quickstart.yaml');
const logFile = join(demoDir, 'gitops-reverser.log');
const child = spawn(process.execPath, [join(root, 'packages/kernel/dist/cli/main.js'), 'run', '--config', join(root, 'examples/quickstart.yaml')], {
  cwd: root,
  env: { ...process.env, GITOPS_REVERSER_DEMO_DIR: demoDir, GITOPS_REVERSER_AUDIT_PORT: auditPort, GITOPS_REVERSER_AUDIT_TOKEN: auditToken },
  stdio: ['ignore', 'pipe', 'inherit'],
  // Its own process group: Ctrl-C reaches only this script, which then stops it with one SIGTERM
  // (a second signal would make gitops-reverser skip its orderly shutdown).
  detached: true,
});
process.on('exit', () => {
  if (child.exitCode === null) child.kill('SIGKILL');
});
const { createWriteStream } = await import('node:fs');
const log = createWriteStream(logFile);
let output = '';
child.stdout.on('data', (chunk) => {
  log.write(chunk);
  output += chunk;
});
const exited = new Promise((r) => child.on('exit', (code) => r(code)));

let stopping = false;
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  say('stopping gitops-reverser and the control plane');
  if (child.exitCode === null) child.kill('SIGTERM');
  const childCode = await exited;
  await plane.stop();
  console.log(`gitops-reverser exited with ${childCode}; the repository stays at ${repo}`);
  process.exit(code ?? (childCode === 0 ? 0 : 1));
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

async function waitFor(check, what, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (child.exitCode !== null) {
      console.error(`gitops-reverser exited early (code ${child.exitCode}); its log: ${logFile}`);
      await stopAll(1);
    }
    if (Date.now() > deadline) {
      console.error(`timed out waiting for ${what}; gitops-reverser log: ${logFile}`);
      await stopAll(1);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
const gitLog = () => {
  try {
    return execFileSync('git', ['-C', repo, 'log', '--format=%s', 'main'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
};

await waitFor(() => /"msg":"gitops-reverser started"/.test(output), 'gitops-reverser to start');
const port = /on port (\d+)/.exec(output)?.[1];
await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => ({ status: 0 }))).status === 200, '/readyz');
console.log(`ready: http://127.0.0.1:${port}/readyz  /metrics; log: ${logFile}`);

say('applying sample objects (examples/demo) as alice@example.com');
process.stdout.write(kAs(asAlice, 'apply', '-f', join(root, 'examples/demo/00-namespace.yaml'), '-f', join(root, 'examples/demo/10-app.yaml'), '-f', join(root, 'examples/demo/20-crd.yaml')));
k('wait', '--for=condition=established', '--timeout=60s', 'crd/widgets.demo.example.com');
process.stdout.write(kAs(asAlice, 'apply', '-f', join(root, 'examples/demo/30-widget.yaml')));
await waitFor(() => gitLog().includes('[CREATE] demo.example.com/v1/widgets/demo/gizmo'), 'the widget commit');

say('a hotfix with kubectl, then a delete, as bob');
process.stdout.write(kAs(asBob, '-n', 'demo', 'patch', 'configmap', 'app-settings', '--type=merge', '-p', '{"data":{"color":"green"}}'));
process.stdout.write(kAs(asBob, '-n', 'demo', 'delete', 'serviceaccount', 'shop'));
await waitFor(() => gitLog().includes('[UPDATE] v1/configmaps/demo/app-settings') && gitLog().includes('[DELETE] v1/serviceaccounts/demo/shop'), 'the update and delete commits');

say(`git log --stat (${repo})`);
process.stdout.write(execFileSync('git', ['-C', repo, 'log', '--stat', '--format=%h %s%n  author: %an <%ae>  %ad', '--date=iso', 'main'], { encoding: 'utf8' }));
say('clusters/demo/demo/configmaps/app-settings.yaml');
process.stdout.write(execFileSync('git', ['-C', repo, 'show', 'main:clusters/demo/demo/configmaps/app-settings.yaml'], { encoding: 'utf8' }));

if (once) await stopAll(0);
say('running: change things and watch the commits');
console.log(`  ${kubectl} --kubeconfig ${kubeconfig} -n demo create configmap hello --from-literal=a=b`);
console.log(`  git -C ${repo} log --stat`);
console.log('Ctrl-C stops everything.');
