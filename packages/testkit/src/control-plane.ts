import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlPlaneBinaries } from './binaries.js';
import { freePort } from './free-port.js';
import { spawnLogged, tail, terminate } from './logged-process.js';
import { createPki, issueCertificate, type Pki } from './pki.js';
import { reap, reapOrphans, recordEntry, removeEntry } from './process-registry.js';

/** Users of the static token file. `admin` is in system:masters; `alice` gets cluster-admin through group `devs`. */
export const TEST_USERS = {
  admin: { name: 'admin', token: 'admin-token-gitops-reverser', uid: 'uid-admin', groups: ['system:masters'] },
  alice: { name: 'alice@example.com', token: 'alice-token-gitops-reverser', uid: 'uid-alice', groups: ['devs'] },
  bob: { name: 'bob', token: 'bob-token-gitops-reverser', uid: 'uid-bob', groups: ['devs'] },
  /** No permissions until a test grants some (RBAC-forbidden scenarios). */
  reader: { name: 'reader', token: 'reader-token-gitops-reverser', uid: 'uid-reader', groups: ['readers'] },
} as const;

export type TestUserName = keyof typeof TEST_USERS;

export interface AuditWebhookOptions {
  /** https URL the API server posts audit EventLists to. */
  readonly url: string;
  /** CA that signed the receiver's serving certificate. */
  readonly caFile: string;
  /** Audit policy YAML; default: RequestResponse for writes, ResponseComplete only. */
  readonly policy?: string;
  /** Batch wait; short so tests are fast. Default 500 ms. */
  readonly batchMaxWaitMs?: number;
  /** Bearer token the API server sends with each batch. */
  readonly token?: string;
  /** Client certificate the API server presents (mTLS). */
  readonly clientCert?: { readonly cert: string; readonly key: string };
  /**
   * Name to verify the receiver's certificate against, when the URL holds an address the
   * certificate does not name (e.g. a Service's ClusterIP, for a certificate made for its DNS names).
   */
  readonly tlsServerName?: string;
}

/**
 * The credentials the API server presents when it calls admission webhooks (its
 * `--admission-control-config-file` with a kubeconfig per webhook host), as a cluster admin can set
 * them and a managed control plane cannot.
 */
export interface AdmissionWebhookClientOptions {
  /** `host:port` of the webhook (the kubeconfig user entry is named after it; `*` for any). */
  readonly host: string;
  readonly token?: string;
  readonly clientCert?: { readonly cert: string; readonly key: string };
}

export interface ControlPlaneOptions {
  readonly audit?: AuditWebhookOptions;
  readonly admissionWebhookClient?: AdmissionWebhookClientOptions;
  /** Use this PKI (e.g. one whose CA also signed the audit receiver); default: a new one. */
  readonly pki?: Pki;
  /** Folder for data, PKI and logs; default: a new temp folder, removed on stop. */
  readonly dataDir?: string;
  /**
   * Built-in resources served without the watch cache (lowercase plural, `resource.group` outside
   * the core group). Their watches go straight to etcd, so after `compactEtcd()` an old
   * resourceVersion really gets 410 Gone. Default: ["podtemplates"], a type nothing else uses.
   */
  readonly uncachedResources?: readonly string[];
  /**
   * Serve a node (ClusterNode): listen on every address and advertise `address` (a host address pods
   * can reach; the `kubernetes` Service's endpoint), with a serving certificate that also names it,
   * and a client certificate for calls to the kubelet. Default: loopback only, no node.
   */
  readonly node?: { readonly address: string };
}

/** Default audit policy: every write with request and response bodies, reported once at ResponseComplete. */
export const DEFAULT_AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted, Panic]
rules:
  - level: None
    resources: [{ group: coordination.k8s.io, resources: [leases] }, { group: "", resources: [events] }, { group: events.k8s.io, resources: [events] }]
  - level: RequestResponse
    verbs: [create, update, patch, delete, deletecollection]
  - level: None
`;

/** What a test needs to reach a running control plane; plain data, passed from globalSetup to test workers. */
export interface ControlPlaneInfo {
  readonly server: string;
  readonly etcdUrl: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly dataDir: string;
  /** kubeconfig of the `admin` user. */
  readonly kubeconfig: string;
}

/** Talks to a running control plane: kubeconfigs per test user, raw requests, etcd compaction. */
export class ControlPlaneAccess {
  constructor(readonly info: ControlPlaneInfo) {}

  get server(): string {
    return this.info.server;
  }

  get kubeconfig(): string {
    return this.info.kubeconfig;
  }

  /** A kubeconfig (YAML text) for one of the TEST_USERS. */
  kubeconfigText(user: TestUserName, options: { impersonate?: string } = {}): string {
    const u = TEST_USERS[user];
    return this.kubeconfigForToken(u.token, u.name, options);
  }

  /** A kubeconfig (YAML text) that presents `token`, e.g. a ServiceAccount's from a TokenRequest. */
  kubeconfigForToken(token: string, userName: string, options: { impersonate?: string } = {}): string {
    return `apiVersion: v1
kind: Config
clusters:
  - name: test
    cluster: { server: "${this.info.server}", certificate-authority: "${this.info.caCert}" }
users:
  - name: ${userName}
    user: { token: "${token}"${options.impersonate ? `, as: "${options.impersonate}"` : ''} }
contexts:
  - name: test
    context: { cluster: test, user: ${userName} }
current-context: test
`;
  }

  /** Writes a kubeconfig for a user into the data folder and returns its path. */
  kubeconfigFor(user: TestUserName): string {
    const file = join(this.info.dataDir, `kubeconfig-${user}`);
    writeFileSync(file, this.kubeconfigText(user));
    return file;
  }

  /** Raw HTTPS request to the API server as a test user. */
  async request(method: string, path: string, options: { user?: TestUserName; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
    const user = TEST_USERS[options.user ?? 'admin'];
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    return await new Promise((resolve, reject) => {
      const req = request(
        `${this.info.server}${path}`,
        {
          method,
          ca: readFileSync(this.info.caCert),
          headers: {
            authorization: `Bearer ${user.token}`,
            ...(payload ? { 'content-type': 'application/json' } : {}),
            ...options.headers,
          },
          timeout: 30_000,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`request ${method} ${path} timed out`)));
      req.end(payload);
    });
  }

  /**
   * Compacts etcd at its current revision (through etcd's JSON gateway): every older
   * resourceVersion becomes "too old". Returns the revision.
   */
  async compactEtcd(): Promise<number> {
    const status = (await (await fetch(`${this.info.etcdUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64') }) })).json()) as {
      header: { revision: string };
    };
    const revision = Number(status.header.revision);
    const response = await fetch(`${this.info.etcdUrl}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision, physical: true }) });
    if (!response.ok) throw new Error(`etcd compaction failed: ${response.status} ${await response.text()}`);
    return revision;
  }
}

/**
 * A real control plane: etcd and kube-apiserver, on free loopback ports, with a fresh PKI, a token
 * file and optional audit webhook. `stop()` ends exactly the processes it started and removes its
 * folder; processes left behind by a crashed run are reaped on the next start.
 */
export class ControlPlane extends ControlPlaneAccess {
  private stopped = false;
  private readonly exitGuard = () => this.killNow();

  private constructor(
    readonly id: string,
    readonly pki: Pki,
    info: ControlPlaneInfo,
    private readonly etcd: ChildProcess,
    private apiserver: ChildProcess,
    private readonly removeDataDir: boolean,
    private readonly apiserverArgs: readonly string[],
  ) {
    super(info);
    process.once('exit', this.exitGuard);
  }

  get dataDir(): string {
    return this.info.dataDir;
  }

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    reapOrphans();
    const binaries = controlPlaneBinaries();
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'gr-controlplane-'));
    mkdirSync(dataDir, { recursive: true });
    const pkiDir = join(dataDir, 'pki');
    mkdirSync(pkiDir, { recursive: true });
    const pki = options.pki ?? createPki(pkiDir);
    const id = `controlplane-${process.pid}-${randomUUID().slice(0, 8)}`;
    const [etcdClientPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const server = `https://127.0.0.1:${apiPort}`;

    const tokenFile = join(dataDir, 'tokens.csv');
    writeFileSync(
      tokenFile,
      `${Object.values(TEST_USERS)
        .map((u) => `${u.token},${u.name},${u.uid},"${u.groups.join(',')}"`)
        .join('\n')}\n`,
    );

    const etcd = spawnLogged(
      binaries.etcd,
      [
        '--name=default',
        `--data-dir=${join(dataDir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ],
      join(dataDir, 'etcd.log'),
    );

    const serving = options.node
      ? issueCertificate(pki, 'apiserver-node', {
          commonName: 'kube-apiserver',
          sans: ['IP:127.0.0.1', 'DNS:localhost', 'IP:10.0.0.1', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', `IP:${options.node.address}`],
        })
      : { cert: pki.serverCert, key: pki.serverKey };
    const apiArgs = [
      `--etcd-servers=${etcdUrl}`,
      `--secure-port=${apiPort}`,
      `--bind-address=${options.node ? '0.0.0.0' : '127.0.0.1'}`,
      `--advertise-address=${options.node?.address ?? '127.0.0.1'}`,
      `--tls-cert-file=${serving.cert}`,
      `--tls-private-key-file=${serving.key}`,
      `--client-ca-file=${pki.caCert}`,
      `--token-auth-file=${tokenFile}`,
      '--authorization-mode=Node,RBAC',
      `--service-account-issuer=https://kubernetes.default.svc`,
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      `--cert-dir=${join(dataDir, 'apiserver-certs')}`,
      '--enable-priority-and-fairness=false',
      `--watch-cache-sizes=${(options.uncachedResources ?? ['podtemplates']).map((r) => `${r}#0`).join(',')}`,
      '--profiling=false',
      '--v=0',
    ];
    if (options.node) {
      // Logs and exec go from the API server to the kubelet, which trusts the same CA.
      const kubeletClient = issueCertificate(pki, 'apiserver-kubelet-client', { commonName: 'kube-apiserver-kubelet-client', organization: 'system:masters', clientAuth: true });
      apiArgs.push(
        `--kubelet-client-certificate=${kubeletClient.cert}`,
        `--kubelet-client-key=${kubeletClient.key}`,
        `--kubelet-certificate-authority=${pki.caCert}`,
        '--kubelet-preferred-address-types=InternalIP',
      );
    }
    if (options.admissionWebhookClient) {
      const client = options.admissionWebhookClient;
      const kubeconfigFile = join(dataDir, 'admission-webhook.kubeconfig');
      const user = [client.token ? `token: "${client.token}"` : '', client.clientCert ? `client-certificate: "${client.clientCert.cert}", client-key: "${client.clientCert.key}"` : '']
        .filter(Boolean)
        .join(', ');
      writeFileSync(
        kubeconfigFile,
        `apiVersion: v1
kind: Config
users:
  - name: "${client.host}"
    user: { ${user} }
`,
      );
      const admissionConfig = join(dataDir, 'admission-control.yaml');
      writeFileSync(
        admissionConfig,
        `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
  - name: ValidatingAdmissionWebhook
    configuration: { apiVersion: apiserver.config.k8s.io/v1, kind: WebhookAdmissionConfiguration, kubeConfigFile: "${kubeconfigFile}" }
`,
      );
      apiArgs.push(`--admission-control-config-file=${admissionConfig}`);
    }
    const apiserver = spawnLogged(binaries.kubeApiserver, [...apiArgs, ...auditArgs(dataDir, options.audit)], join(dataDir, 'kube-apiserver.log'));

    recordEntry({
      id,
      ownerPid: process.pid,
      pids: [
        { pid: etcd.pid as number, executable: binaries.etcd },
        { pid: apiserver.pid as number, executable: binaries.kubeApiserver },
      ],
      dataDir,
    });

    const kubeconfig = join(dataDir, 'kubeconfig');
    const info: ControlPlaneInfo = { server, etcdUrl, caCert: pki.caCert, caKey: pki.caKey, dataDir, kubeconfig };
    const plane = new ControlPlane(id, pki, info, etcd, apiserver, options.dataDir === undefined, apiArgs);
    writeFileSync(kubeconfig, plane.kubeconfigText('admin'));
    try {
      await plane.waitReady(90_000);
      await plane.grantDevsClusterAdmin();
    } catch (error) {
      const log = tail(join(dataDir, 'kube-apiserver.log'), 30);
      await plane.stop();
      throw new Error(`the test control plane did not become ready: ${(error as Error).message}\nkube-apiserver log (last lines):\n${log}`);
    }
    return plane;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    process.off('exit', this.exitGuard);
    await terminate(this.apiserver);
    await terminate(this.etcd);
    removeEntry(this.id);
    if (this.removeDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  /**
   * Restarts kube-apiserver with the same flags and another audit webhook (or none), as an operator
   * restarts a static API server after changing its flags; etcd, and everything connected to the
   * API server, keep running and reconnect. Resolves once /readyz answers again.
   */
  async restartApiServer(options: { audit?: AuditWebhookOptions }): Promise<void> {
    if (this.stopped) throw new Error('restartApiServer: the control plane is stopped');
    await terminate(this.apiserver);
    const binaries = controlPlaneBinaries();
    this.apiserver = spawnLogged(binaries.kubeApiserver, [...this.apiserverArgs, ...auditArgs(this.dataDir, options.audit)], join(this.dataDir, 'kube-apiserver.log'));
    recordEntry({
      id: this.id,
      ownerPid: process.pid,
      pids: [
        { pid: this.etcd.pid as number, executable: binaries.etcd },
        { pid: this.apiserver.pid as number, executable: binaries.kubeApiserver },
      ],
      dataDir: this.dataDir,
    });
    try {
      await this.waitReady(90_000);
    } catch (error) {
      throw new Error(`kube-apiserver did not come back after a restart: ${(error as Error).message}\nkube-apiserver log (last lines):\n${tail(join(this.dataDir, 'kube-apiserver.log'), 30)}`);
    }
  }

  /** Synchronous last resort when the process exits without stop(). */
  private killNow(): void {
    if (this.stopped) return;
    reap({ id: this.id, ownerPid: process.pid, pids: [], dataDir: this.removeDataDir ? this.dataDir : '/nonexistent' });
    for (const child of [this.apiserver, this.etcd]) child.kill('SIGKILL');
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (this.apiserver.exitCode !== null) throw new Error(`kube-apiserver exited with code ${this.apiserver.exitCode}`);
      if (this.etcd.exitCode !== null) throw new Error(`etcd exited with code ${this.etcd.exitCode}`);
      try {
        const { status, body } = await this.request('GET', '/readyz');
        if (status === 200) return;
        last = `${status} ${body.slice(0, 200)}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for /readyz (last: ${last})`);
  }

  private async grantDevsClusterAdmin(): Promise<void> {
    const { status, body } = await this.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'test-devs-cluster-admin' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        // bob also directly: an impersonated request carries only the user name, not the token file's groups.
        subjects: [
          { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'devs' },
          { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' },
        ],
      },
    });
    if (status !== 201 && status !== 409) throw new Error(`cannot bind group devs to cluster-admin: ${status} ${body}`);
  }
}

/** The audit flags (policy and webhook kubeconfig written into `dataDir`); none without `audit`. */
function auditArgs(dataDir: string, audit: AuditWebhookOptions | undefined): string[] {
  if (!audit) return [];
  const policyFile = join(dataDir, 'audit-policy.yaml');
  writeFileSync(policyFile, audit.policy ?? DEFAULT_AUDIT_POLICY);
  const webhookConfig = join(dataDir, 'audit-webhook.kubeconfig');
  const user = [audit.token ? `token: "${audit.token}"` : '', audit.clientCert ? `client-certificate: "${audit.clientCert.cert}", client-key: "${audit.clientCert.key}"` : '']
    .filter(Boolean)
    .join(', ');
  writeFileSync(
    webhookConfig,
    `apiVersion: v1
kind: Config
clusters:
  - name: audit-receiver
    cluster: { server: "${audit.url}", certificate-authority: "${audit.caFile}"${audit.tlsServerName ? `, tls-server-name: "${audit.tlsServerName}"` : ''} }
users:
  - name: api-server
    user: { ${user} }
contexts:
  - name: default
    context: { cluster: audit-receiver, user: api-server }
current-context: default
`,
  );
  return [
    `--audit-policy-file=${policyFile}`,
    `--audit-webhook-config-file=${webhookConfig}`,
    '--audit-webhook-mode=batch',
    `--audit-webhook-batch-max-wait=${audit.batchMaxWaitMs ?? 500}ms`,
    '--audit-webhook-batch-max-size=100',
    '--audit-webhook-initial-backoff=500ms',
  ];
}
