import { join } from 'node:path';
import { memoryLogger } from '@gitops-reverser/contract/conformance';
import type { GitHttpServer } from '@gitops-reverser/testkit';
import { DEFAULT_GIT_SINK_OPTIONS, type GitEngineName, GitSink } from '../src/git-sink.js';
import { contextFor, items, tempDir } from './helpers.js';

/** The credentials of the git server the remote suites start: `new GitHttpServer({ credentials: WRITER })`. */
export const WRITER = { username: 'writer', password: 's3cret' } as const;

/**
 * A git sink on a fresh repository `state` of the server, one target `live` at clusters/dev (with
 * `targetOptions` appended to its options), its log kept in memory; `apply` sends it one batch.
 */
export function remoteSink(server: GitHttpServer, options: { prefix: string; targetOptions?: string; engine?: GitEngineName }) {
  const dir = tempDir(options.prefix);
  server.createRepo('state');
  const context = contextFor(
    `providers:
  - { name: origin, url: "${server.url('state')}", auth: { username: ${WRITER.username}, password: ${WRITER.password} } }
targets: [ { name: live, provider: origin, branch: main, path: clusters/dev${options.targetOptions ?? ''} } ]
`,
    dir,
  );
  const logger = memoryLogger();
  const sink = new GitSink({
    ...DEFAULT_GIT_SINK_OPTIONS,
    ...(options.engine ? { engine: options.engine } : {}),
    providers: context.providers,
    cacheDir: join(dir, 'cache'),
    remoteTimeoutSeconds: 10,
    pushAttempts: 5,
  });
  const partition = context.partition('live');
  const apply = (...messages: Parameters<typeof items>) => sink.apply({ partition, items: items(...messages) });
  return { dir, sink, context: { ...context, logger }, logger, apply, remote: server.repoPath('state') };
}
