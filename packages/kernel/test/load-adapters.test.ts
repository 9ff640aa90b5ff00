import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigValidationError, KernelMetrics, parseConfig, Runtime, silentLogger } from '../src/index.js';
import { assemble } from '../src/assembly/assemble.js';
import { loadAdapters } from '../src/plugin/load-adapters.js';
import { resolveAdapter } from '../src/plugin/resolve-adapter.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const fixtures = join(here, 'fixtures/adapters');

/** A config file placed in `dir` (default: the repo's examples folder, where workspace packages resolve). */
function config(slots: { sink?: string; bus?: string; sources?: string }, dir = join(repoRoot, 'examples')) {
  const text = `
apiVersion: gitops-reverser/v1alpha2
sources: [ ${slots.sources ?? '{ use: "gitops-reverser-source-manifests", cluster: dev, with: { directory: ./source-manifests/sample } }'} ]
bus: ${slots.bus ?? '{ use: "@gitops-reverser/bus-memory" }'}
sink: ${slots.sink ?? `{ use: "${join(fixtures, 'in-memory-sink.mjs')}" }`}
targets: [ { name: live } ]
rules: [ { target: live, resources: ["*"] } ]
`;
  return parseConfig(text, join(dir, 'test-config.yaml'));
}

/** The error Runtime.create (the same assembly `validate` runs) gives for a config. */
async function createProblem(slots: Parameters<typeof config>[0]): Promise<ConfigValidationError> {
  try {
    await Runtime.create(config(slots), { logger: silentLogger(), metrics: new KernelMetrics() });
  } catch (error) {
    if (error instanceof ConfigValidationError) return error;
    throw error;
  }
  throw new Error('expected creating the runtime to fail');
}

async function problemOf(slots: Parameters<typeof config>[0], dir?: string) {
  try {
    await loadAdapters(config(slots, dir));
  } catch (error) {
    if (error instanceof ConfigValidationError) return error;
    throw error;
  }
  throw new Error('expected loading to fail');
}

describe('loadAdapters', () => {
  it('loads third-party adapters from examples/ by package name and by relative path, with versions', async () => {
    const adapters = await loadAdapters(config({ sink: '{ use: "./sink-jsonl", with: { file: ./out/x.jsonl } }' }));
    expect(adapters.sources[0]?.descriptor.meta).toMatchObject({ name: 'gitops-reverser-source-manifests', slot: 'source', version: '0.1.0' });
    expect(adapters.sources[0]?.module?.file).toMatch(/gitops-reverser-source-manifests\/dist\/index\.js$/);
    expect(adapters.sink?.descriptor.meta.name).toBe('gitops-reverser-sink-jsonl');
    expect(adapters.sink?.module).toMatchObject({ packageName: 'gitops-reverser-sink-jsonl', packageVersion: '0.1.0' });
    expect(adapters.bus?.descriptor.meta.name).toBe('@gitops-reverser/bus-memory');
  });

  it('fills option defaults from the schema', async () => {
    const adapters = await loadAdapters(config({ bus: '{ use: "@gitops-reverser/bus-memory", with: {} }' }));
    expect(adapters.bus?.options).toEqual({ capacityPerPartition: 10000 });
    expect(adapters.sources[0]?.options).toEqual({ directory: './source-manifests/sample', pollMs: 1000, resources: {} });
  });

  it('names the missing package, the config file, where it looked and the npm install that fixes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gr-plugin-'));
    const error = await problemOf({ bus: '{ use: "@gitops-reverser/bus-nope" }' }, dir);
    const problem = error.problems.find((p) => p.keyPath === 'bus.use');
    expect(problem?.code).toBe('GR_ERR_PLUGIN_NOT_FOUND');
    expect(problem?.message).toContain('cannot find adapter package "@gitops-reverser/bus-nope" (looked in: ');
    expect(problem?.message).toContain(join(dir, 'node_modules/@gitops-reverser/bus-nope'));
    expect(problem?.fix).toBe(`install it next to the config file: (cd ${dir} && npm install @gitops-reverser/bus-nope)`);
    expect(error.message).toContain(join(dir, 'test-config.yaml'));
  });

  it('a missing adapter file', async () => {
    const error = await problemOf({ sink: '{ use: "./no-such-sink.mjs" }' });
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_PLUGIN_NOT_FOUND', keyPath: 'sink.use' });
    expect(error.problems[0]?.fix).toContain("relative to the config file's folder");
  });

  it('a module that throws on import', async () => {
    const error = await problemOf({ sink: `{ use: "${join(fixtures, 'throws-on-import.mjs')}" }` });
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_PLUGIN_IMPORT', keyPath: 'sink.use' });
    expect(error.problems[0]?.message).toContain('failed to load: fixture: broken on purpose');
  });

  it('a module that is not an adapter', async () => {
    const error = await problemOf({ sink: `{ use: "${join(fixtures, 'not-an-adapter.mjs')}" }` });
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_PLUGIN_SHAPE', keyPath: 'sink.use' });
    expect(error.problems[0]?.fix).toContain('defineAdapter');
  });

  it('an adapter in the wrong slot', async () => {
    const error = await problemOf({ bus: '{ use: "gitops-reverser-sink-jsonl", with: { file: x } }' });
    expect(error.problems[0]).toMatchObject({
      code: 'GR_ERR_PLUGIN_SLOT',
      keyPath: 'bus.use',
      message: '"gitops-reverser-sink-jsonl" is a sink adapter, but it is configured under bus',
      fix: 'move it under sink:, or use a bus adapter here',
    });
  });

  it('an adapter made for another kernel version', async () => {
    const error = await problemOf({ sink: `{ use: "${join(fixtures, 'needs-future-kernel.mjs')}" }` });
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_PLUGIN_KERNEL_VERSION' });
    expect(error.problems[0]?.message).toBe(`"${join(fixtures, 'needs-future-kernel.mjs')}" 9.0.0 needs kernel ^9.0.0, but this kernel is 0.3.0`);
  });

  it('an adapter whose instance lacks the methods of its slot is refused before anything starts', async () => {
    const error = await createProblem({ sink: `{ use: "${join(fixtures, 'incomplete-sink.mjs')}" }` });
    expect(error.problems[0]).toMatchObject({
      code: 'GR_ERR_PLUGIN_SHAPE',
      keyPath: 'sink.use',
      message:
        'sink adapter "fixture-incomplete" is incomplete: apply() is missing; flush() is missing; stop() is missing; health() is missing; batchPolicy is missing (e.g. { windowMs: 0, maxBytes: 1048576 })',
    });
  });

  it('a create() that throws gets its own code and names the adapter', async () => {
    const error = await createProblem({ bus: `{ use: "${join(fixtures, 'create-throws.mjs')}" }` });
    expect(error.problems[0]).toMatchObject({
      code: 'GR_ERR_PLUGIN_CREATE',
      keyPath: 'bus.use',
      message: 'bus adapter "fixture-create-throws" failed in create(): cannot read /etc/fixture/credentials',
    });
  });

  it("an adapter's own error code and fix reach the user, with the adapter named at its entry (or at the option it names)", async () => {
    const queue = `{ use: "${join(fixtures, 'create-throws-coded.mjs')}"`;
    const own = await createProblem({ bus: `${queue} }` });
    expect(own.problems).toEqual([
      expect.objectContaining({
        code: 'FIXTURE_QUEUE_ERR_CREDENTIALS',
        keyPath: 'bus.use',
        message: 'no credentials for queue "orders" (bus adapter "fixture-queue")',
        fix: 'set credentialsFile to a file holding the queue token',
      }),
    ]);
    expect(own.code).toBe('FIXTURE_QUEUE_ERR_CREDENTIALS');
    expect(own.message).toMatch(/test-config\.yaml:4:\d+: bus\.use: no credentials for queue "orders" \(bus adapter "fixture-queue"\) \[FIXTURE_QUEUE_ERR_CREDENTIALS\]\n\s+fix: set credentialsFile/);
    const atOption = await createProblem({ bus: `${queue}, with: { optionPath: credentialsFile } }` });
    expect(atOption.problems[0]).toMatchObject({ code: 'FIXTURE_QUEUE_ERR_CREDENTIALS', keyPath: 'bus.with.credentialsFile' });
  });

  it.each([
    ['not of the form <PACKAGE>_ERR_<WHAT>', 'queue-credentials'],
    ['not of the form <PACKAGE>_ERR_<WHAT>', 'ERR_CREDENTIALS'],
    ["GR_ERR_* codes are gitops-reverser's own", 'GR_ERR_CONFIG_INVALID'],
  ])('a code that breaks the rule (%s: %s) is reported as GR_ERR_PLUGIN_CREATE, its code and fix kept', async (why, code) => {
    const error = await createProblem({ bus: `{ use: "${join(fixtures, 'create-throws-coded.mjs')}", with: { code: "${code}" } }` });
    expect(error.problems).toEqual([
      expect.objectContaining({
        code: 'GR_ERR_PLUGIN_CREATE',
        keyPath: 'bus.use',
        message: `bus adapter "fixture-queue" failed in create(): no credentials for queue "orders" (its code ${code} is ${why})`,
        fix: "set credentialsFile to a file holding the queue token; to the adapter's author: report it under a code of the form <PACKAGE>_ERR_<WHAT> (docs/writing-adapters.md)",
      }),
    ]);
  });

  it('a service nobody provides is a config error naming both packages', async () => {
    const error = await createProblem({ bus: `{ use: "${join(fixtures, 'needs-clock-service.mjs')}" }` });
    expect(error.problems[0]).toMatchObject({
      code: 'GR_ERR_PLUGIN_SERVICE',
      keyPath: 'bus.use',
      message: '"fixture-needs-team-clock" needs service "fixture.team-clock" (the team clock), which no configured adapter provides; fixture-team-clock-provider provides it',
      fix: 'add fixture-team-clock-provider to the config (in its slot), or remove "fixture-needs-team-clock"',
    });
  });

  it("a service used without declaring it is refused by the kernel as a shape problem, not as the adapter's failure", async () => {
    const error = await createProblem({ bus: `{ use: "${join(fixtures, 'uses-undeclared-service.mjs')}" }` });
    expect(error.problems).toEqual([
      expect.objectContaining({
        code: 'GR_ERR_PLUGIN_SHAPE',
        keyPath: 'bus.use',
        message: 'bus adapter "fixture-uses-undeclared" asked for service "fixture.undeclared" without declaring it in needs',
        fix: "add fixture.undeclared to the descriptor's needs so validate can check it is provided",
      }),
    ]);
  });

  it('a declared service that create() never provides', async () => {
    const error = await createProblem({ bus: `{ use: "${join(fixtures, 'provides-undeclared.mjs')}" }` });
    expect(error.problems[0]).toMatchObject({ code: 'GR_ERR_PLUGIN_SHAPE', message: expect.stringContaining('declares provides [fixture.forgotten] but did not provide it') });
  });

  it('wires a service one adapter provides to the adapter that needs it, from config alone', async () => {
    const runtime = await Runtime.create(config({ sink: '{ use: "./sink-jsonl", with: { file: ./out/di.jsonl } }' }), { logger: silentLogger(), metrics: new KernelMetrics() });
    // The sink-jsonl instance received the manifests source's service through the container.
    const sink = runtime.health().adapters.find((a) => a.slot === 'sink');
    expect(sink?.name).toBe('gitops-reverser-sink-jsonl');
    const assembly = await assemble(config({ sink: '{ use: "./sink-jsonl", with: { file: ./out/di.jsonl } }' }), { logger: silentLogger(), metrics: new KernelMetrics() });
    expect(assembly.container.isRegistered(Symbol.for('gitops-reverser.service.manifests.files'), true)).toBe(true);
  });

  it('loads a plain-JavaScript adapter and names two sources of one package apart', async () => {
    const twoSources = config({
      sources:
        '{ use: gitops-reverser-source-manifests, cluster: a, with: { directory: ./source-manifests/sample, pollMs: 0 } }, { use: gitops-reverser-source-manifests, cluster: b, with: { directory: ./source-manifests/sample, pollMs: 0 } }',
    });
    const runtime = await Runtime.create({ ...twoSources, server: { ...twoSources.server, enabled: false } }, { logger: silentLogger(), metrics: new KernelMetrics() });
    await runtime.start();
    expect(runtime.health().adapters.map((a) => a.name)).toEqual(['gitops-reverser-source-manifests', 'gitops-reverser-source-manifests#2', '@gitops-reverser/bus-memory', 'fixture-in-memory-sink']);
    await runtime.stop();
  });

  it('wrong options, with the key path inside with:', async () => {
    const error = await problemOf({
      bus: '{ use: "@gitops-reverser/bus-memory", with: { capacityPerPartition: 0, capacity: 5 } }',
      sink: '{ use: "gitops-reverser-sink-jsonl", with: {} }',
    });
    const byKey = Object.fromEntries(error.problems.map((p) => [p.keyPath, p]));
    expect(byKey['bus.with.capacityPerPartition']).toMatchObject({
      code: 'GR_ERR_PLUGIN_OPTIONS',
      message: 'must be >= 1 (options of @gitops-reverser/bus-memory)',
      fix: 'use a whole number of messages, at least 1',
    });
    expect(byKey['bus.with.capacity']?.fix).toContain('did you mean "capacityPerPartition"');
    expect(byKey['sink.with.file']).toMatchObject({ message: 'is required (options of gitops-reverser-sink-jsonl)' });
    expect(error.message).toMatch(/test-config\.yaml:4:\d+: bus\.with\.capacityPerPartition: must be >= 1/);
  });

  it('converts only ${VAR} values to the option types; a literal of the wrong type is refused with its key path, the type and the fix', async () => {
    const text = (sink: string, target: string) => `
apiVersion: gitops-reverser/v1alpha2
sources: [ { use: gitops-reverser-source-manifests, cluster: dev, with: { directory: ./source-manifests/sample, pollMs: "\${POLL_MS}" } } ]
bus: { use: "@gitops-reverser/bus-memory", with: { capacityPerPartition: "\${CAPACITY}" } }
sink: ${sink}
targets: [ { name: live, with: ${target} } ]
rules: [ { target: live, resources: ["*"] } ]
`;
    const env = { POLL_MS: '250', CAPACITY: '64', SHARDS: '4', LABEL: '7' };
    const parse = (sink: string, target: string) => parseConfig(text(sink, target), join(repoRoot, 'examples/test-config.yaml'), { env });
    const sink = `{ use: "${join(fixtures, 'in-memory-sink.mjs')}", with: { windowMs: "\${POLL_MS}", label: "\${LABEL}" } }`;
    const assembly = await assemble(parse(sink, '{ prefix: "7", shards: "${SHARDS}" }'), { logger: silentLogger(), metrics: new KernelMetrics() });
    const loaded = await loadAdapters(parse(sink, '{}'));
    expect(loaded.sources[0]?.options).toMatchObject({ pollMs: 250 });
    expect(loaded.bus?.options).toEqual({ capacityPerPartition: 64 });
    expect(loaded.sink?.options).toEqual({ windowMs: 250, label: '7' });
    expect(assembly.targets[0]?.with).toEqual({ prefix: '7', shards: 4 });

    const refused = await problemOf({ sink: '{ use: "gitops-reverser-sink-jsonl", with: { file: 42, delayMs: "5" } }' });
    expect(refused.problems.map((p) => [p.code, p.keyPath, p.message, p.fix])).toEqual([
      ['GR_ERR_PLUGIN_OPTIONS', 'sink.with.file', 'must be string, not a number (options of gitops-reverser-sink-jsonl)', 'quote it: file: "42"'],
      ['GR_ERR_PLUGIN_OPTIONS', 'sink.with.delayMs', 'must be integer, not a string (options of gitops-reverser-sink-jsonl)', 'write it without quotes: delayMs: 5'],
    ]);
    let targetError: unknown;
    await assemble(parse(sink, '{ prefix: 7, shards: "4" }'), { logger: silentLogger(), metrics: new KernelMetrics() }).catch((error: unknown) => (targetError = error));
    expect(targetError).toBeInstanceOf(ConfigValidationError);
    expect((targetError as ConfigValidationError).problems.map((p) => [p.keyPath, p.message, p.fix])).toEqual([
      ['targets[0].with.prefix', 'must be string, not a number (target options of fixture-in-memory-sink)', 'quote it: prefix: "7"'],
      ['targets[0].with.shards', 'must be integer, not a string (target options of fixture-in-memory-sink)', 'write it without quotes: shards: 4'],
    ]);
  });

  it("an option's x-fix is the fix of every problem of that option: missing, wrong type, range, enum, a failed anyOf", async () => {
    const hinted = `{ use: "${join(fixtures, 'options-with-hints.mjs')}"`;
    const missing = await problemOf({ bus: `${hinted}, with: { mode: fast } }` });
    expect(missing.problems).toEqual([
      expect.objectContaining({
        code: 'GR_ERR_PLUGIN_OPTIONS',
        keyPath: 'bus.with.url',
        message: 'is required (options of fixture-options-with-hints)',
        fix: 'add url: to bus.with (the queue endpoint, an https:// URL such as https://queue.example.com)',
      }),
    ]);
    const wrong = await problemOf({ bus: `${hinted}, with: { url: "http://queue", mode: slow, retries: -1, topics: { a: 1 } } }` });
    const fixes = Object.fromEntries(wrong.problems.map((p) => [p.keyPath, p.fix]));
    expect(fixes).toEqual({
      'bus.with.url': 'the queue endpoint, an https:// URL such as https://queue.example.com',
      'bus.with.mode': 'fast (no fsync) or safe (fsync every message)',
      'bus.with.retries': 'how often to retry a publish, e.g. 3',
      'bus.with.topics': 'one topic name or a list of them',
    });
  });

  it('a missing option without x-fix points to the adapter, not to the kernel quickstart', async () => {
    const error = await problemOf({ sink: '{ use: "gitops-reverser-sink-jsonl", with: {} }' });
    expect(error.problems[0]).toMatchObject({ keyPath: 'sink.with.file', fix: 'add file: to sink.with (see the README of gitops-reverser-sink-jsonl)' });
  });
});

describe('resolveAdapter', () => {
  it('follows exports maps with import/default conditions and subpaths', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gr-resolve-'));
    const pkg = join(dir, 'node_modules/@acme/adapters');
    mkdirSync(join(pkg, 'lib'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@acme/adapters', version: '2.0.0', exports: { '.': { import: './lib/main.mjs' }, './sink': { default: './lib/sink.mjs' } } }));
    writeFileSync(join(pkg, 'lib/main.mjs'), '');
    writeFileSync(join(pkg, 'lib/sink.mjs'), '');
    const nested = join(dir, 'deep/er');
    mkdirSync(nested, { recursive: true });
    expect(resolveAdapter('@acme/adapters', nested)).toMatchObject({ found: true, module: { file: join(pkg, 'lib/main.mjs'), packageName: '@acme/adapters', packageVersion: '2.0.0' } });
    expect(resolveAdapter('@acme/adapters/sink', nested)).toMatchObject({ found: true, module: { file: join(pkg, 'lib/sink.mjs') } });
    expect(resolveAdapter('@acme/adapters/hidden', nested).found).toBe(false);
  });

  it('takes the require condition when a package exports nothing else (a CommonJS-only adapter)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gr-resolve-cjs-'));
    const pkg = join(dir, 'node_modules/acme-cjs-sink');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'acme-cjs-sink', version: '1.0.0', exports: { '.': { types: './dist/index.d.ts', require: './dist/index.cjs' } } }));
    writeFileSync(join(pkg, 'dist/index.cjs'), '');
    expect(resolveAdapter('acme-cjs-sink', dir)).toMatchObject({ found: true, module: { file: join(pkg, 'dist/index.cjs'), packageName: 'acme-cjs-sink' } });
  });
});
