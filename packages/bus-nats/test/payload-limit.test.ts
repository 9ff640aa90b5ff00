import { type BusMessage, isGitopsReverserError, type PartitionLease } from '@gitops-reverser/contract';
import { memoryLogger, noopMetrics, numberedMessage } from '@gitops-reverser/contract/conformance';
import { NatsServer, until } from '@gitops-reverser/testkit';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_BODY_DROPPED, HEADER_MESSAGE_ID, HEADER_PARTITION, HEADER_REASON, loadMessageKeys, MessageAuthenticator, messageBytes, NatsBus, StreamLayout } from '../src/internal.js';
import { busOptions, messageKeyFile, rawClient, streamMessages, tempDir } from './helpers.js';

// The server's max_payload (small here: 8 KiB) as the bus meets it: a message that can never fit is
// refused at once with a named error, the bus says so in /readyz, and everything else goes on.

const LIMIT = 8192;
const PARTITION = 'repo#main';
const messageKeys = [{ id: 'k1', file: messageKeyFile(tempDir()) }];
let server: NatsServer;
let client: NatsConnection;
const buses: NatsBus[] = [];

beforeAll(async () => {
  server = new NatsServer({ maxPayload: LIMIT });
  await server.start();
  client = await rawClient(server);
});
afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.stop();
});
afterAll(async () => {
  await client.close();
  await server.dispose();
});

async function startBus() {
  const options = busOptions([server.url], { messageKeys });
  const bus = new NatsBus(options);
  buses.push(bus);
  await bus.start({ logger: memoryLogger(), metrics: noopMetrics() });
  const leases = new Map<string, PartitionLease>();
  bus.consume((lease) => leases.set(lease.partitionKey, lease));
  return { bus, options, lease: () => until(() => leases.get(PARTITION), 'the lease', 10_000) };
}

/** A change whose JSON carries `padding` extra characters. */
function padded(n: number, padding: number): BusMessage {
  const message = numberedMessage(n);
  if (message.kind !== 'change') return message;
  return { ...message, event: { ...message.event, object: { ...message.event.object, data: { n: String(n), pad: 'x'.repeat(padding) } } } };
}

async function publishError(bus: NatsBus, message: BusMessage): Promise<{ code: string; details: Record<string, unknown>; message: string } | undefined> {
  try {
    await bus.publish(PARTITION, message);
    return undefined;
  } catch (error) {
    if (!isGitopsReverserError(error)) throw error;
    return { code: error.code, details: error.details, message: error.message };
  }
}

describe('bus-nats: the server max_payload', () => {
  it('counts a message as the client does: what it says fits, the client sends; one byte more it refuses', () => {
    const signer = new MessageAuthenticator(loadMessageKeys(messageKeys, false), false, 120_000);
    for (const size of [LIMIT - 1, LIMIT, LIMIT + 1]) {
      const headers = natsHeaders();
      headers.set(HEADER_PARTITION, PARTITION);
      headers.set(HEADER_MESSAGE_ID, 'some-id');
      signer.sign(headers, 'subject.x', new Uint8Array());
      const data = new Uint8Array(size - messageBytes(headers, new Uint8Array()));
      signer.sign(headers, 'subject.x', data);
      expect(messageBytes(headers, data)).toBe(size);
      const send = () => client.publish('nobody.listens', data, { headers });
      if (size <= LIMIT) expect(send).not.toThrow();
      else expect(send).toThrow(/max_payload/);
    }
  });

  it('refuses a message that can never fit at once with GR_ERR_BUS_MESSAGE_TOO_LARGE (size and limit), reports degraded, and goes on', async () => {
    const { bus, lease } = await startBus();
    await bus.publish(PARTITION, numberedMessage(1));
    const started = performance.now();
    const refused = await publishError(bus, padded(2, 2 * LIMIT));
    console.log(`the oversized publish was refused after ${(performance.now() - started).toFixed(1)} ms`);
    expect(refused?.code).toBe('GR_ERR_BUS_MESSAGE_TOO_LARGE');
    expect(refused?.details).toMatchObject({ limitBytes: LIMIT, partition: PARTITION });
    expect(refused?.details['sizeBytes']).toBeGreaterThan(2 * LIMIT);
    expect(refused?.message).toMatch(/^a message for repo#main is \d+ bytes; the NATS server carries at most 8192 \(max_payload\)$/);
    const health = bus.health();
    expect(health.state).toBe('degraded');
    expect(health.reason).toMatch(/^refused 1 message\(s\) larger than the NATS server's max_payload .*: a message for repo#main is \d+ bytes/);
    expect(health.details?.['maxPayload']).toBe(LIMIT);
    // The partition goes on: the next message is stored and delivered after the first.
    await bus.publish(PARTITION, numberedMessage(3));
    const held = await lease();
    const delivered: string[] = [];
    while (delivered.length < 2) {
      for (const delivery of await held.fetch({ max: 10, maxWaitMs: 1000 })) {
        delivered.push(delivery.message.kind === 'change' ? delivery.message.event.resourceVersion : delivery.message.kind);
        await delivery.ack();
      }
    }
    expect(delivered).toEqual(['1', '3']);
  });

  it('keeps a dead-letter copy that would not fit beside its reason, without its body (its size in Gr-Body-Dropped)', async () => {
    const { bus, options, lease } = await startBus();
    // The largest message that fits (larger tries are refused, so exactly one is stored); its copy with a long reason does not fit.
    let padding = LIMIT;
    while ((await publishError(bus, padded(1, padding))) !== undefined) padding -= 20;
    const held = await lease();
    const [largest] = await held.fetch({ max: 1, maxWaitMs: 3000 });
    expect(largest?.sizeBytes).toBeGreaterThan(LIMIT - 800);
    await largest?.reject(`the writer cannot write this: ${'r'.repeat(900)}`);
    const layout = new StreamLayout(options.stream, options.subjectPrefix);
    const [dead] = await streamMessages(client, layout.deadLetterStream);
    expect(dead?.data.length).toBe(0);
    expect(Number(dead?.header.get(HEADER_BODY_DROPPED))).toBe(largest?.sizeBytes);
    expect(dead?.header.get(HEADER_REASON)).toMatch(/^the writer cannot write this: r+$/);
  });
});
