import { existsSync, writeFileSync } from 'node:fs';
import { ControlPlane } from '@gitops-reverser/testkit';
import { parseConfig, Runtime, silentLogger } from '@gitops-reverser/kernel';
const N = Number(process.env.N ?? 10000);
const mb = (b) => Math.round(b / 2 ** 20);
const show = (label) => { global.gc?.(); const m = process.memoryUsage(); console.log(label.padEnd(28), 'rss', mb(m.rss), 'heapUsed', mb(m.heapUsed), 'heapTotal', mb(m.heapTotal), 'external', mb(m.external), 'arrayBuffers', mb(m.arrayBuffers)); };
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
  show('before runtime');
  const repo = `/tmp/seedprof/repo-mem-${Date.now()}`;
  const config = parseConfig(`apiVersion: gitops-reverser/v1alpha2
server: { enabled: false }
sources: [ { use: "@gitops-reverser/source-informer", cluster: bench, with: { kubeconfig: /tmp/seedprof/kubeconfig } } ]
sink: { use: "@gitops-reverser/sink-git", with: { providers: [ { name: origin, url: ${repo} } ] } }
targets: [ { name: live, with: { provider: origin, branch: main, path: clusters/bench } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [bench], resources: [configmaps] } ]
`, '/tmp/seedprof/c.yaml');
  const runtime = await Runtime.create(config, { logger: silentLogger() });
  show('runtime created');
  await runtime.start();
  while (!existsSync(`${repo}/refs/heads/main`)) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 1000));
  show('after seed');
  if (process.env.HEAP) { const { writeHeapSnapshot } = await import('node:v8'); console.log(writeHeapSnapshot('/tmp/seedprof/heap.heapsnapshot')); }
  await runtime.stop('done');
  show('after stop');
} finally {
  await plane.stop();
}
