import { defineAdapter, grError, packageVersionOf, StoredContentService, StoredHistoryService } from '@gitops-reverser/contract';
import { GitErrorCodes } from './git-error-codes.js';
import { GitStoredHistory } from './git-stored-history.js';
import { DEFAULT_GIT_SINK_OPTIONS, GitSink, parseDuration, type GitEngineName } from './git-sink.js';
import type { ProviderAuth } from './provider-config.js';
import type { SshAuthConfig } from './ssh-auth-config.js';
import { isRemoteUrl, redactUrl, remoteUrlProblem } from './repo-location.js';

// One source of truth for defaults: the schema fills them from DEFAULT_GIT_SINK_OPTIONS.
const defaults = DEFAULT_GIT_SINK_OPTIONS;

export const gitSinkOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    engine: {
      enum: ['isomorphic-git', 'nodegit'],
      default: 'isomorphic-git',
      'x-fix': 'isomorphic-git (pure JavaScript: local paths, http/https) or nodegit (libgit2, optional dependency; SSH providers always use it)',
    },
    commitWindow: {
      anyOf: [
        { type: 'integer', minimum: 0 },
        { type: 'string', pattern: '^\\d+(\\.\\d+)?(ms|s|m)?$' },
      ],
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
    providers: {
      type: 'array',
      minItems: 1,
      'x-fix': 'list the repositories targets write to, e.g. providers: [ { name: origin, url: ./state-repo } ]',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'url'],
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63, 'x-fix': 'use a DNS label, e.g. "origin"' },
          url: { type: 'string', minLength: 1, 'x-fix': 'use a local path (./state-repo), an http(s):// URL, or an SSH URL (ssh://git@host/org/repo.git, git@host:org/repo.git)' },
          allowedBranches: { type: 'array', items: { type: 'string' }, minItems: 1, default: ['**'] },
          auth: {
            type: 'object',
            additionalProperties: false,
            'x-fix': 'give { username, password } or { token } (a username beside a token is optional), from the environment: password: "${GIT_PASSWORD}"',
            properties: {
              username: { type: 'string', pattern: '^\\S+$', 'x-fix': 'a username without spaces, or leave username out' },
              password: { type: 'string', minLength: 1, 'x-fix': 'an empty password sends no credential: set it (password: "${GIT_PASSWORD}") or remove auth' },
              token: { type: 'string', pattern: '^\\S+$', 'x-fix': 'a token without spaces (an empty token sends no credential): token: "${GIT_TOKEN}", or remove auth' },
            },
            dependencies: { password: ['username'] },
            not: { required: ['password', 'token'] },
            'x-not': 'has both password and token: only one of them is sent',
          },
          ssh: {
            type: 'object',
            additionalProperties: false,
            'x-fix': 'set privateKeyFile (or privateKey) and knownHostsFile (or knownHosts); passphrase or passphraseFile for an encrypted key',
            properties: {
              privateKey: { type: 'string', minLength: 1 },
              privateKeyFile: { type: 'string', minLength: 1 },
              passphrase: { type: 'string' },
              passphraseFile: { type: 'string', minLength: 1 },
              knownHosts: { type: 'string', minLength: 1 },
              knownHostsFile: { type: 'string', minLength: 1 },
            },
          },
        },
      },
    },
  },
  required: ['providers'],
} as const;

/** `targets[].with` for this sink: where in which repository a target's files go. */
export const gitTargetOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['provider', 'branch'],
  properties: {
    provider: { type: 'string', minLength: 1, 'x-fix': 'name a provider of sink.with.providers' },
    branch: {
      type: 'string',
      minLength: 1,
      pattern: '^(?!/)(?!.*//)(?!.*\\.\\.)(?!.*@\\{)[^\\s~^:?*\\[\\\\]+(?<!/)(?<!\\.lock)(?<!\\.)$',
      'x-fix': 'use a valid git branch name, e.g. "main"',
    },
    path: { type: 'string', default: '', 'x-fix': 'use a relative folder inside the repository, e.g. "clusters/dev"' },
    prune: { enum: ['Never', 'OnEvent', 'Always'], default: 'OnEvent' },
    layout: { type: 'string', minLength: 1 },
    kustomizations: {
      enum: ['Maintain', 'Create', 'Ignore'],
      default: 'Maintain',
      'x-fix': 'Maintain: keep the resources of existing kustomization.yaml files in step; Create: also give every folder written into one; Ignore: never touch them',
    },
    omitNamespace: { type: 'boolean', default: false },
  },
} as const;

interface RawOptions {
  engine: GitEngineName;
  commitWindow: number | string;
  commitMaxBytes: number;
  committer: { name: string; email: string };
  authorEmailDomain: string;
  messages: { event: string; group: string; seed: string };
  cacheDir?: string;
  remoteTimeoutSeconds: number;
  pushAttempts: number;
  providers: { name: string; url: string; allowedBranches: string[]; auth?: ProviderAuth; ssh?: SshAuthConfig }[];
}

export default defineAdapter<'sink', RawOptions>({
  meta: { name: '@gitops-reverser/sink-git', version: packageVersionOf(import.meta.url), slot: 'sink', kernel: '^0.3.0' },
  optionsSchema: gitSinkOptionsSchema,
  targetOptionsSchema: gitTargetOptionsSchema,
  // Encoders (sanitizer-sops) read what the branch holds through this, to avoid re-encrypting unchanged Secrets;
  // the history, diff and restore commands read past states through the stored history.
  provides: [StoredContentService, StoredHistoryService],
  create: ({ options, config, provide }) => {
    const names = options.providers.map((p) => p.name);
    const twice = names.find((name, i) => names.indexOf(name) !== i);
    if (twice) throw grError(GitErrorCodes.PROVIDER, `provider "${twice}" is defined twice in sink.with.providers`, { fix: 'give each provider a unique name' });
    GitSink.checkEngine(options.engine);
    options.providers.forEach((provider, i) => {
      const optionPath = `providers[${i}].url`;
      const problem = remoteUrlProblem(provider.url);
      if (problem) {
        throw grError(GitErrorCodes.PROVIDER_URL, `the url of provider "${provider.name}" (${redactUrl(provider.url)}) ${problem}`, {
          fix: 'fix the url as described; the password is never shown',
          details: { optionPath },
        });
      }
      // libgit2 0.28 builds its request URLs from the path alone: a query string (a token) would never be sent.
      if (options.engine === 'nodegit' && /^https?:\/\/[^?#]*\?/i.test(provider.url)) {
        throw grError(
          GitErrorCodes.UNSUPPORTED_URL,
          `the url of provider "${provider.name}" (${redactUrl(provider.url)}) has a query string, which the nodegit engine (libgit2) drops from its requests`,
          {
            fix: 'use engine: isomorphic-git (it sends the query string), or move the token to auth: { token }',
            details: { optionPath },
          },
        );
      }
    });
    // Key and known_hosts files, like repositories, are relative to the config file's folder.
    const sshPaths = (ssh: SshAuthConfig): SshAuthConfig => ({
      ...ssh,
      ...(ssh.privateKeyFile ? { privateKeyFile: config.resolvePath(ssh.privateKeyFile) } : {}),
      ...(ssh.passphraseFile ? { passphraseFile: config.resolvePath(ssh.passphraseFile) } : {}),
      ...(ssh.knownHostsFile ? { knownHostsFile: config.resolvePath(ssh.knownHostsFile) } : {}),
    });
    const sink = new GitSink({
      ...DEFAULT_GIT_SINK_OPTIONS,
      ...options,
      // Relative paths (repositories, the clone cache) are relative to the config file's folder.
      providers: options.providers.map((p) => ({ ...p, url: isRemoteUrl(p.url) ? p.url : config.resolvePath(p.url), ...(p.ssh ? { ssh: sshPaths(p.ssh) } : {}) })),
      ...(options.cacheDir ? { cacheDir: config.resolvePath(options.cacheDir) } : {}),
      commitWindowMs: parseDuration(options.commitWindow),
    });
    provide(StoredContentService, sink);
    provide(StoredHistoryService, new GitStoredHistory((partition) => sink.repositoryOf(partition)));
    return sink;
  },
});
