// Benchmark: SOPS encryption of Secrets, ours (in process) vs the sops CLI encrypting each file.
//   BENCH_SOPS_SECRETS (default 1000) Secrets of ~1 KB data each, one age recipient.
//   ours: SopsEncoder.normalize + renderYaml per Secret (what the kernel does per event);
//   sops CLI: `sops --encrypt` per file (what a script around the CLI would do).
// Prints per-Secret cost and totals, and a BENCH_JSON line. Not a test: nothing is asserted.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { renderYaml, silentLogger } from '@gitops-reverser/kernel';
import { SopsEncoder } from '@gitops-reverser/sanitizer-sops/internal';
import { toolBinaries } from '@gitops-reverser/testkit';

const SECRETS = Number(process.env.BENCH_SOPS_SECRETS ?? 1000);
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const { sops } = toolBinaries();
const recipient = await identityToRecipient(await generateIdentity());
const dir = mkdtempSync(join(tmpdir(), 'gr-bench-sops-'));

const secret = (i) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: `secret-${i}`, namespace: 'bench' },
  type: 'Opaque',
  data: { username: Buffer.from(`user-${i}`).toString('base64'), password: Buffer.from(`p-${i}-${'x'.repeat(600)}`).toString('base64'), ca: Buffer.from('y'.repeat(200)).toString('base64') },
});
const event = (object) => ({
  identity: { clusterId: 'bench', group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespace: 'bench', name: object.metadata.name },
  operation: 'upsert',
  created: true,
  object,
  resourceVersion: '1',
  observedAt: new Date().toISOString(),
  phase: 'seed',
  observedBy: 'watch',
});

const encoder = new SopsEncoder({ recipients: [recipient], identities: [], encryptedRegex: '^(data|stringData)$', resources: ['secrets'], clock: { now: () => Date.now() }, logger: silentLogger() });
const perSecret = [];
let start = process.hrtime.bigint();
for (let i = 0; i < SECRETS; i++) {
  const one = process.hrtime.bigint();
  renderYaml(await encoder.normalize(secret(i), { event: event(secret(i)) }));
  perSecret.push(ms(one));
}
const oursMs = ms(start);

for (let i = 0; i < SECRETS; i++) writeFileSync(join(dir, `secret-${i}.yaml`), renderYaml(secret(i)));
const run = promisify(execFile);
start = process.hrtime.bigint();
for (let i = 0; i < SECRETS; i++) {
  await run(sops, ['--encrypt', '--age', recipient, '--encrypted-regex', '^(data|stringData)$', join(dir, `secret-${i}.yaml`)], { maxBuffer: 1 << 24 });
}
const cliMs = ms(start);
rmSync(dir, { recursive: true, force: true });

const sorted = [...perSecret].sort((a, b) => a - b);
const summary = {
  benchmark: 'sanitizer-sops',
  secrets: SECRETS,
  oursPerSecretMs: { p50: +sorted[Math.floor(sorted.length / 2)].toFixed(3), p99: +sorted[Math.floor(sorted.length * 0.99)].toFixed(3) },
  seed: { oursMs: Math.round(oursMs), sopsCliMs: Math.round(cliMs), ratio: +(oursMs / cliMs).toFixed(3) },
};
console.log(`sanitizer-sops benchmark: ${SECRETS} Secrets (~1 KB data), one age recipient`);
console.log(`  ours      per Secret p50 ${summary.oursPerSecretMs.p50} ms, p99 ${summary.oursPerSecretMs.p99} ms; all ${summary.seed.oursMs} ms`);
console.log(`  sops CLI  one process per file: all ${summary.seed.sopsCliMs} ms   ratio ${summary.seed.ratio}`);
console.log(`BENCH_JSON ${JSON.stringify(summary)}`);
