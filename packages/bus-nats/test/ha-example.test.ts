import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import descriptor from '@gitops-reverser/bus-nats';
import type { AdapterContext, Bus, PartitionLease } from '@gitops-reverser/contract';
import { memoryLogger, noopMetrics, numberedMessage } from '@gitops-reverser/contract/conformance';
import { parseConfig } from '@gitops-reverser/kernel';
import { NatsServer, until } from '@gitops-reverser/testkit';
import { afterAll, expect, it } from 'vitest';
import type { NatsBusOptions } from '../src/nats-bus-options.js';
import { tempDir } from './helpers.js';

// examples/ha/replica.yaml as written, with the files `npm run nats:ha-secrets` makes and the
// nats-server config it writes: the bus connects over TLS with the client certificate and the nkey,
// signs and checks with the message key, without a single warning.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const example = join(root, 'examples/ha/replica.yaml');
const secrets = tempDir('gr-ha-secrets-');
let server: NatsServer | undefined;
let bus: Bus | undefined;
afterAll(async () => {
  await bus?.stop();
  await server?.dispose();
  rmSync(secrets, { recursive: true, force: true });
});

it('examples/ha: the bus of replica.yaml reaches the nats-server of nats:ha-secrets, secured, and carries a message', async () => {
  execFileSync(process.execPath, [join(root, 'scripts/nats-ha-secrets.mjs'), secrets], { stdio: 'ignore' });
  server = new NatsServer({ configFile: join(secrets, 'nats-server.conf') });
  await server.start();
  const config = parseConfig(readFileSync(example, 'utf8'), example, { env: { NATS_URL: server.url, NATS_SECRETS: secrets } });
  const context = { options: { ...defaults(), ...config.bus.with }, config: { resolvePath: (path: string) => resolve(dirname(example), path) } };
  bus = descriptor.create(context as unknown as AdapterContext<NatsBusOptions>);
  const logger = memoryLogger();
  await bus.start({ logger, metrics: noopMetrics() });
  expect(bus.health().details?.['insecure']).toBeUndefined();
  expect(logger.lines.filter((line) => line.message.startsWith('INSECURE'))).toEqual([]);
  const leases = new Map<string, PartitionLease>();
  bus.consume((lease) => leases.set(lease.partitionKey, lease));
  await bus.publish('state#main', numberedMessage(1));
  const lease = await until(() => leases.get('state#main'), 'the lease', 10_000);
  const [delivery] = await lease.fetch({ max: 1, maxWaitMs: 5000 });
  expect(delivery?.message).toEqual(numberedMessage(1));
  await delivery?.ack();
});

/** The defaults the kernel fills in from the descriptor's schema. */
function defaults(): Record<string, unknown> {
  const properties = descriptor.optionsSchema['properties'] as Record<string, { default?: unknown }>;
  return Object.fromEntries(Object.entries(properties).flatMap(([key, schema]) => (schema.default === undefined ? [] : [[key, schema.default]])));
}
