export { default } from './descriptor.js';
export type { GitSinkOptions, GitEngineName } from './git-sink.js';
export type { GitTargetOptions, KustomizationMode, PruneMode } from './git-target.js';
export type { ProviderConfig, ProviderAuth } from './provider-config.js';
export type { SshAuthConfig } from './ssh-auth-config.js';
export type { Identity, MessageTemplates } from './commit-message.js';
export { GitErrorCodes } from './git-error-codes.js';
export { GitHistoryErrorCodes } from './history-error-codes.js';
