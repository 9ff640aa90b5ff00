import { describeSinkConformance } from '@gitops-reverser/kernel/conformance';
import { DEFAULT_GIT_SINK_OPTIONS, GitSink } from '../src/index.js';
import { contextFor, git, tempDir } from './helpers.js';
import { expect } from 'vitest';
import { join } from 'node:path';

describeSinkConformance('sink-git (local repository)', {
  async setup() {
    const dir = tempDir();
    const context = contextFor('cluster: { id: c }\nproviders: [ { name: origin, url: ./repo } ]\ntargets: [ { name: live, provider: origin, branch: main, path: state } ]\nrules: [ { target: live, resources: ["*"] } ]\n', dir);
    const sink = new GitSink(DEFAULT_GIT_SINK_OPTIONS);
    await sink.start(context);
    return {
      sink,
      partitionKey: context.routes.route('live')?.partitionKey as string,
      target: 'live',
      teardown: async () => {
        // Whatever was applied must be a valid repository.
        git(join(dir, 'repo'), 'fsck', '--strict');
        expect(sink.health().state).toBe('ready');
        await sink.stop();
      },
    };
  },
});
