import type { BusMessage, Delivery, PartitionLease } from '@gitops-reverser/contract';
import { memoryLogger, numberedMessage } from '@gitops-reverser/contract/conformance';
import { KernelMetrics } from '@gitops-reverser/kernel';
import { NatsServer, until } from '@gitops-reverser/testkit';
import { type Msg, type MsgHdrs, type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_MAC, HEADER_MAC_KEY, HEADER_MESSAGE_ID, HEADER_PARTITION, HEADER_REASON, loadMessageKeys, MessageAuthenticator, NatsBus, partitionToken, StreamLayout } from '../src/internal.js';
import type { NatsBusOptions } from '../src/nats-bus-options.js';
import { busOptions, messageKeyFile, rawClient, streamMessages, tempDir } from './helpers.js';

// Every message carries an HMAC with a key the replicas share; a delivery without a valid one goes to
// the dead-letter stream with its reason and is never handed to the writer. Real nats-server; the
// "forger" is a plain NATS client with the server's credentials but not the key.

const dir = tempDir();
const k1 = { id: 'k1', file: messageKeyFile(dir, 'k1') };
const k2 = { id: 'k2', file: messageKeyFile(dir, 'k2') };
const PARTITION = 'https://git.example.com/state.git#main';

let server: NatsServer;
let forger: NatsConnection;
const buses: NatsBus[] = [];
beforeAll(async () => {
  server = new NatsServer();
  await server.start();
  forger = await rawClient(server);
});
afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.stop();
});
afterAll(async () => {
  await forger.close();
  await server.dispose();
});

async function startBus(options: NatsBusOptions, consume = true) {
  const metrics = new KernelMetrics();
  const logger = memoryLogger();
  const bus = new NatsBus(options);
  buses.push(bus);
  await bus.start({ logger, metrics });
  const leases = new Map<string, PartitionLease[]>();
  if (consume) bus.consume((lease) => leases.set(lease.partitionKey, [...(leases.get(lease.partitionKey) ?? []), lease]));
  const layout = new StreamLayout(options.stream, options.subjectPrefix);
  const subject = layout.partitionSubject(partitionToken(PARTITION));
  const lease = async () => {
    await until(() => leases.get(PARTITION)?.[0], 'the partition lease', 10_000);
    return leases.get(PARTITION)?.[0] as PartitionLease;
  };
  /** Everything the partition hands out within `ms` (acked). */
  const drainFor = async (ms: number): Promise<BusMessage[]> => {
    const out: Delivery[] = [];
    const deadline = Date.now() + ms;
    const held = await lease();
    while (Date.now() < deadline) out.push(...(await held.fetch({ max: 100, maxWaitMs: 200 })));
    for (const delivery of out) await delivery.ack();
    return out.map((delivery) => delivery.message);
  };
  const deadLetters = async () =>
    (await streamMessages(forger, layout.deadLetterStream)).map((m) => ({ reason: m.header.get(HEADER_REASON), partition: m.header.get(HEADER_PARTITION), body: new TextDecoder().decode(m.data) }));
  const counted = async (reason: string) => {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'gitops_reverser_nats_dead_letters_total');
    return Number(metric?.values.find((v) => v.labels['reason'] === reason)?.value ?? 0);
  };
  return { bus, logger, leases, lease, subject, layout, drainFor, deadLetters, counted };
}

/** Publishes as the forger: straight to the partition's subject, with the partition header (and whatever else). */
async function forge(subject: string, message: unknown, extra: (headers: MsgHdrs) => void = () => undefined): Promise<void> {
  const headers = natsHeaders();
  headers.set(HEADER_PARTITION, PARTITION);
  extra(headers);
  await forger.request(subject, new TextEncoder().encode(typeof message === 'string' ? message : JSON.stringify(message)), { headers, timeout: 5000 });
}

const seed = (n: number): BusMessage => {
  const message = numberedMessage(n);
  return message.kind === 'change' ? { ...message, event: { ...message.event, phase: 'seed', snapshotId: 'forged-snapshot' } } : message;
};
const snapshotEnd: BusMessage = { kind: 'snapshot-end', target: 'conformance', snapshotId: 'forged-snapshot', objectCount: 1, clusterId: 'c', completedAt: new Date().toISOString() };
const names = (messages: BusMessage[]) => messages.map((m) => (m.kind === 'change' ? m.event.identity.name : m.kind));

/** Copies of what the bus publishes to a subject, as any subscriber with the server's credentials sees them. */
function capture(subject: string): { messages: Msg[]; stop: () => void } {
  const messages: Msg[] = [];
  const subscription = forger.subscribe(subject, {
    callback: (_error, msg) => {
      messages.push(msg);
    },
  });
  return { messages, stop: () => subscription.unsubscribe() };
}

describe('bus-nats: messages are authenticated end to end', () => {
  it('a client without the key gets no change, seed or snapshot end handed out: each is dead-lettered with its reason and counted', async () => {
    const { bus, subject, drainFor, deadLetters, counted, logger } = await startBus(busOptions([server.url], { messageKeys: [k1] }));
    const seen = capture(subject);
    await bus.publish(PARTITION, numberedMessage(1));
    expect(names(await drainFor(1000))).toEqual(['cm-1']);
    await until(() => seen.messages[0], 'the captured legit message');
    const legit = seen.messages[0] as Msg;
    seen.stop();

    await forge(subject, numberedMessage(666));
    await forge(subject, seed(667));
    await forge(subject, snapshotEnd);
    // The legit message's MAC on an altered body (with a new message id: with the old one JetStream drops it as a duplicate).
    const altered = { ...(JSON.parse(new TextDecoder().decode(legit.data)) as object), target: 'elsewhere' };
    await forge(subject, altered, (headers) => {
      for (const name of [HEADER_MAC, HEADER_MAC_KEY, 'Gr-Signed-At']) headers.set(name, legit.headers?.get(name) ?? '');
      headers.set(HEADER_MESSAGE_ID, 'altered');
    });
    await forge(subject, numberedMessage(668), (headers) => {
      headers.set(HEADER_MAC_KEY, 'k9');
      headers.set(HEADER_MAC, 'AAAA');
    });
    await bus.publish(PARTITION, numberedMessage(2));

    expect(names(await drainFor(2000))).toEqual(['cm-2']);
    const dead = await deadLetters();
    expect(dead.map((d) => d.reason?.replace(/:.*/, ''))).toEqual([
      'GR_ERR_NATS_MESSAGE_UNAUTHENTICATED (unsigned)',
      'GR_ERR_NATS_MESSAGE_UNAUTHENTICATED (unsigned)',
      'GR_ERR_NATS_MESSAGE_UNAUTHENTICATED (unsigned)',
      'GR_ERR_NATS_MESSAGE_UNAUTHENTICATED (bad_mac)',
      'GR_ERR_NATS_MESSAGE_UNAUTHENTICATED (unknown_key)',
    ]);
    expect(dead[0]?.reason).toContain('published by a client without the message key');
    expect(dead[3]?.reason).toContain('forged or altered');
    expect(dead.every((d) => d.partition === PARTITION)).toBe(true);
    expect(dead[2]?.body).toContain('"snapshot-end"');
    expect(await counted('unsigned')).toBe(3);
    expect(await counted('bad_mac')).toBe(1);
    expect(await counted('unknown_key')).toBe(1);
    expect(bus.health().details?.['deadLetters']).toEqual({ unsigned: 3, bad_mac: 1, unknown_key: 1 });
    // Logged with the code, throttled: one line per reason here.
    const lines = logger.lines.filter((line) => line.message.startsWith('GR_ERR_NATS_MESSAGE_UNAUTHENTICATED'));
    expect(lines.map((line) => (line.fields as { reason: string }).reason)).toEqual(['unsigned', 'bad_mac', 'unknown_key']);
  });

  it('a captured message published again: within the window JetStream drops it, after it the signing time gives it away', async () => {
    const { bus, subject, drainFor, deadLetters } = await startBus(busOptions([server.url], { messageKeys: [k1], duplicateWindowSeconds: 4 }));
    const seen = capture(subject);
    await bus.publish(PARTITION, numberedMessage(1));
    await until(() => seen.messages[0], 'the captured message');
    seen.stop();
    const copy = seen.messages[0] as Msg;
    expect(names(await drainFor(1000))).toEqual(['cm-1']);
    const replay = () => forger.request(subject, copy.data, { headers: copy.headers as MsgHdrs, timeout: 5000 });
    const duplicate = JSON.parse(new TextDecoder().decode((await replay()).data)) as { duplicate?: boolean };
    expect(duplicate.duplicate).toBe(true);
    await new Promise((r) => setTimeout(r, 4500));
    await replay();
    expect(names(await drainFor(1500))).toEqual([]);
    const dead = await deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]?.reason).toMatch(/^GR_ERR_NATS_MESSAGE_UNAUTHENTICATED \(replayed\): signed at \d+ but stored \d+ s later/);
  });

  it('a genuine message is checked against the time it was stored, not delivered: handed out long after the replay window', async () => {
    const options = busOptions([server.url], { messageKeys: [k1], duplicateWindowSeconds: 2 });
    const publisher = await startBus(options, false);
    await publisher.bus.publish(PARTITION, numberedMessage(1));
    await new Promise((r) => setTimeout(r, 3000));
    const consumer = await startBus(options);
    expect(names(await consumer.drainFor(1500))).toEqual(['cm-1']);
    expect(await consumer.deadLetters()).toEqual([]);
  });

  it('keys rotate: a replica with [k2, k1] signs with k2 and one with [k1, k2] accepts it; a replica without k2 refuses it', async () => {
    const options = busOptions([server.url], { messageKeys: [k1, k2] });
    const consumer = await startBus(options);
    const rotated = await startBus({ ...options, messageKeys: [k2, k1] }, false);
    await rotated.bus.publish(PARTITION, numberedMessage(1));
    await consumer.bus.publish(PARTITION, numberedMessage(2));
    expect(names(await consumer.drainFor(1500))).toEqual(['cm-1', 'cm-2']);

    const other = busOptions([server.url], { messageKeys: [k1] });
    const stale = await startBus(other);
    const ahead = await startBus({ ...other, messageKeys: [k2] }, false);
    await ahead.bus.publish(PARTITION, numberedMessage(3));
    expect(names(await stale.drainFor(1500))).toEqual([]);
    expect((await stale.deadLetters()).map((d) => d.reason)).toEqual([expect.stringMatching(/^GR_ERR_NATS_MESSAGE_UNAUTHENTICATED \(unknown_key\): signed with key id "k2"/)]);
  });

  it('a key holder publishing a body that is not JSON: dead-lettered as unreadable, the partition goes on', async () => {
    const options = busOptions([server.url], { messageKeys: [k1] });
    const { bus, subject, drainFor, deadLetters, counted } = await startBus(options);
    await bus.publish(PARTITION, numberedMessage(1));
    const signer = new MessageAuthenticator(loadMessageKeys([k1], false), false, 120_000);
    const data = new TextEncoder().encode('{"kind":"change", oops');
    await forge(subject, '{"kind":"change", oops', (headers) => {
      headers.set(HEADER_MESSAGE_ID, 'by-a-key-holder');
      signer.sign(headers, subject, data);
    });
    await bus.publish(PARTITION, numberedMessage(2));
    expect(names(await drainFor(2000))).toEqual(['cm-1', 'cm-2']);
    expect((await deadLetters()).map((d) => d.reason)).toEqual([expect.stringMatching(/^GR_ERR_NATS_MESSAGE_UNREADABLE \(unreadable\): the body is not JSON/)]);
    expect(await counted('unreadable')).toBe(1);
  });

  it("the writer's reject: the message goes to the dead-letter stream with the writer's reason, counted as rejected", async () => {
    const { bus, lease, deadLetters, counted } = await startBus(busOptions([server.url], { messageKeys: [k1] }));
    await bus.publish(PARTITION, numberedMessage(1));
    const held = await lease();
    const [delivery] = await held.fetch({ max: 1, maxWaitMs: 3000 });
    // A reason over two lines (a sink's may be): a header holds one.
    await delivery?.reject('the sink cannot write this:\nthe path leaves the target');
    await until(async () => ((await deadLetters()).length === 1 ? true : undefined), 'the dead letter', 5000);
    const [dead] = await deadLetters();
    expect(dead?.reason).toBe('the sink cannot write this: the path leaves the target');
    expect(JSON.parse(dead?.body ?? '{}')).toEqual(numberedMessage(1));
    expect(await counted('rejected')).toBe(1);
  });

  it('allowUnsignedMessages (a migration step): unsigned messages are handed out, but a wrong MAC is still refused', async () => {
    const { bus, subject, drainFor, deadLetters } = await startBus(busOptions([server.url], { messageKeys: [k1], allowUnsignedMessages: true }));
    await forge(subject, numberedMessage(1));
    await forge(subject, numberedMessage(2), (headers) => {
      headers.set(HEADER_MAC_KEY, 'k1');
      headers.set(HEADER_MAC, 'AAAA');
    });
    await bus.publish(PARTITION, numberedMessage(3));
    expect(names(await drainFor(2000))).toEqual(['cm-1', 'cm-3']);
    expect((await deadLetters()).map((d) => d.reason?.replace(/:.*/, ''))).toEqual(['GR_ERR_NATS_MESSAGE_UNAUTHENTICATED (bad_mac)']);
  });

  it('a partition header naming another partition than its subject is not believed: no second lease on that partition', async () => {
    const { bus, leases, layout, drainFor } = await startBus(busOptions([server.url], { messageKeys: [k1] }));
    await bus.publish(PARTITION, numberedMessage(1));
    expect(names(await drainFor(1000))).toEqual(['cm-1']);
    await forge(layout.partitionSubject(partitionToken('somewhere-else')), numberedMessage(666));
    // Several discovery rounds (discoveryMs: 100).
    await new Promise((r) => setTimeout(r, 1500));
    expect(leases.get(PARTITION)).toHaveLength(1);
    expect([...leases.keys()]).toEqual([PARTITION]);
  });
});
