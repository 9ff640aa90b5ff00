import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject, NormalizeContext, Normalizer } from '@gitops-reverser/contract';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigValidationError, type Runtime } from '../src/index.js';
import { configMapEvent, inProcessRuntime, until } from './support/in-process-runtime.js';

// The credential gate in the pipeline: per target, the strictest mode of the rules selecting the
// object decides; a refusal is a refusal like the others (a snapshot holding it ends partial).

const token = () => `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36)}`;
const dir = mkdtempSync(join(tmpdir(), 'gr-gate-'));
writeFileSync(join(dir, 'redaction.key'), 'r'.repeat(40));

/** An encoder that honours encryptPaths by replacing each named value (a stand-in for sanitizer-sops, which its own tests cover). */
class PathEncoder implements Normalizer {
  readonly name = 'path-encoder';
  readonly phase = 'encode' as const;
  readonly encryptsPaths = true;
  seen: (readonly (readonly (string | number)[])[] | undefined)[] = [];
  constructor(private readonly honest = true) {}
  normalize(object: KubeObject, context: NormalizeContext): KubeObject {
    this.seen.push(context.encryptPaths);
    if (!context.encryptPaths || !this.honest) return object;
    const copy = structuredClone(object) as Record<string, unknown>;
    for (const path of context.encryptPaths) {
      const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((v, k) => v[k] as Record<string | number, unknown>, copy);
      parent[path[path.length - 1] as string] = 'ENC[test]';
    }
    return copy as KubeObject;
  }
}

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.stop('test done');
  runtime = undefined;
});

async function start(rules: string, extra = '', normalizers?: Normalizer[]) {
  const started = await inProcessRuntime(`targets: [ { name: a }, { name: b } ]\n${extra}rules:\n${rules}`, { baseDir: dir, ...(normalizers ? { normalizers } : {}) });
  runtime = started.runtime;
  return started;
}

const data = (change: { event: { object?: KubeObject } }) => change.event.object?.['data'] as Record<string, string>;

describe('credential gate in the pipeline', () => {
  it('warn (the default) writes and counts; off writes silently', async () => {
    const { context, sink, settle, counter } = await start('  - { target: a, resources: [configmaps] }\n  - { target: b, resources: [configmaps], credentials: off }');
    const secret = token();
    await context.emit(configMapEvent('w', { data: { GITHUB_TOKEN: secret } }));
    await settle();
    expect(sink.changes.map((c) => [c.target, data(c)['GITHUB_TOKEN']]).sort()).toEqual([
      ['a', secret],
      ['b', secret],
    ]);
    expect(await counter('gitops_reverser_credentials_found_total', { target: 'a', rule: 'github-token', mode: 'warn' })).toBe(1);
    expect(await counter('gitops_reverser_credentials_found_total', { target: 'b' })).toBe(0);
  });

  it('refuse: nothing written to that target, a refusal with its code, and a snapshot holding it ends partial', async () => {
    const { context, sink, settle, counter } = await start('  - { target: a, resources: [configmaps], credentials: refuse }\n  - { target: b, resources: [configmaps] }');
    const snapshot = context.beginSnapshot();
    await snapshot.emit(configMapEvent('r', { data: { note: `use ${token()} here` } }));
    await snapshot.emit(configMapEvent('clean', { data: { color: 'blue' } }));
    await snapshot.complete();
    await settle();
    expect(sink.log.sort()).toEqual(['a upsert clean', 'b upsert clean', 'b upsert r']);
    expect(sink.ends.sort((x, y) => x.target.localeCompare(y.target))).toEqual([
      { target: 'a', partial: true },
      { target: 'b', partial: false },
    ]);
    expect(await counter('gitops_reverser_events_refused_total', { adapter: 'credential-gate', code: 'GR_ERR_CREDENTIAL_FOUND' })).toBe(1);
  });

  it('redact: the value becomes a keyed marker, the same on every write; the no-op check still holds', async () => {
    const { context, sink, settle } = await start('  - { target: a, resources: [configmaps], credentials: redact }', 'credentials: { redactionKeyFile: ./redaction.key }\n');
    const secret = token();
    await context.emit(configMapEvent('x', { data: { TOKEN: secret, other: 'kept' } }));
    await context.emit(configMapEvent('x', { data: { TOKEN: secret, other: 'kept' } }));
    await settle();
    expect(sink.changes).toHaveLength(1);
    expect(data(sink.changes[0] as never)).toEqual({ TOKEN: expect.stringMatching(/^REDACTED:sha256-hmac:[0-9a-f]{12}$/), other: 'kept' });
    expect(JSON.stringify(sink.changes)).not.toContain(secret);
  });

  it('encrypt: the encoder that encrypts by path gets exactly the paths; one that leaves them readable makes it a refusal', async () => {
    const encoder = new PathEncoder();
    const { context, sink, settle } = await start('  - { target: a, resources: [configmaps], credentials: encrypt }', '', [encoder]);
    const secret = token();
    await context.emit(configMapEvent('e', { data: { TOKEN: secret, other: 'kept' } }));
    await settle();
    expect(encoder.seen).toEqual([[['data', 'TOKEN']]]);
    expect(data(sink.changes[0] as never)).toEqual({ TOKEN: 'ENC[test]', other: 'kept' });
    await runtime?.stop('next');

    const dishonest = await start('  - { target: a, resources: [configmaps], credentials: encrypt }', '', [new PathEncoder(false)]);
    await dishonest.context.emit(configMapEvent('e', { data: { TOKEN: token() } }));
    await dishonest.settle();
    expect(dishonest.sink.changes).toEqual([]);
    expect(await dishonest.counter('gitops_reverser_events_refused_total', { adapter: 'credential-gate', code: 'GR_ERR_CREDENTIAL_UNENCRYPTED' })).toBe(1);
  });

  it('encrypt without an encoder that can is a config problem (validate and start say it)', async () => {
    const error = await start('  - { target: a, resources: [configmaps], credentials: encrypt }').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect((error as ConfigValidationError).problems[0]).toMatchObject({ code: 'GR_ERR_CREDENTIAL_NO_ENCODER', keyPath: 'rules[0].credentials' });
  });

  it('the strictest mode of the rules selecting the object for a target wins; each target on its own', async () => {
    const { context, sink, settle } = await start(
      `  - { target: a, resources: [configmaps], credentials: warn }
  - { target: a, resources: [configmaps], objectSelector: { matchLabels: { tier: secure } }, credentials: refuse }
  - { target: b, resources: [configmaps], credentials: warn }`,
    );
    await context.emit(configMapEvent('plain', { data: { TOKEN: token() } }));
    await context.emit(configMapEvent('secure', { labels: { tier: 'secure' }, data: { TOKEN: token() } }));
    await settle();
    await until(() => sink.log.length >= 3, 'the writes');
    expect(sink.log.sort()).toEqual(['a upsert plain', 'b upsert plain', 'b upsert secure']);
  });
});
