import { type ChildProcess, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeBinaries, pauseImage } from './binaries.js';
import type { ControlPlane } from './control-plane.js';
import { freePort } from './free-port.js';
import { spawnLogged, tail, terminate } from './logged-process.js';
import { issueCertificate } from './pki.js';
import { cacheRoot, isAlive, runs } from './process-registry.js';

/** The node's name in the API. */
export const NODE_NAME = 'gr-test-node';
/** Pod addresses (CNI bridge + host-local IPAM); the bridge takes the first. */
export const POD_CIDR = '10.244.0.0/24';
const BRIDGE = 'grbr0';
/** The kubelet's cgroup root in every cgroup v1 hierarchy: everything under it is the node's. */
const CGROUP_ROOT = 'gitops-reverser-test-node';
const CNI_BIN_DIR = '/usr/lib/cni';
/**
 * Host settings the node changes: the kubelet sets the first six when it starts (it has no option to
 * leave them), the CNI bridge turns on forwarding. Recorded before and restored after.
 */
const SYSCTLS = ['vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes', 'net/ipv4/ip_forward'];

/** What a node records while it runs, so that a later run can clean up after a crashed one. */
interface NodeRecord {
  readonly ownerPid: number;
  readonly dataDir: string;
  readonly containerdAddress: string;
  readonly kubeProxy: string;
  readonly sysctls: Record<string, string>;
  readonly pids: readonly { pid: number; executable: string }[];
}

/** What the machine must have for a node; see test/controlplane/README.md ("The test node"). */
const REQUIRED_COMMANDS = ['containerd', 'containerd-shim-runc-v2', 'runc', 'ctr', 'iptables', 'iptables-restore', 'ip', 'mount', 'podman', 'mmdebstrap'];

/**
 * A one-node cluster on this machine for the tests that need real pods: containerd (Debian) with
 * runc, CNI bridge networking, and kubelet, kube-controller-manager, kube-scheduler and kube-proxy
 * built from the same Kubernetes module as the API server, joined to a ControlPlane started with
 * `node: { address: ClusterNode.hostAddress() }`. Root only; one per machine (it owns a bridge,
 * kube-proxy's iptables chains and a cgroup root): a second one waits for the first to stop.
 * `stop()` deletes every pod, stops every process it started, and removes its bridge, iptables
 * chains, cgroups, mounts and folder; a crashed run's leftovers are removed by the next start.
 */
export class ClusterNode {
  private stopped = false;
  private readonly exitGuard = () => this.cleanupNow();

  private constructor(
    private readonly plane: ControlPlane,
    readonly dataDir: string,
    readonly containerdAddress: string,
    private readonly processes: Map<string, ChildProcess>,
    private record: NodeRecord,
  ) {
    process.once('exit', this.exitGuard);
  }

  /** What this machine lacks for a node (empty when it can run one). */
  static missingPrerequisites(): string[] {
    const missing: string[] = [];
    if (process.getuid?.() !== 0) missing.push('root (the kubelet, containerd and kube-proxy need it)');
    if (process.platform !== 'linux') missing.push('Linux');
    for (const command of REQUIRED_COMMANDS) if (spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0) missing.push(command);
    for (const plugin of ['bridge', 'host-local', 'loopback']) if (!existsSync(join(CNI_BIN_DIR, plugin))) missing.push(`${CNI_BIN_DIR}/${plugin}`);
    if (!existsSync('/sys/fs/cgroup/memory')) missing.push('cgroup v1 hierarchies under /sys/fs/cgroup');
    return missing;
  }

  /** The host address pods reach the host at (the source address of the default route). */
  static hostAddress(): string {
    const route = execFileSync('ip', ['-4', '-o', 'route', 'get', '192.0.2.254'], { encoding: 'utf8' });
    const address = /\bsrc (\d+\.\d+\.\d+\.\d+)/.exec(route)?.[1];
    if (!address) throw new Error(`cannot tell this host's address from \`ip route get\`: ${route}`);
    return address;
  }

  /** Starts a node for `plane` (which must have been started with `node: { address }`). */
  static async start(plane: ControlPlane, options: { address: string; lockTimeoutMs?: number }): Promise<ClusterNode> {
    const missing = ClusterNode.missingPrerequisites();
    if (missing.length > 0)
      throw new Error(
        `this machine cannot run a test node; missing: ${missing.join(', ')} (Debian: apt-get install containerd runc containernetworking-plugins iptables podman mmdebstrap; see test/controlplane/README.md)`,
      );
    const binaries = nodeBinaries();
    const pause = pauseImage();
    await acquireLock(options.lockTimeoutMs ?? 20 * 60_000);

    const dataDir = mkdtempSync(join(tmpdir(), 'gr-node-'));
    const containerdAddress = join(dataDir, 'containerd', 'containerd.sock');
    const sysctls = Object.fromEntries(SYSCTLS.map((key) => [key, readSysctl(key)]));
    let record: NodeRecord = { ownerPid: process.pid, dataDir, containerdAddress, kubeProxy: binaries.kubeProxy, sysctls, pids: [] };
    writeLock(record);
    const processes = new Map<string, ChildProcess>();
    const started = (name: string, executable: string, child: ChildProcess) => {
      processes.set(name, child);
      record = { ...record, pids: [...record.pids, { pid: child.pid as number, executable }] };
      writeLock(record);
      node.record = record;
    };
    const logs = () => ['containerd', 'kubelet', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'].map((n) => `--- ${n} (last lines):\n${tail(join(dataDir, `${n}.log`), 15)}`).join('\n');
    const node = new ClusterNode(plane, dataDir, containerdAddress, processes, record);
    try {
      const pki = { dir: join(dataDir, 'pki'), caCert: plane.pki.caCert, caKey: plane.pki.caKey };
      mkdirSync(pki.dir, { recursive: true });
      const kubeconfig = (name: string, commonName: string, organization?: string) => {
        const cert = issueCertificate(pki, name, { commonName, ...(organization ? { organization } : {}), clientAuth: true });
        const file = join(dataDir, `${name}.kubeconfig`);
        writeFileSync(
          file,
          `apiVersion: v1
kind: Config
clusters: [ { name: test, cluster: { server: "${plane.server}", certificate-authority: "${plane.pki.caCert}" } } ]
users: [ { name: ${name}, user: { client-certificate: "${cert.cert}", client-key: "${cert.key}" } } ]
contexts: [ { name: test, context: { cluster: test, user: ${name} } } ]
current-context: test
`,
        );
        return file;
      };

      // containerd with runc and the CNI bridge. restrict_oom_score_adj: without CAP_SYS_RESOURCE no
      // process may get a lower oom_score_adj than containerd's own (the kubelet asks for -997/-998).
      mkdirSync(join(dataDir, 'cni', 'net.d'), { recursive: true });
      writeFileSync(
        join(dataDir, 'cni', 'net.d', '10-gr-bridge.conflist'),
        JSON.stringify({
          cniVersion: '0.4.0',
          name: 'gr-test-pods',
          plugins: [
            {
              type: 'bridge',
              bridge: BRIDGE,
              isGateway: true,
              ipMasq: false,
              hairpinMode: true,
              ipam: { type: 'host-local', ranges: [[{ subnet: POD_CIDR }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(dataDir, 'cni', 'ipam') },
            },
          ],
        }),
      );
      writeFileSync(
        join(dataDir, 'containerd.toml'),
        `version = 2
root = "${join(dataDir, 'containerd', 'root')}"
state = "${join(dataDir, 'containerd', 'state')}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${containerdAddress}"
[ttrpc]
  address = "${containerdAddress}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${join(dataDir, 'containerd', 'opt')}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${pause.name}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "${commandPath('runc')}"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN_DIR}"
    conf_dir = "${join(dataDir, 'cni', 'net.d')}"
    max_conf_num = 1
`,
      );
      const containerd = commandPath('containerd');
      started('containerd', containerd, spawnLogged(containerd, ['--config', join(dataDir, 'containerd.toml'), '--log-level', 'info'], join(dataDir, 'containerd.log')));
      await waitFor(
        'containerd to answer',
        60_000,
        () => node.ctr(['version']).code === 0 || undefined,
        () => firstExited(processes),
      );
      node.importImage(pause.archive);

      // The kubelet. Its cgroup root must exist in every hierarchy (cpuset needs its cpus and mems).
      createCgroupRoot();
      const kubeletServing = issueCertificate(pki, 'kubelet-serving', { commonName: NODE_NAME, sans: [`IP:${options.address}`, `DNS:${NODE_NAME}`] });
      const [kubeletPort, kubeletHealthzPort] = [await freePort(), await freePort()];
      writeFileSync(
        join(dataDir, 'kubelet.yaml'),
        `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /${CGROUP_ROOT}
containerRuntimeEndpoint: unix://${containerdAddress}
imageServiceEndpoint: unix://${containerdAddress}
address: ${options.address}
port: ${kubeletPort}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${kubeletHealthzPort}
tlsCertFile: ${kubeletServing.cert}
tlsPrivateKeyFile: ${kubeletServing.key}
authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: ${plane.pki.caCert} } }
authorization: { mode: Webhook }
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
failSwapOn: false
oomScoreAdj: 0
podLogsDir: ${join(dataDir, 'pod-logs')}
shutdownGracePeriod: 0s
evictionHard: { memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1% }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
maxPods: 30
`,
      );
      const kubeletKubeconfig = kubeconfig('kubelet', `system:node:${NODE_NAME}`, 'system:nodes');
      started(
        'kubelet',
        binaries.kubelet,
        spawnLogged(
          binaries.kubelet,
          [
            `--config=${join(dataDir, 'kubelet.yaml')}`,
            `--kubeconfig=${kubeletKubeconfig}`,
            `--root-dir=${join(dataDir, 'kubelet')}`,
            `--cert-dir=${join(dataDir, 'kubelet-pki')}`,
            `--hostname-override=${NODE_NAME}`,
            `--node-ip=${options.address}`,
            '--v=1',
          ],
          join(dataDir, 'kubelet.log'),
        ),
      );

      const kcmKubeconfig = kubeconfig('kube-controller-manager', 'system:kube-controller-manager');
      started(
        'kube-controller-manager',
        binaries.kubeControllerManager,
        spawnLogged(
          binaries.kubeControllerManager,
          [
            `--kubeconfig=${kcmKubeconfig}`,
            `--authentication-kubeconfig=${kcmKubeconfig}`,
            `--authorization-kubeconfig=${kcmKubeconfig}`,
            '--bind-address=127.0.0.1',
            `--secure-port=${await freePort()}`,
            '--leader-elect=false',
            '--use-service-account-credentials=true',
            `--service-account-private-key-file=${plane.pki.serviceAccountKey}`,
            `--root-ca-file=${plane.pki.caCert}`,
            '--allocate-node-cidrs=false',
            '--v=1',
          ],
          join(dataDir, 'kube-controller-manager.log'),
        ),
      );
      const schedulerKubeconfig = kubeconfig('kube-scheduler', 'system:kube-scheduler');
      started(
        'kube-scheduler',
        binaries.kubeScheduler,
        spawnLogged(
          binaries.kubeScheduler,
          [
            `--kubeconfig=${schedulerKubeconfig}`,
            `--authentication-kubeconfig=${schedulerKubeconfig}`,
            `--authorization-kubeconfig=${schedulerKubeconfig}`,
            '--bind-address=127.0.0.1',
            `--secure-port=${await freePort()}`,
            '--leader-elect=false',
            '--v=1',
          ],
          join(dataDir, 'kube-scheduler.log'),
        ),
      );

      // kube-proxy routes Service ClusterIPs (iptables): the `kubernetes` Service for pods, and
      // Services of pods for the API server on this host (an audit webhook). It leaves the host's
      // conntrack settings, oom_score_adj and localhost NodePorts alone.
      writeFileSync(
        join(dataDir, 'kube-proxy.yaml'),
        `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: ${kubeconfig('kube-proxy', 'system:kube-proxy')} }
hostnameOverride: ${NODE_NAME}
mode: iptables
clusterCIDR: ${POD_CIDR}
oomScoreAdj: 0
healthzBindAddress: 127.0.0.1:${await freePort()}
metricsBindAddress: 127.0.0.1:${await freePort()}
nodePortAddresses: ["${options.address}/32"]
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
iptables: { localhostNodePorts: false }
`,
      );
      started('kube-proxy', binaries.kubeProxy, spawnLogged(binaries.kubeProxy, [`--config=${join(dataDir, 'kube-proxy.yaml')}`, '--v=1'], join(dataDir, 'kube-proxy.log')));

      await waitFor(
        'the node to be Ready without taints',
        120_000,
        async () => {
          const { status, body } = await plane.request('GET', `/api/v1/nodes/${NODE_NAME}`);
          if (status !== 200) return undefined;
          const n = JSON.parse(body) as { spec?: { taints?: unknown[] }; status?: { conditions?: { type: string; status: string }[] } };
          const ready = n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
          return (ready && (n.spec?.taints ?? []).length === 0) || undefined;
        },
        () => firstExited(processes),
      );
      await waitFor(
        'the default ServiceAccount and kube-root-ca.crt (controller manager)',
        60_000,
        async () => {
          const sa = await plane.request('GET', '/api/v1/namespaces/default/serviceaccounts/default');
          const ca = await plane.request('GET', '/api/v1/namespaces/default/configmaps/kube-root-ca.crt');
          return (sa.status === 200 && ca.status === 200) || undefined;
        },
        () => firstExited(processes),
      );
      await waitFor(
        'kube-proxy to route the kubernetes Service',
        60_000,
        () => {
          const rules = spawnSync('iptables', ['-w', '-t', 'nat', '-S', 'KUBE-SERVICES'], { encoding: 'utf8' }).stdout ?? '';
          return rules.includes('default/kubernetes:https') || undefined;
        },
        () => firstExited(processes),
      );
    } catch (error) {
      const message = `the test node did not start: ${(error as Error).message}\n${logs()}`;
      await node.stop();
      throw new Error(message);
    }
    return node;
  }

  /** Runs `ctr` against this node's containerd in the k8s.io namespace (the kubelet's). */
  ctr(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
    const result = spawnSync('ctr', ['--address', this.containerdAddress, '--namespace', 'k8s.io', ...args], { encoding: 'utf8' });
    return { code: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
  }

  /** Imports a docker-archive (or OCI) image into the node's containerd, where pods find it without a registry. */
  importImage(archive: string): void {
    const imported = this.ctr(['images', 'import', archive]);
    if (imported.code !== 0) throw new Error(`ctr images import ${archive} failed: ${imported.stderr}`);
  }

  /** Containers (pod sandboxes included) the node's containerd holds for pods of `namespace`, with whether each still runs. */
  containers(namespace: string): { id: string; running: boolean }[] {
    const ids = this.ctr(['containers', 'list', '--quiet', `labels."io.kubernetes.pod.namespace"==${namespace}`])
      .stdout.split('\n')
      .filter(Boolean);
    const running = new Set(this.runningTasks());
    return ids.map((id) => ({ id, running: running.has(id) }));
  }

  /** Ids of the containers whose process runs (`ctr tasks list` also lists stopped ones until they are deleted). */
  private runningTasks(): string[] {
    return this.ctr(['tasks', 'list'])
      .stdout.split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[2] === 'RUNNING')
      .map((fields) => fields[0] as string);
  }

  /** A component's log so far (containerd, kubelet, kube-controller-manager, kube-scheduler, kube-proxy). */
  log(component: string, lines = 40): string {
    return tail(join(this.dataDir, `${component}.log`), lines);
  }

  /**
   * Deletes every pod, stops the controllers (so none come back), the kubelet, kube-proxy and
   * containerd, then removes everything the node put on the host.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    process.off('exit', this.exitGuard);
    for (const name of ['kube-controller-manager', 'kube-scheduler']) {
      const child = this.processes.get(name);
      if (child) await terminate(child);
    }
    const kubelet = this.processes.get('kubelet');
    if (kubelet && kubelet.exitCode === null) {
      // The kubelet stops each pod's containers and tears down its sandbox (CNI DEL) itself.
      try {
        const { body } = await this.plane.request('GET', '/api/v1/pods');
        const pods = (JSON.parse(body) as { items?: { metadata: { namespace: string; name: string } }[] }).items ?? [];
        for (const pod of pods) await this.plane.request('DELETE', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}?gracePeriodSeconds=1`);
        await waitFor('the kubelet to stop every container', 60_000, () => this.runningTasks().length === 0 || undefined);
      } catch {
        // what is left is killed below
      }
    }
    for (const name of ['kubelet', 'kube-proxy', 'containerd']) {
      const child = this.processes.get(name);
      if (child) await terminate(child);
    }
    cleanup(this.record);
    releaseLock();
  }

  /** Synchronous last resort when the test process exits without stop(). */
  private cleanupNow(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const child of this.processes.values()) child.kill('SIGKILL');
    cleanup(this.record);
    releaseLock();
  }
}

/** Not in the process registry's folder (run/): its records have another shape and another reaper. */
function lockFile(): string {
  const dir = join(cacheRoot(), 'node');
  mkdirSync(dir, { recursive: true });
  return join(dir, 'lock.json');
}

function writeLock(record: NodeRecord): void {
  writeFileSync(lockFile(), JSON.stringify(record, null, 2));
}

function releaseLock(): void {
  rmSync(lockFile(), { force: true });
}

/** Takes the machine's one node slot: waits while another live process holds it, cleans up after a dead one. */
async function acquireLock(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      writeFileSync(lockFile(), JSON.stringify({ ownerPid: process.pid }), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: Partial<NodeRecord> = {};
    try {
      holder = JSON.parse(readFileSync(lockFile(), 'utf8')) as Partial<NodeRecord>;
    } catch {
      // being written: read again
    }
    if (holder.ownerPid !== undefined && !isAlive(holder.ownerPid)) {
      if (holder.dataDir) cleanup(holder as NodeRecord);
      releaseLock();
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `another test node runs on this machine (owner pid ${holder.ownerPid}, lock ${lockFile()}); only one can: it owns the bridge ${BRIDGE}, kube-proxy's iptables chains and the cgroup root /${CGROUP_ROOT}`,
      );
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/**
 * Removes what a node put on the host, whether it stopped cleanly or crashed: its processes and
 * containerd's shims, every process in its cgroups and the cgroups, kube-proxy's iptables chains,
 * the bridge, mounts under its folder, the folder, and the host settings it changed.
 */
function cleanup(record: NodeRecord): void {
  for (const { pid, executable } of record.pids ?? []) if (runs(pid, executable)) kill(pid);
  for (const pid of processesWithArgument(record.containerdAddress)) kill(pid);
  for (const hierarchy of cgroupHierarchies()) killAndRemoveCgroups(join(hierarchy, CGROUP_ROOT));
  if (record.kubeProxy && existsSync(record.kubeProxy)) spawnSync(record.kubeProxy, ['--cleanup'], { stdio: 'ignore' });
  removeKubeChains();
  spawnSync('ip', ['link', 'delete', BRIDGE], { stdio: 'ignore' });
  if (record.dataDir) {
    for (const mount of mountsUnder(record.dataDir)) spawnSync('umount', ['-l', mount], { stdio: 'ignore' });
    // Sandbox network namespaces (containerd names them cni-<uuid>) the kubelet could not remove,
    // and the kubelet's log links into the node's folder.
    for (const mount of mountsUnder('/run/netns').filter((m) => /\/cni-[0-9a-f-]+$/.test(m))) {
      spawnSync('umount', ['-l', mount], { stdio: 'ignore' });
      rmSync(mount, { force: true });
    }
    removeLinksInto('/var/log/containers', record.dataDir);
    rmSync(record.dataDir, { recursive: true, force: true });
  }
  for (const [key, value] of Object.entries(record.sysctls ?? {})) {
    try {
      if (readSysctl(key) !== value) writeFileSync(`/proc/sys/${key}`, value);
    } catch {
      // a setting this kernel lacks
    }
  }
}

/**
 * Removes the KUBE-* iptables chains kube-proxy's --cleanup leaves: the kubelet's own (KUBE-FIREWALL
 * in INPUT and OUTPUT, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT), in both address families.
 */
function removeKubeChains(): void {
  for (const command of ['iptables', 'ip6tables']) {
    for (const table of ['filter', 'nat', 'mangle']) {
      const listed = spawnSync(command, ['-w', '-t', table, '-S'], { encoding: 'utf8' });
      if (listed.status !== 0) continue;
      const lines = listed.stdout.split('\n');
      for (const line of lines.filter((l) => /^-A \S+ .*-j KUBE-/.test(l) && !/^-A KUBE-/.test(l))) {
        // -S prints each rule shell-quoted (comments hold spaces): let sh split it back.
        spawnSync('sh', ['-c', `${command} -w -t ${table} -D ${line.slice(3)}`], { stdio: 'ignore' });
      }
      const chains = lines.filter((l) => /^-N KUBE-/.test(l)).map((l) => l.slice(3).trim());
      for (const chain of chains) spawnSync(command, ['-w', '-t', table, '-F', chain], { stdio: 'ignore' });
      for (const chain of chains) spawnSync(command, ['-w', '-t', table, '-X', chain], { stdio: 'ignore' });
    }
  }
}

function removeLinksInto(dir: string, target: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    try {
      if (readlinkSync(join(dir, entry)).startsWith(`${target}/`)) rmSync(join(dir, entry), { force: true });
    } catch {
      // not a link
    }
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function processesWithArgument(argument: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(argument)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids.filter((pid) => pid !== process.pid);
}

function cgroupHierarchies(): string[] {
  return readdirSync('/sys/fs/cgroup')
    .map((name) => join('/sys/fs/cgroup', name))
    .filter((path) => existsSync(join(path, 'cgroup.procs')));
}

function createCgroupRoot(): void {
  for (const hierarchy of cgroupHierarchies()) {
    const dir = join(hierarchy, CGROUP_ROOT);
    mkdirSync(dir, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (existsSync(join(dir, file)) && readFileSync(join(dir, file), 'utf8').trim() === '') writeFileSync(join(dir, file), readFileSync(join(hierarchy, file), 'utf8'));
    }
  }
}

function killAndRemoveCgroups(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    const child = join(dir, entry);
    if (statSync(child).isDirectory()) killAndRemoveCgroups(child);
  }
  for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) kill(Number(pid));
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch {
      execFileSync('sleep', ['0.1']);
    }
  }
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((mount): mount is string => mount?.startsWith(`${dir}/`) === true)
    .sort((a, b) => b.length - a.length);
}

function readSysctl(key: string): string {
  return readFileSync(`/proc/sys/${key}`, 'utf8').trim();
}

function commandPath(command: string): string {
  return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim();
}

/** "<name> exited with code N" for the first process that has exited, if any. */
function firstExited(processes: Map<string, ChildProcess>): string | undefined {
  for (const [name, child] of processes) if (child.exitCode !== null) return `${name} exited with code ${child.exitCode}`;
  return undefined;
}

async function waitFor<T>(what: string, timeoutMs: number, produce: () => T | undefined | Promise<T | undefined>, exited?: () => string | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await produce();
    if (value !== undefined) return value;
    const gone = exited?.();
    if (gone) throw new Error(`${gone} while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
