// What the informer benchmarks share: ConfigMaps in a real API server, an in-process runtime that
// commits them to a local repository, and a plain watch as the latency floor.
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { parseConfig } from '@gitops-reverser/kernel';
import { TEST_USERS } from '@gitops-reverser/testkit';

/** API calls as the admin user; a status of 300 or more throws with the body. */
export function apiClient(plane) {
  return async (method, path, body) => {
    const response = await plane.request(method, path, { body, ...(method === 'PATCH' ? { headers: { 'content-type': 'application/merge-patch+json' } } : {}) });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.body}`);
    return response;
  };
}

/** The namespace and `count` ConfigMaps `cm-0`... in it, 48 requests at a time. */
export async function createConfigMaps(api, namespace, count) {
  await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const pending = [];
  for (let i = 0; i < count; i++) {
    pending.push(
      api('POST', `/api/v1/namespaces/${namespace}/configmaps`, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `cm-${i}`, labels: { app: `a${i % 50}` } },
        data: { index: String(i), payload: 'x'.repeat(200) },
      }),
    );
    if (pending.length >= 48) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}

/**
 * An in-process config: the namespace's ConfigMaps, memory bus, one commit per change into `repo`
 * (`layout`: the target's file layout, the sink's default when omitted).
 */
export function inProcessConfig(plane, dir, repo, namespace, layout) {
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, plane.kubeconfigText('admin'));
  return parseConfig(
    `apiVersion: gitops-reverser/v1alpha2
server: { enabled: false }
sources: [ { use: "@gitops-reverser/source-informer", cluster: bench, with: { kubeconfig: ${kubeconfig} } } ]
bus: { use: "@gitops-reverser/bus-memory" }
sink: { use: "@gitops-reverser/sink-git", with: { commitWindow: 0, providers: [ { name: origin, url: ${repo} } ] } }
targets: [ { name: live, with: { provider: origin, branch: main, path: clusters/bench${layout ? `, layout: "${layout}"` : ''} } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [${namespace}], resources: [configmaps] } ]
`,
    join(dir, 'config.yaml'),
  );
}

/** Reads the main branch of a bare repository ('' before its first commit). */
export function branchReader(repo) {
  const file = join(repo, 'refs/heads/main');
  return () => {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      return '';
    }
  };
}

/**
 * A plain watch on the namespace's ConfigMaps, opened by this process: `onMarker(marker, at)` for every
 * event whose object carries `data.marker`, `at` when its bytes arrived. Returns a function that closes it.
 */
export async function openPlainWatch(plane, api, namespace, onMarker) {
  const listRv = JSON.parse((await api('GET', `/api/v1/namespaces/${namespace}/configmaps?limit=1`)).body).metadata.resourceVersion;
  const abort = new AbortController();
  const req = request(
    `${plane.server}/api/v1/namespaces/${namespace}/configmaps?watch=1&resourceVersion=${listRv}`,
    { ca: readFileSync(plane.info.caCert), headers: { authorization: `Bearer ${TEST_USERS.admin.token}` }, signal: abort.signal },
    (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        const at = performance.now();
        buffer += chunk;
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const event = JSON.parse(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
          const marker = event.object?.data?.marker;
          if (marker) onMarker(marker, at);
        }
      });
    },
  );
  req.on('error', () => undefined);
  req.end();
  // Let the watch connect before the first change is sent.
  await new Promise((r) => setTimeout(r, 500));
  return () => abort.abort();
}

/** Resident memory of a process from /proc, in MB: total, anonymous (heaps), file-backed (the node binary's pages) and its peak. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (field) => Math.round(Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) / 102.4) / 10;
  return { rssMb: mb('VmRSS'), anonMb: mb('RssAnon'), fileMb: mb('RssFile'), peakRssMb: mb('VmHWM') };
}

/**
 * The NODE_OPTIONS the container image sets (deploy/docker/Dockerfile, `ENV NODE_OPTIONS=...`), '' when
 * none: the benches start `gitops-reverser run` with them, so the memory measured is the image's.
 */
export function imageNodeOptions() {
  const dockerfile = readFileSync(new URL('../../../deploy/docker/Dockerfile', import.meta.url), 'utf8');
  return /NODE_OPTIONS="([^"]*)"/.exec(dockerfile)?.[1] ?? '';
}

/** A line plot (scripts/bench-report.mjs) of memory samples `{ at (s), rssMb, anonMb, fileMb }`. */
export function memoryPlot(name, title, samples, { marks = [], limits = [] } = {}) {
  const series = (field) => samples.map((sample) => [+sample.at.toFixed(1), sample[field]]);
  return {
    kind: 'line',
    name,
    title,
    unit: 'MB',
    xUnit: 'seconds since process start',
    series: { RSS: series('rssMb'), 'anonymous (heaps)': series('anonMb'), 'file-backed (node binary)': series('fileMb') },
    marks,
    limits,
  };
}
