import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AdapterHealth, Source, SourceContext } from '@gitops-reverser/contract';
import { ConfigValidationError, createLogger, createRuntime, type Runtime } from '@gitops-reverser/kernel';
import { GitHttpServer } from '@gitops-reverser/testkit';
import { afterAll, beforeAll, describe, expect, it, beforeEach } from 'vitest';
import { tempDir, engineUnderTest, testEngines, useEngine } from './helpers.js';

// Credentials never leave the config: not in metric labels, /readyz, logs, error messages or the
// clone's .git/config; URLs that cannot be parsed are refused instead of being used as raw text.

let server: GitHttpServer;
beforeAll(async () => {
  server = new GitHttpServer({ credentials: { username: 'writer', password: 's3cret' } });
  await server.start();
});
afterAll(async () => server.stop());

class OneShotSource implements Source {
  context: SourceContext | undefined;
  async start(context: SourceContext) {
    this.context = context;
  }
  async stop() {}
  health(): AdapterHealth {
    return { state: 'ready' };
  }
}

function configWith(url: string, cacheDir: string) {
  return {
    server: { port: 0 },
    // The retried push never succeeds here: do not wait the default 25 s for the bus to drain.
    shutdown: { timeoutSeconds: 1 },
    sink: { use: '@gitops-reverser/sink-git', with: { engine: engineUnderTest(), cacheDir, remoteTimeoutSeconds: 5, providers: [{ name: 'origin', url }] } },
    targets: [{ name: 'live', with: { provider: 'origin', branch: 'main', path: 'x' } }],
    rules: [{ target: 'live', resources: ['configmaps'] }],
  };
}

describe.each(testEngines())('%s engine', (engine) => {
  beforeEach(() => useEngine(engine));

  describe('credentials in provider URLs', () => {
    it('a password with an unencoded "#" is refused with how to encode it, and never echoed', async () => {
      const dir = tempDir();
      const error = await createRuntime({
        config: configWith('https://bot:p#ss-word@git.example.com/state.git', join(dir, 'cache')),
        baseDir: dir,
        adapters: { sources: [{ cluster: 'dev', instance: new OneShotSource() }] },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigValidationError);
      const problem = (error as ConfigValidationError).problems[0];
      expect(problem).toMatchObject({ code: 'GR_ERR_GIT_PROVIDER_URL', keyPath: 'sink.with.providers[0].url' });
      expect(problem?.message).toContain('https://***@git.example.com/state.git');
      expect(problem?.message).toContain('# as %23');
      expect((error as Error).message).not.toContain('ss-word');
    });

    it('an invalid percent-escape (%ZZ) in a provider URL is refused at load with its key path, and never echoed', async () => {
      const dir = tempDir();
      for (const url of ['https://bot:pa%ZZss@git.example.com/state.git', 'https://git.example.com/st%ZZate.git', 'https://git.example.com/state.git?private_token=t%Z1']) {
        const error = await createRuntime({
          config: configWith(url, join(dir, 'cache')),
          baseDir: dir,
          adapters: { sources: [{ cluster: 'dev', instance: new OneShotSource() }] },
        }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigValidationError);
        expect((error as ConfigValidationError).problems).toEqual([
          expect.objectContaining({ code: 'GR_ERR_GIT_PROVIDER_URL', keyPath: 'sink.with.providers[0].url', message: expect.stringContaining('does not start a percent-escape') }),
        ]);
        expect((error as Error).message).not.toMatch(/pa%ZZss|t%Z1/);
      }
    });

    it("a token in the URL's query string (?private_token=...) is sent with every request, and shown nowhere", async () => {
      const tokenServer = new GitHttpServer({ queryToken: { name: 'private_token', value: 'q7ery-t0ken' } });
      await tokenServer.start();
      try {
        tokenServer.createRepo('state');
        const dir = tempDir();
        const cacheDir = join(dir, 'cache');
        const url = `${tokenServer.url('state')}?private_token=q7ery-t0ken`;
        if (engine === 'nodegit') {
          // libgit2 drops a URL's query string from its requests: refused at load instead of failing later.
          const error = await createRuntime({ config: configWith(url, cacheDir), baseDir: dir, adapters: { sources: [{ cluster: 'dev', instance: new OneShotSource() }] } }).catch((e: unknown) => e);
          expect((error as ConfigValidationError).problems).toEqual([expect.objectContaining({ code: 'GR_ERR_GIT_UNSUPPORTED_URL', keyPath: 'sink.with.providers[0].url' })]);
          expect((error as Error).message).not.toContain('q7ery-t0ken');
          return;
        }
        let logs = '';
        const destination = new Writable({
          write(chunk, _encoding, done) {
            logs += String(chunk);
            done();
          },
        });
        const source = new OneShotSource();
        const runtime = await createRuntime({
          config: configWith(url, cacheDir),
          baseDir: dir,
          logger: createLogger('debug', destination),
          serve: true,
          adapters: { sources: [{ cluster: 'dev', instance: source }] },
        });
        await runtime.start();
        await source.context?.emit({
          identity: { clusterId: 'dev', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'default', name: 'a' },
          operation: 'upsert',
          created: true,
          object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' } },
          resourceVersion: '1',
          observedAt: new Date().toISOString(),
          phase: 'live',
          observedBy: 'watch',
        });
        const repo = tokenServer.repoPath('state');
        const pushed = () => {
          try {
            return execFileSync('git', ['-C', repo, 'log', '--format=%s', 'main'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
          } catch {
            return '';
          }
        };
        for (let i = 0; i < 300 && pushed() === ''; i++) await new Promise((r) => setTimeout(r, 20));
        expect(pushed()).toBe('[CREATE] v1/configmaps/default/a');
        const base = `http://127.0.0.1:${runtime.port}`;
        const readyz = await (await fetch(`${base}/readyz`)).text();
        const metrics = await (await fetch(`${base}/metrics`)).text();
        await runtime.stop();
        expect(metrics).toContain(`partition="${tokenServer.url('state')}#main"`);
        const clone = readdirSync(cacheDir).find((name) => name.endsWith('.git')) as string;
        const stored = readdirSync(join(cacheDir, clone), { recursive: true, withFileTypes: true })
          .filter((entry) => entry.isFile() && !entry.parentPath.includes('objects'))
          .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'))
          .join('\n');
        for (const [where, text] of [
          ['/readyz', readyz],
          ['/metrics', metrics],
          ['logs', logs],
          ['the clone (config, refs, FETCH_HEAD)', stored],
        ] as const) {
          expect({ where, leaked: text.includes('q7ery-t0ken') }).toEqual({ where, leaked: false });
        }
      } finally {
        await tokenServer.dispose();
      }
    });

    it('a refused password appears in no metric label, /readyz body, log line or .git/config; the clone is private', async () => {
      server.createRepo('state');
      const dir = tempDir();
      const cacheDir = join(dir, 'cache');
      const url = server.url('state').replace('http://', 'http://writer:n0t%23the-s3cret@');
      let logs = '';
      const destination = new Writable({
        write(chunk, _encoding, done) {
          logs += String(chunk);
          done();
        },
      });
      const source = new OneShotSource();
      const runtime: Runtime = await createRuntime({
        config: configWith(url, cacheDir),
        baseDir: dir,
        logger: createLogger('debug', destination),
        serve: true,
        adapters: { sources: [{ cluster: 'dev', instance: source }] },
      });
      await runtime.start();
      await source.context?.emit({
        identity: { clusterId: 'dev', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'default', name: 'a' },
        operation: 'upsert',
        created: true,
        object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' } },
        resourceVersion: '1',
        observedAt: new Date().toISOString(),
        phase: 'live',
        observedBy: 'watch',
      });
      const base = `http://127.0.0.1:${runtime.port}`;
      let readyz = '';
      for (let i = 0; i < 200 && !readyz.includes('GR_ERR_GIT_AUTH'); i++) {
        readyz = await (await fetch(`${base}/readyz`)).text();
        await new Promise((r) => setTimeout(r, 20));
      }
      const metrics = await (await fetch(`${base}/metrics`)).text();
      await runtime.stop();
      expect(readyz).toContain('GR_ERR_GIT_AUTH');
      expect(metrics).toContain(`partition="${server.url('state')}#main"`);
      const clone = readdirSync(cacheDir).find((name) => name.endsWith('.git')) as string;
      const gitConfig = readFileSync(join(cacheDir, clone, 'config'), 'utf8');
      expect(gitConfig).toContain(`url = ${server.url('state')}`);
      for (const [where, text] of [
        ['/readyz', readyz],
        ['/metrics', metrics],
        ['logs', logs],
        ['.git/config', gitConfig],
      ] as const) {
        expect({ where, leaked: /n0t|%23the|#the|s3cret/.test(text) }).toEqual({ where, leaked: false });
      }
      expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
      expect(statSync(join(cacheDir, clone)).mode & 0o777).toBe(0o700);
    });
  });
});
