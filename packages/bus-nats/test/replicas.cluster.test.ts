import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlPlaneAccess, createTestNamespace, GitHttpServer, NatsServer, until } from '@gitops-reverser/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';

// Two gitops-reverser processes (the real CLI) share a real nats-server and push to one real git
// server; one of them is killed with SIGKILL in the middle of a burst.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const access = new ControlPlaneAccess(inject('testCluster'));
let nats: NatsServer;
let git: GitHttpServer;
const children: ChildProcess[] = [];

beforeAll(async () => {
  nats = new NatsServer();
  await nats.start();
  git = new GitHttpServer();
  await git.start();
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
afterAll(async () => {
  await nats.dispose();
  await git.dispose();
});

interface Replica {
  readonly child: ChildProcess;
  output: string;
}

/** A config for replicas writing namespace `ns` through NATS at `servers`, started with `start(id)`. */
function setup(name: string, ns: string, servers: readonly string[] = [nats.url], streamReplicas = 1) {
  const dir = mkdtempSync(join(tmpdir(), `gr-ha-${name}-`));
  git.createRepo(name);
  writeFileSync(join(dir, 'kubeconfig'), access.kubeconfigText('admin'));
  writeFileSync(join(dir, 'message-key'), randomBytes(48).toString('base64'));
  writeFileSync(
    join(dir, 'config.yaml'),
    `apiVersion: gitops-reverser/v1alpha2
server: { enabled: false }
shutdown: { timeoutSeconds: 5 }
sources: [ { use: "@gitops-reverser/source-informer", cluster: ha, with: { kubeconfig: ./kubeconfig } } ]
bus:
  use: "@gitops-reverser/bus-nats"
  with: { servers: [${servers.map((url) => `"${url}"`).join(', ')}], messageKeys: [ { id: k1, file: ./message-key } ], stream: ${name.toUpperCase().replace(/-/g, '_')}, subjectPrefix: ${name}, replicas: ${streamReplicas}, leaseSeconds: 2, discoveryMs: 200, ackWaitSeconds: 5 }
sink:
  use: "@gitops-reverser/sink-git"
  with: { commitWindow: 150ms, cacheDir: "\${REPLICA_CACHE}", providers: [ { name: origin, url: "${git.url(name)}" } ] }
targets: [ { name: live, with: { provider: origin, branch: main, path: ha } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [${ns}], resources: [configmaps] } ]
`,
  );
  const start = (id: string): Replica => {
    const child = spawn(process.execPath, [join(root, 'packages/kernel/bin/gitops-reverser.js'), 'run', '--config', join(dir, 'config.yaml')], {
      cwd: root,
      env: { ...process.env, REPLICA_CACHE: join(dir, `cache-${id}`), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const replica: Replica = { child, output: '' };
    child.stdout?.on('data', (chunk) => (replica.output += chunk));
    child.stderr?.on('data', (chunk) => (replica.output += chunk));
    return replica;
  };
  const remote = git.repoPath(name);
  const files = () => {
    try {
      return execFileSync('git', ['-C', remote, 'ls-tree', '-r', '--name-only', 'main', '--', `ha/${ns}/configmaps`], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .filter(Boolean);
    } catch {
      return [];
    }
  };
  return { dir, start, remote, files };
}

async function api(method: string, path: string, body?: unknown) {
  const response = await access.request(method, path, { ...(body === undefined ? {} : { body }), ...(method === 'PATCH' ? { headers: { 'content-type': 'application/merge-patch+json' } } : {}) });
  if (response.status >= 300 && response.status !== 404 && response.status !== 409) throw new Error(`${method} ${path}: ${response.status} ${response.body.slice(0, 200)}`);
  return response;
}

async function inBatches<T>(items: readonly T[], size: number, run: (item: T) => Promise<unknown>, between?: (done: number) => Promise<void>) {
  for (let i = 0; i < items.length; i += size) {
    await Promise.all(items.slice(i, i + size).map(run));
    await between?.(i + size);
  }
}

const started = (replica: Replica) => replica.output.includes('"msg":"gitops-reverser started"');
const writes = (replica: Replica) => replica.output.includes('this replica writes');

describe('bus-nats: two replicas, one writer, nothing lost', () => {
  it('1,000 changes in a burst, the writing replica killed with SIGKILL in the middle: the other takes over; every change once, fsck clean', async () => {
    const ns = await createTestNamespace(access, 'ha');
    const { start, remote, files } = setup('ha-burst', ns);
    const a = start('a');
    const b = start('b');
    await until(() => (started(a) && started(b)) || undefined, 'both replicas', 60_000);
    const names = Array.from({ length: 1000 }, (_, i) => `cm-${i}`);
    let killed: Replica | undefined;
    await inBatches(
      names,
      25,
      (name) => api('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { name } }),
      async (done) => {
        if (done === 500 && !killed) {
          await until(() => writes(a) || writes(b) || undefined, 'a writer', 30_000);
          killed = writes(a) ? a : b;
          killed.child.kill('SIGKILL');
        }
      },
    );
    const survivor = killed === a ? b : a;
    await until(() => files().length === 1000 || undefined, 'all 1,000 files in the remote', 180_000);
    expect(writes(survivor)).toBe(true);
    // Each object's file was made by exactly one commit: no change applied twice.
    const perFile = execFileSync('git', ['-C', remote, 'log', '--format=', '--name-only', 'main', '--', `ha/${ns}/configmaps`], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean);
    const counts = new Map<string, number>();
    for (const file of perFile) counts.set(file, (counts.get(file) ?? 0) + 1);
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    expect(counts.size).toBe(1000);
    execFileSync('git', ['-C', remote, 'fsck', '--strict']);
  });

  it('NATS restarted in the middle of a burst: publishers wait, nothing is lost', async () => {
    const ns = await createTestNamespace(access, 'ha-nats');
    const { start, files } = setup('ha-restart', ns);
    const a = start('a');
    const b = start('b');
    await until(() => (started(a) && started(b)) || undefined, 'both replicas', 60_000);
    const names = Array.from({ length: 300 }, (_, i) => `cm-${i}`);
    await inBatches(
      names,
      20,
      (name) => api('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { name } }),
      async (done) => {
        if (done === 140) {
          await nats.kill();
          await new Promise((r) => setTimeout(r, 1500));
          await nats.start();
        }
      },
    );
    await until(() => files().length === 300 || undefined, 'all 300 files in the remote', 180_000);
  });

  it('a randomized workload with a writer killed and restarted converges: the repository equals the live state', async () => {
    const ns = await createTestNamespace(access, 'ha-conv');
    const { start, remote, files } = setup('ha-converge', ns);
    const replicas = [start('a'), start('b')];
    await until(() => replicas.every(started) || undefined, 'both replicas', 60_000);
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const ops = Array.from({ length: 400 }, (_, i) => ({ i, name: `cm-${Math.floor(random() * 80)}`, kind: random() }));
    for (const [index, op] of ops.entries()) {
      if (op.kind < 0.55) {
        const created = await api('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: op.name }, data: { v: String(op.i) } });
        if (created.status === 409) await api('PATCH', `/api/v1/namespaces/${ns}/configmaps/${op.name}`, { data: { v: String(op.i) } });
      } else if (op.kind < 0.85) {
        await api('PATCH', `/api/v1/namespaces/${ns}/configmaps/${op.name}`, { data: { v: String(op.i) } });
      } else {
        await api('DELETE', `/api/v1/namespaces/${ns}/configmaps/${op.name}`);
      }
      if (index === 200) {
        const writer = replicas.find(writes) ?? replicas[0];
        writer?.child.kill('SIGKILL');
        replicas.push(start(`c${index}`));
      }
    }
    const live = JSON.parse((await api('GET', `/api/v1/namespaces/${ns}/configmaps`)).body) as { items: { metadata: { name: string }; data?: Record<string, string> }[] };
    const expected = live.items
      .filter((item) => item.metadata.name.startsWith('cm-'))
      .map((item) => `ha/${ns}/configmaps/${item.metadata.name}.yaml`)
      .sort();
    // Files and contents read at one commit: `main` moves while the writer catches up, and a file
    // listed at one head may be gone at the next.
    const same = () => {
      let head: string;
      try {
        head = execFileSync('git', ['-C', remote, 'rev-parse', '--verify', '--quiet', 'main'], { encoding: 'utf8' }).trim();
      } catch {
        return false;
      }
      const now = execFileSync('git', ['-C', remote, 'ls-tree', '-r', '--name-only', head, '--', `ha/${ns}/configmaps`], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .filter((f) => f.includes('/cm-'))
        .sort();
      if (JSON.stringify(now) !== JSON.stringify(expected)) return false;
      return live.items
        .filter((item) => item.metadata.name.startsWith('cm-'))
        .every((item) => execFileSync('git', ['-C', remote, 'show', `${head}:ha/${ns}/configmaps/${item.metadata.name}.yaml`], { encoding: 'utf8' }).includes(`v: "${item.data?.['v']}"`));
    };
    try {
      await until(() => same() || undefined, 'the repository to equal the live state', 150_000);
    } catch (error) {
      const now = files()
        .filter((f) => f.includes('/cm-'))
        .sort();
      const older = live.items
        .filter((item) => item.metadata.name.startsWith('cm-') && now.includes(`ha/${ns}/configmaps/${item.metadata.name}.yaml`))
        .filter((item) => !execFileSync('git', ['-C', remote, 'show', `main:ha/${ns}/configmaps/${item.metadata.name}.yaml`], { encoding: 'utf8' }).includes(`v: "${item.data?.['v']}"`))
        .map((item) => item.metadata.name);
      throw new Error(
        `${(error as Error).message}: missing ${JSON.stringify(expected.filter((f) => !now.includes(f)))}, extra ${JSON.stringify(now.filter((f) => !expected.includes(f)))}, older than live ${JSON.stringify(older)}\n${replicas
          .map((r) =>
            r.output
              .split('\n')
              .filter((l) => /warn|error/.test(l))
              .slice(-5)
              .join('\n'),
          )
          .join('\n---\n')}`,
      );
    }
    execFileSync('git', ['-C', remote, 'fsck', '--strict']);
  }, 240_000);
});

describe('bus-nats on a 3-node JetStream cluster', () => {
  it('loses nothing when one node is killed in the middle of a burst', async () => {
    const nodes = await NatsServer.cluster(3);
    try {
      const ns = await createTestNamespace(access, 'ha-3node');
      const { start, files, remote } = setup(
        'ha-cluster',
        ns,
        nodes.map((node) => node.url),
        3,
      );
      const replicas = [start('a'), start('b')];
      await until(() => replicas.every(started) || undefined, 'both replicas', 60_000);
      const names = Array.from({ length: 300 }, (_, i) => `cm-${i}`);
      await inBatches(
        names,
        20,
        (cm) => api('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cm }, data: { cm } }),
        async (done) => {
          if (done === 140) await nodes[0]?.kill();
        },
      );
      await until(() => files().length === 300 || undefined, 'all 300 files with one NATS node down', 180_000);
      execFileSync('git', ['-C', remote, 'fsck', '--strict']);
    } finally {
      for (const node of nodes) await node.dispose();
    }
  }, 240_000);
});
