import type { Normalizer } from '@gitops-reverser/contract';
import type { ConfigProblem } from '../config/config-problem.js';
import type { GitopsReverserConfig } from '../config/config-types.js';
import { ErrorCodes } from '../errors.js';

/**
 * `credentials: encrypt` needs an encoder that encrypts values by path (`encryptsPaths`): without
 * one, every object holding a credential would be refused at run time, so `validate` (and a reload)
 * says it first.
 */
export function credentialEncoderProblems(config: Pick<GitopsReverserConfig, 'credentials' | 'rules'>, normalizers: readonly { readonly instance: Normalizer }[]): ConfigProblem[] {
  if (normalizers.some(({ instance }) => instance.phase === 'encode' && instance.encryptsPaths === true)) return [];
  const asking = [...(config.credentials.mode === 'encrypt' ? ['credentials.mode'] : []), ...config.rules.flatMap((rule) => (rule.credentials === 'encrypt' ? [`${rule.keyPath}.credentials`] : []))];
  return asking.map((keyPath) => ({
    code: ErrorCodes.CREDENTIAL_NO_ENCODER,
    keyPath,
    message: 'credentials: encrypt needs an encoder that encrypts values by path, and none is configured',
    fix: 'add @gitops-reverser/sanitizer-sops under normalizers (it encrypts the values the gate names), or use credentials: redact or refuse',
  }));
}
