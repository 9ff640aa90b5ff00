import { defineAdapter, packageVersionOf } from '@gitops-reverser/kernel';
import { DEFAULT_GIT_SINK_OPTIONS, GitSink, parseDuration } from './git-sink.js';

// One source of truth for defaults: the schema fills them from DEFAULT_GIT_SINK_OPTIONS.
const defaults = DEFAULT_GIT_SINK_OPTIONS;

export const gitSinkOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    engine: { enum: ['isomorphic-git'], default: 'isomorphic-git', 'x-fix': 'isomorphic-git is the engine available today (local paths and http/https remotes)' },
    commitWindow: {
      anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^\\d+(\\.\\d+)?(ms|s|m)?$' }],
      default: defaults.commitWindowMs,
      'x-fix': 'use milliseconds (500) or a duration ("500ms", "5s", "1m"); 0 makes one commit per event',
    },
    commitMaxBytes: { type: 'integer', minimum: 1, default: defaults.commitMaxBytes },
    committer: {
      type: 'object',
      additionalProperties: false,
      properties: { name: { type: 'string', minLength: 1, default: defaults.committer.name }, email: { type: 'string', minLength: 3, default: defaults.committer.email } },
      default: {},
    },
    authorEmailDomain: { type: 'string', minLength: 1, default: defaults.authorEmailDomain },
    messages: {
      type: 'object',
      additionalProperties: false,
      properties: {
        event: { type: 'string', minLength: 1, default: defaults.messages.event },
        group: { type: 'string', minLength: 1, default: defaults.messages.group },
        seed: { type: 'string', minLength: 1, default: defaults.messages.seed },
      },
      default: {},
    },
    cacheDir: { type: 'string', minLength: 1 },
    remoteTimeoutSeconds: { type: 'number', exclusiveMinimum: 0, default: defaults.remoteTimeoutSeconds },
    pushAttempts: { type: 'integer', minimum: 1, default: defaults.pushAttempts },
  },
} as const;

interface RawOptions {
  engine: 'isomorphic-git';
  commitWindow: number | string;
  commitMaxBytes: number;
  committer: { name: string; email: string };
  authorEmailDomain: string;
  messages: { event: string; group: string; seed: string };
  cacheDir?: string;
  remoteTimeoutSeconds: number;
  pushAttempts: number;
}

export default defineAdapter<'sink', RawOptions>({
  meta: { name: '@gitops-reverser/sink-git', version: packageVersionOf(import.meta.url), slot: 'sink', kernel: '^0.1.0' },
  optionsSchema: gitSinkOptionsSchema,
  create: ({ options }) =>
    new GitSink({
      ...DEFAULT_GIT_SINK_OPTIONS,
      ...options,
      commitWindowMs: parseDuration(options.commitWindow),
    }),
});
