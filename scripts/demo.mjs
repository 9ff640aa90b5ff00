// `npm run demo`: the main job on its embedded default, end to end.
//   1. starts a local control plane (kube-apiserver + etcd built from Go modules; first run builds them),
//   2. runs `gitops-reverser run --config examples/quickstart.yaml` (memory bus, local git repo),
//   3. registers the validating admission webhook `gitops-reverser admission-webhook` prints,
//   4. applies sample objects (examples/demo) as alice, then a hotfix and a delete as bob: both
//      webhooks see them and the audit one, which names the exact write, wins (Attribution: audit),
//   5. in namespace no-audit, which the API server's audit policy leaves out (as a managed cluster
//      leaves out everything), alice creates a deployment and bob scales it: the admission webhook
//      names them (Attribution: admission),
//   6. prints `git log --stat` of the resulting repository, with each commit's Attribution,
//   7. keeps running until Ctrl-C (or exits at once with --once), stopping everything it started.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { ControlPlane, ControlPlaneAccess, controlPlaneBinaries, createPki, DEFAULT_AUDIT_POLICY, issueCertificate } from '../packages/testkit/dist/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const once = process.argv.includes('--once');
const demoDir = resolve(process.env.GITOPS_REVERSER_DEMO_DIR ?? join(root, '.demo'));
const repo = join(demoDir, 'state-repo');
const kubeconfig = join(demoDir, 'kubeconfig');
const say = (text) => process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);

rmSync(repo, { recursive: true, force: true });
mkdirSync(demoDir, { recursive: true });

say('starting the local control plane (the first run builds kube-apiserver, etcd and kubectl: a few minutes)');
// The API server posts its audit events to gitops-reverser's audit source and calls its admission
// webhook (both in examples/quickstart.yaml), each with a token of its own. Its audit policy leaves
// out namespace no-audit, as a managed cluster (EKS, GKE, AKS) leaves out everything.
const pki = createPki(join(demoDir, 'pki'));
issueCertificate(pki, 'audit-listener', { commonName: 'audit-listener', sans: ['IP:127.0.0.1', 'DNS:localhost'] });
issueCertificate(pki, 'admission-listener', { commonName: 'admission-listener', sans: ['IP:127.0.0.1', 'DNS:localhost'] });
const auditPort = process.env.GITOPS_REVERSER_AUDIT_PORT ?? '9443';
const admissionPort = process.env.GITOPS_REVERSER_ADMISSION_PORT ?? '9444';
const auditToken = randomBytes(24).toString('hex');
const admissionToken = randomBytes(24).toString('hex');
const auditPolicy = DEFAULT_AUDIT_POLICY.replace('rules:\n', 'rules:\n  - level: None\n    namespaces: [no-audit]\n');
const plane = await ControlPlane.start({
  pki,
  audit: { url: `https://127.0.0.1:${auditPort}/audit-webhook/demo`, caFile: pki.caCert, token: auditToken, batchMaxWaitMs: 200, policy: auditPolicy },
  admissionWebhookClient: { host: '*', token: admissionToken },
});
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
const demoEnv = {
  ...process.env,
  GITOPS_REVERSER_DEMO_DIR: demoDir,
  GITOPS_REVERSER_AUDIT_PORT: auditPort,
  GITOPS_REVERSER_AUDIT_TOKEN: auditToken,
  GITOPS_REVERSER_ADMISSION_PORT: admissionPort,
  GITOPS_REVERSER_ADMISSION_TOKEN: admissionToken,
};
const logFile = join(demoDir, 'gitops-reverser.log');
const child = spawn(process.execPath, [join(root, 'packages/kernel/dist/cli/main.js'), 'run', '--config', join(root, 'examples/quickstart.yaml')], {
  cwd: root,
  env: demoEnv,
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

say('registering the admission webhook: gitops-reverser admission-webhook --config examples/quickstart.yaml | kubectl apply --server-side -f -');
const cli = join(root, 'packages/kernel/dist/cli/main.js');
const webhookConfiguration = execFileSync(
  process.execPath,
  [cli, 'admission-webhook', '--config', join(root, 'examples/quickstart.yaml'), '--url', `https://127.0.0.1:${admissionPort}`, '--ca-file', pki.caCert],
  { encoding: 'utf8', env: demoEnv },
);
writeFileSync(join(demoDir, 'admission-webhook.yaml'), webhookConfiguration);
process.stdout.write(execFileSync(kubectl, ['--kubeconfig', kubeconfig, 'apply', '--server-side', '-f', join(demoDir, 'admission-webhook.yaml')], { encoding: 'utf8' }));
console.log(`(the manifest: ${join(demoDir, 'admission-webhook.yaml')}; failurePolicy Ignore, 2 s: the webhook never fails a write)`);

say('applying sample objects (examples/demo) as alice@example.com');
process.stdout.write(kAs(asAlice, 'apply', '-f', join(root, 'examples/demo/00-namespace.yaml'), '-f', join(root, 'examples/demo/10-app.yaml'), '-f', join(root, 'examples/demo/20-crd.yaml')));
k('wait', '--for=condition=established', '--timeout=60s', 'crd/widgets.demo.example.com');
process.stdout.write(kAs(asAlice, 'apply', '-f', join(root, 'examples/demo/30-widget.yaml')));
await waitFor(() => gitLog().includes('[CREATE] demo.example.com/v1/widgets/demo/gizmo'), 'the widget commit');

say('a hotfix with kubectl, then a delete, as bob');
process.stdout.write(kAs(asBob, '-n', 'demo', 'patch', 'configmap', 'app-settings', '--type=merge', '-p', '{"data":{"color":"green"}}'));
process.stdout.write(kAs(asBob, '-n', 'demo', 'delete', 'serviceaccount', 'shop'));
await waitFor(() => gitLog().includes('[UPDATE] v1/configmaps/demo/app-settings') && gitLog().includes('[DELETE] v1/serviceaccounts/demo/shop'), 'the update and delete commits');

say('namespace no-audit, which the audit policy leaves out: alice creates a deployment, bob scales it');
k('create', 'namespace', 'no-audit');
process.stdout.write(kAs(asAlice, '-n', 'no-audit', 'create', 'deployment', 'web', '--image=registry.example/web:1'));
await waitFor(() => gitLog().includes('[CREATE] apps/v1/deployments/no-audit/web'), 'the deployment commit');
process.stdout.write(kAs(asBob, '-n', 'no-audit', 'scale', 'deployment', 'web', '--replicas=3'));
await waitFor(() => gitLog().includes('[UPDATE] apps/v1/deployments/no-audit/web'), 'the scale commit');

say(`git log --stat (${repo})`);
process.stdout.write(
  execFileSync('git', ['-C', repo, 'log', '--stat', '--format=%h %s%n  author: %an <%ae>  %ad  Attribution: %(trailers:key=Attribution,valueonly,separator=)', '--date=iso', 'main'], {
    encoding: 'utf8',
  }),
);
say('who named each author');
console.log('  Attribution: audit      the samples, the hotfix and the delete: both webhooks saw them; the audit event names the exact');
console.log('                          resourceVersion a write made, so it wins over the admission review (one attribution per change).');
console.log('  Attribution: admission  the writes in namespace no-audit: no audit event (the policy leaves it out, as a managed');
console.log('                          cluster leaves out everything); the admission webhook named alice and bob, the scale included.');
say('clusters/demo/demo/configmaps/app-settings.yaml');
process.stdout.write(execFileSync('git', ['-C', repo, 'show', 'main:clusters/demo/demo/configmaps/app-settings.yaml'], { encoding: 'utf8' }));

if (once) await stopAll(0);
say('running: change things and watch the commits');
console.log(`  ${kubectl} --kubeconfig ${kubeconfig} -n demo create configmap hello --from-literal=a=b`);
console.log(`  git -C ${repo} log --stat`);
console.log('Ctrl-C stops everything.');
