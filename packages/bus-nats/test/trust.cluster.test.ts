import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { BusMessage, KubeObject } from '@gitops-reverser/contract';
import { contentHash, createDefaultSanitizer, createLogger, parseConfig, renderYaml, Runtime } from '@gitops-reverser/kernel';
import { ControlPlaneAccess, createNatsNkeyUser, createPki, createTestNamespace, GitHttpServer, issueCertificate, NatsServer, toolBinaries, until } from '@gitops-reverser/testkit';
import { type Msg, type NatsConnection, headers as natsHeaders, nkeyAuthenticator } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import xxhash from 'xxhash-wasm';
import { HEADER_MAC, HEADER_MAC_KEY, HEADER_MESSAGE_ID, HEADER_PARTITION, HEADER_REASON, loadMessageKeys, MessageAuthenticator } from '../src/internal.js';
import { messageKeyFile, rawClient, streamMessages, tempDir } from './helpers.js';

// The bus as the issue "Hardening 2" attacked it, end to end: the real API server, the informer,
// sanitizer-sops, bus-nats over TLS with client certificates and an nkey user, sink-git pushing to a
// real git server. The attacker is a NATS client with the server's credentials (certificate and nkey)
// but not the message key.

const access = new ControlPlaneAccess(inject('testCluster'));
const tools = toolBinaries();
const dir = tempDir('gr-trust-');
const git = (...args: string[]) => execFileSync('git', ['-C', remote, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
const STREAM = 'TRUST';
const PREFIX = 'trust';
let remote = '';
let ns = '';
let nats: NatsServer;
let gitServer: GitHttpServer;
let runtime: Runtime;
let attacker: NatsConnection;
let logs = '';
let ageKeyFile = '';
const keyFile = messageKeyFile(dir);

beforeAll(async () => {
  ns = await createTestNamespace(access, 'trust');
  const pki = createPki(join(dir, 'pki'));
  const serving = issueCertificate(pki, 'nats', { commonName: 'nats', sans: ['IP:127.0.0.1', 'DNS:localhost'] });
  const client = issueCertificate(pki, 'replica', { commonName: 'gitops-reverser', clientAuth: true });
  const user = createNatsNkeyUser(dir, 'replica');
  nats = new NatsServer({ tls: { certFile: serving.cert, keyFile: serving.key, caFile: pki.caCert, verify: true }, nkeyUsers: [user.publicKey] });
  await nats.start();
  gitServer = new GitHttpServer();
  await gitServer.start();
  gitServer.createRepo('trust');
  remote = gitServer.repoPath('trust');
  ageKeyFile = join(dir, 'age.key');
  execFileSync(tools.ageKeygen, ['-o', ageKeyFile], { stdio: 'ignore' });
  const recipient = execFileSync(tools.ageKeygen, ['-y', ageKeyFile], { encoding: 'utf8' }).trim();
  writeFileSync(join(dir, 'kubeconfig'), access.kubeconfigText('admin'));
  await api('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep' }, data: { kept: 'yes' } });
  const yaml = `apiVersion: gitops-reverser/v1alpha2
server: { enabled: true, host: 127.0.0.1, port: 0 }
shutdown: { timeoutSeconds: 10 }
sources: [ { use: "@gitops-reverser/source-informer", cluster: trust, with: { kubeconfig: ./kubeconfig } } ]
normalizers: [ { use: "@gitops-reverser/sanitizer-sops", with: { recipients: ["${recipient}"] } } ]
bus:
  use: "@gitops-reverser/bus-nats"
  with:
    servers: ["${nats.url}"]
    tls: { caFile: "${pki.caCert}", certFile: "${client.cert}", keyFile: "${client.key}" }
    nkeySeedFile: "${user.seedFile}"
    messageKeys: [ { id: k1, file: "${keyFile}" } ]
    stream: ${STREAM}
    subjectPrefix: ${PREFIX}
    leaseSeconds: 2
    discoveryMs: 200
    ackWaitSeconds: 5
sink:
  use: "@gitops-reverser/sink-git"
  with: { commitWindow: 100ms, cacheDir: ./cache, providers: [ { name: origin, url: "${gitServer.url('trust')}" } ] }
targets: [ { name: live, with: { provider: origin, branch: main, path: trust, prune: Always } } ]
rules: [ { target: live, scope: Namespaced, namespaces: [${ns}], resources: [configmaps, secrets] } ]
`;
  const logger = createLogger(
    'info',
    new Writable({
      write: (chunk, _encoding, done) => {
        logs += String(chunk);
        done();
      },
    }),
  );
  runtime = await Runtime.create(parseConfig(yaml, join(dir, 'config.yaml')), { logger });
  await runtime.start();
  await until(() => files().includes(`trust/${ns}/configmaps/keep.yaml`) || undefined, 'the first snapshot in git', 60_000);
  // Everything a replica may do on the server, without the message key.
  attacker = await rawClient(nats, {
    tls: { caFile: pki.caCert, certFile: client.cert, keyFile: client.key },
    authenticator: nkeyAuthenticator(new TextEncoder().encode(readFileSync(user.seedFile, 'utf8').trim())),
  });
});

afterAll(async () => {
  await attacker?.close();
  await runtime?.stop('test done');
  await nats?.dispose();
  await gitServer?.dispose();
});

async function api(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await access.request(method, path, body === undefined ? {} : { body });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.body.slice(0, 300)}`);
  return JSON.parse(response.body || '{}') as Record<string, unknown>;
}

function files(): string[] {
  try {
    return git('ls-tree', '-r', '--name-only', 'main').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

const configMap = (name: string, data: Record<string, string>) => api('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
const committed = (name: string) => until(() => files().includes(`trust/${ns}/configmaps/${name}.yaml`) || undefined, `${name}.yaml in git`, 60_000);

/** Every message published to the bus's subjects from now on, as a subscriber with the server's credentials sees it. */
function listen(): { messages: Msg[]; stop: () => void } {
  const messages: Msg[] = [];
  const subscription = attacker.subscribe(`${PREFIX}.>`, {
    callback: (_error, msg) => {
      messages.push(msg);
    },
  });
  return { messages, stop: () => subscription.unsubscribe() };
}

/** Publishes straight to a partition's subject, as the attacker; `sign` adds a valid MAC (a key holder). */
async function publishRaw(subject: string, partitionKey: string, body: string, options: { id: string; sign?: boolean; headers?: Record<string, string> }): Promise<void> {
  const headers = natsHeaders();
  headers.set(HEADER_PARTITION, partitionKey);
  headers.set(HEADER_MESSAGE_ID, options.id);
  for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
  const data = new TextEncoder().encode(body);
  if (options.sign) new MessageAuthenticator(loadMessageKeys([{ id: 'k1', file: keyFile }], false), false, 120_000).sign(headers, subject, data);
  await attacker.request(subject, data, { headers, timeout: 5000 });
}

async function deadLetters(): Promise<{ reason: string; body: string }[]> {
  return (await streamMessages(attacker, `${STREAM}_DLQ`)).map((m) => ({ reason: m.header.get(HEADER_REASON), body: new TextDecoder().decode(m.data) }));
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${runtime.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return Number(line?.split(' ').at(-1) ?? 0);
}

/** The partition the target writes: its subject and key, learned the way an attacker would (a captured message). */
async function partitionOfNextChange(name: string): Promise<{ subject: string; key: string; captured: Msg }> {
  const capture = listen();
  await configMap(name, { bait: 'yes' });
  const captured = await until(() => capture.messages.find((m) => m.subject.startsWith(`${PREFIX}.p.`)), 'a captured message', 30_000);
  capture.stop();
  await committed(name);
  return { subject: captured.subject, key: captured.headers?.get(HEADER_PARTITION) ?? '', captured };
}

const change = (name: string, extra: Record<string, unknown> = {}): BusMessage =>
  ({
    kind: 'change',
    target: 'live',
    event: {
      identity: { clusterId: 'trust', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: ns, name },
      operation: 'upsert',
      created: true,
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { owned: 'by mallory' } },
      resourceVersion: '999999999',
      observedAt: new Date().toISOString(),
      phase: 'live',
      observedBy: 'watch',
      actor: { username: 'mallory@evil.example' },
      ...extra,
    },
  }) as BusMessage;

describe('bus-nats trust, end to end', () => {
  it('forged changes, seeds and a snapshot end from a client without the message key: nothing is written, each is dead-lettered with its reason', async () => {
    const { subject, key, captured } = await partitionOfNextChange('bait');
    const before = git('rev-parse', 'main').trim();
    await publishRaw(subject, key, JSON.stringify(change('evil')), { id: 'forged-1' });
    // A forged snapshot: one seed, and an end saying it was complete. Under prune: Always it would remove every other file.
    await publishRaw(subject, key, JSON.stringify(change('decoy', { phase: 'seed', snapshotId: 'forged-snapshot' })), { id: 'forged-2' });
    await publishRaw(subject, key, JSON.stringify({ kind: 'snapshot-end', target: 'live', snapshotId: 'forged-snapshot', objectCount: 1, clusterId: 'trust', completedAt: new Date().toISOString() }), {
      id: 'forged-3',
    });
    // A captured genuine message's MAC on a forged body.
    const macHeaders = Object.fromEntries([HEADER_MAC, HEADER_MAC_KEY, 'Gr-Signed-At'].map((name) => [name, captured.headers?.get(name) ?? '']));
    await publishRaw(subject, key, JSON.stringify(change('evil-2')), { id: 'forged-4', headers: macHeaders });
    await configMap('after-forgery', { n: '1' });
    await committed('after-forgery');

    const now = files();
    expect(now).toEqual(expect.arrayContaining([`trust/${ns}/configmaps/keep.yaml`, `trust/${ns}/configmaps/bait.yaml`, `trust/${ns}/configmaps/after-forgery.yaml`]));
    expect(now.filter((file) => /evil|decoy/.test(file))).toEqual([]);
    const authors = git('log', '--format=%an <%ae>', `${before}..main`);
    expect(authors).not.toContain('mallory');
    const dead = await until(async () => ((await deadLetters()).length >= 4 ? deadLetters() : undefined), 'the four dead letters', 30_000);
    expect(dead.map((d) => d.reason.replace(/:.*/s, ''))).toEqual([
      'GR_ERR_NATS_MESSAGE_UNAUTHENTICATED (unsigned)',
      'GR_ERR_NATS_MESSAGE_UNAUTHENTICATED (unsigned)',
      'GR_ERR_NATS_MESSAGE_UNAUTHENTICATED (unsigned)',
      'GR_ERR_NATS_MESSAGE_UNAUTHENTICATED (bad_mac)',
    ]);
    expect(dead.map((d) => (JSON.parse(d.body) as BusMessage).kind)).toEqual(['change', 'change', 'snapshot-end', 'change']);
    expect(await metric('gitops_reverser_nats_dead_letters_total', { reason: 'unsigned' })).toBe(3);
    expect(await metric('gitops_reverser_nats_dead_letters_total', { reason: 'bad_mac' })).toBe(1);
    expect(logs).toContain('GR_ERR_NATS_MESSAGE_UNAUTHENTICATED: a message on');
  });

  it('a ConfigMap whose message is 2 MB (over the default 1 MB max_payload): a named refusal, /readyz degraded, the next change committed promptly', async () => {
    // Kubernetes caps a ConfigMap's data at 1 MiB; 1,000,000 quotes double in JSON: a 2 MB message.
    await configMap('huge', { quotes: '"'.repeat(1_000_000) });
    const code = 'GR_ERR_BUS_MESSAGE_TOO_LARGE';
    await until(async () => (await metric('gitops_reverser_events_refused_total', { adapter: '@gitops-reverser/bus-nats', code })) >= 1 || undefined, 'the refusal', 60_000);
    const line = logs.split('\n').find((l) => l.includes(code) && l.includes('huge')) ?? '';
    expect(line).toMatch(/is \d{7} bytes; the NATS server carries at most 1048576 \(max_payload\)/);
    const readyz = (await (await fetch(`http://127.0.0.1:${runtime.port}/readyz`)).json()) as { status: string; adapters: { slot: string; state: string; reason?: string }[] };
    expect(readyz.status).toBe('degraded');
    const bus = readyz.adapters.find((a) => a.slot === 'bus');
    expect(bus?.state).toBe('degraded');
    expect(bus?.reason).toMatch(/^refused 1 message\(s\) larger than the NATS server's max_payload/);

    const started = Date.now();
    await configMap('after-huge', { n: '1' });
    await committed('after-huge');
    console.log(`the change after the refused 2 MB ConfigMap was in git ${Date.now() - started} ms after it was made`);
    expect(files().some((file) => file.endsWith('/huge.yaml'))).toBe(false);
  });

  it('a malformed message from a key holder ({"kind":"change","event":null}): dead-lettered with its reason, the partition goes on', async () => {
    const { subject, key } = await partitionOfNextChange('bait-2');
    const deadBefore = (await deadLetters()).length;
    await publishRaw(subject, key, '{"kind":"change","event":null}', { id: 'malformed-1', sign: true });
    await publishRaw(subject, key, '{"kind":"change","target":"live","event":null}', { id: 'malformed-2', sign: true });
    await configMap('after-malformed', { n: '1' });
    await committed('after-malformed');
    const dead = (await until(async () => ((await deadLetters()).length >= deadBefore + 2 ? deadLetters() : undefined), 'the dead letters', 30_000)).slice(deadBefore);
    expect(dead.map((d) => d.reason)).toEqual([expect.stringMatching(/^GR_ERR_BUS_MESSAGE_INVALID: target is missing/), expect.stringMatching(/^GR_ERR_BUS_MESSAGE_INVALID: change event: /)]);
    expect(dead.map((d) => d.body)).toEqual(['{"kind":"change","event":null}', '{"kind":"change","target":"live","event":null}']);
    expect(await metric('gitops_reverser_nats_dead_letters_total', { reason: 'rejected' })).toBe(2);
    expect(await metric('gitops_reverser_bus_messages_invalid_total', {})).toBe(2);
  });

  it('the PIN experiment: a Secret with pin "4711" crosses the bus as SOPS ciphertext; trying all 10,000 PINs against every string on the bus recovers nothing', async () => {
    const seen = listen();
    await api('POST', `/api/v1/namespaces/${ns}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pin' }, type: 'Opaque', stringData: { pin: '4711' } });
    const file = `trust/${ns}/secrets/pin.sops.yaml`;
    await until(() => files().includes(file) || undefined, 'the Secret in git', 60_000);
    seen.stop();
    // The real sops decrypts what was written: the ciphertext on the bus is the real thing.
    const sopsFile = join(dir, 'pin.sops.yaml');
    writeFileSync(sopsFile, git('show', `main:${file}`));
    const decrypted = JSON.parse(execFileSync(tools.sops, ['--decrypt', '--output-type', 'json', sopsFile], { encoding: 'utf8', env: { ...process.env, SOPS_AGE_KEY_FILE: ageKeyFile } })) as Record<
      string,
      unknown
    >;
    expect((decrypted['data'] as Record<string, string>)['pin']).toBe(Buffer.from('4711').toString('base64'));

    // The plaintext object the kernel worked on, as the default sanitizer leaves it; checked against what sops decrypts.
    const live = (await api('GET', `/api/v1/namespaces/${ns}/secrets/pin`)) as unknown as KubeObject;
    const sanitized = (await createDefaultSanitizer().normalize(live, {} as never)) as KubeObject;
    const { sops: _sops, ...plain } = decrypted;
    expect(plain).toEqual(sanitized);

    const messages = seen.messages.filter((m) => m.subject.startsWith(`${PREFIX}.p.`));
    expect(messages.length).toBeGreaterThan(0);
    const strings = busStrings(messages);
    const detector = await pinDetector(sanitized);
    const recovered = detector(strings);
    console.log(`${messages.length} message(s), ${strings.tokens.size} distinct strings and tokens on the bus; PINs recovered: ${JSON.stringify(recovered)}`);
    expect(recovered).toEqual([]);
    // The detector has the power to find it: with the old unkeyed content hash on the bus it recovers 4711.
    const oldHash = contentHash(renderYaml({ ...sanitized, data: { pin: Buffer.from('4711').toString('base64') } }));
    expect(detector({ whole: strings.whole, tokens: new Set([...strings.tokens, oldHash]) })).toEqual([{ pin: '4711', as: 'xxhash64 of the YAML' }]);
  });
});

/** What a subscriber sees, as strings: whole values (header values, the body, every key and string of it) and all their tokens. */
interface BusStrings {
  /** Whole values, except the API server's `resourceVersion` counters (a 4-digit one would match a PIN by chance). */
  readonly whole: ReadonlySet<string>;
  /** Every whole value and every token in one (runs of base64/hex characters): where a digest would sit. */
  readonly tokens: ReadonlySet<string>;
}

function busStrings(messages: readonly Msg[]): BusStrings {
  const whole = new Set<string>();
  const tokens = new Set<string>();
  const add = (text: string, counter = false) => {
    if (!counter) whole.add(text);
    tokens.add(text);
    for (const token of text.split(/[^A-Za-z0-9+/=_-]+/)) if (token) tokens.add(token);
  };
  const walk = (value: unknown, key = ''): void => {
    if (typeof value === 'string' || typeof value === 'number') add(String(value), key === 'resourceVersion');
    else if (Array.isArray(value)) for (const item of value) walk(item);
    else if (value && typeof value === 'object') {
      for (const [name, inner] of Object.entries(value)) {
        add(name);
        walk(inner, name);
      }
    }
  };
  for (const msg of messages) {
    for (const [, values] of msg.headers ?? []) for (const value of values) add(value);
    const body = new TextDecoder().decode(msg.data);
    add(body);
    walk(JSON.parse(body));
  }
  return { whole, tokens };
}

/**
 * For each of the 10,000 PINs: the PIN in clear (and base64, as a Secret holds it), and xxhash64,
 * SHA-256 and SHA-1 (hex, base64, base64url) of the object's YAML and JSON renderings with that PIN,
 * of its data map, and of the data entry alone. Returns which PINs any of them finds on the bus.
 */
async function pinDetector(sanitized: KubeObject): Promise<(strings: BusStrings) => { pin: string; as: string }[]> {
  const { h64ToString } = await xxhash();
  const clear = new Map<string, { pin: string; as: string }>();
  const derived = new Map<string, { pin: string; as: string }>();
  for (let n = 0; n < 10_000; n++) {
    const pin = String(n).padStart(4, '0');
    const encoded = Buffer.from(pin).toString('base64');
    const object = { ...sanitized, data: { pin: encoded } } as KubeObject;
    clear.set(pin, { pin, as: 'the PIN in clear' });
    derived.set(encoded, { pin, as: 'the PIN in base64' });
    const renderings: [string, string][] = [
      ['the YAML', renderYaml(object)],
      ['the JSON', JSON.stringify(object)],
      ['the indented JSON', JSON.stringify(object, null, 2)],
      ['the data JSON', JSON.stringify(object.data)],
      ['the stringData JSON', JSON.stringify({ pin })],
      ['the data YAML', `pin: ${encoded}\n`],
      ['the stringData YAML', `pin: "${pin}"\n`],
    ];
    for (const [what, text] of renderings) {
      derived.set(h64ToString(text), { pin, as: `xxhash64 of ${what}` });
      for (const algorithm of ['sha256', 'sha1']) {
        const digest = createHash(algorithm).update(text).digest();
        for (const encoding of ['hex', 'base64', 'base64url'] as const) derived.set(digest.toString(encoding), { pin, as: `${algorithm} (${encoding}) of ${what}` });
      }
    }
  }
  const found = (strings: ReadonlySet<string>, table: Map<string, { pin: string; as: string }>) => [...strings].flatMap((text) => table.get(text) ?? []);
  return (strings) => [...found(strings.whole, clear), ...found(strings.tokens, derived)];
}
