import { describe, expect, it } from 'vitest';
import * as packageEntry from '../src/index.js';

// What integrators may import is the package's contract: the descriptor, the option types (erased at
// run time) and the error codes. Everything else is internal and may change with any release.
describe('public surface of @gitops-reverser/sink-git', () => {
  it('the package entry exports the descriptor, GitErrorCodes and GitHistoryErrorCodes, nothing else at run time', () => {
    expect(Object.keys(packageEntry).sort()).toEqual(['GitErrorCodes', 'GitHistoryErrorCodes', 'default']);
    expect(packageEntry.default.meta.name).toBe('@gitops-reverser/sink-git');
  });

  it('the ./internal entry (benchmarks and tests of this repository) resolves through the package exports', async () => {
    const internal = await import('@gitops-reverser/sink-git/internal');
    expect(Object.keys(internal).sort()).toEqual(['DEFAULT_GIT_SINK_OPTIONS', 'GitSink', 'PathLayout', 'encodeObject', 'nodegitAvailable', 'serializeCommit', 'serializeTree']);
  });
});
