import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeSinkConformance } from '@gitops-reverser/contract/conformance';
import { DEFAULT_GIT_SINK_OPTIONS, GitSink } from '../src/git-sink.js';
import { contextFor, git, tempDir } from './helpers.js';

describeSinkConformance('sink-git (local repository)', {
  async setup() {
    const dir = tempDir();
    const repo = join(dir, 'repo');
    const context = contextFor('providers: [ { name: origin, url: ./repo } ]\ntargets: [ { name: live, provider: origin, branch: main, path: state } ]\n', dir);
    const commits = () => {
      if (!existsSync(repo)) return 0;
      try {
        return Number(git(repo, 'rev-list', '--count', 'main').trim());
      } catch {
        return 0; // no branch yet
      }
    };
    return {
      sink: new GitSink({ ...DEFAULT_GIT_SINK_OPTIONS, providers: context.providers }),
      target: context.targetConfigs[0] as (typeof context.targetConfigs)[number],
      // A redelivered batch must not make another commit.
      countWrites: async () => commits(),
      teardown: async () => {
        // Whatever was applied must be a valid repository.
        if (commits() > 0) git(repo, 'fsck', '--strict');
      },
    };
  },
});
