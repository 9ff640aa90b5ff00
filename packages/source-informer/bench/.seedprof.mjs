import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { ControlPlane } from '@gitops-reverser/testkit';
const N = Number(process.env.N ?? 10000);
const plane = await ControlPlane.start();
try {
  await plane.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } } });
  const pending = [];
  for (let i = 0; i < N; i++) {
    pending.push(plane.request('POST', '/api/v1/namespaces/bench/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, labels: { app: `a${i % 50}` } }, data: { index: String(i), payload: 'x'.repeat(200) } } }));
    if (pending.length >= 48) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  writeFileSync('/tmp/seedprof/kubeconfig', plane.kubeconfigText('admin'));
  writeFileSync('/tmp/seedprof/config.yaml', `apiVersion: gitops-reverser/v1alpha2
server: { enabled: false }
sources: [ { use: "@gitops-reverser/source-informer", cluster: bench, with: { kubeconfig: /tmp/seedprof/kubeconfig } } ]
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: origin, url: /tmp/seedprof/repo-${Date.now()} } ] } }
targets: [ { name: live, with: { provider: origin, branch: main, path: clusters/bench } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [bench], resources: [configmaps] } ]
`);
  const t = performance.now();
  execFileSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir=/tmp/seedprof/prof', 'packages/kernel/bin/gitops-reverser.js', 'snapshot', '--config', '/tmp/seedprof/config.yaml'], { stdio: 'inherit' });
  console.log('snapshot ms', Math.round(performance.now() - t));
} finally {
  await plane.stop();
}
