// `@gitops-reverser/sink-git/internal`: what this repository's benchmarks (and other packages' benchmarks
// and tests) use of sink-git's internals. No stability promise: it changes with them.
export { GitSink, DEFAULT_GIT_SINK_OPTIONS } from './git-sink.js';
export { PathLayout } from './path-layout.js';
export { encodeObject, serializeCommit, serializeTree } from './git-objects.js';
export { nodegitAvailable } from './nodegit-loader.js';
