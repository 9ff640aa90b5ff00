import { readFileSync } from 'node:fs';
import { grError, type Logger } from '@gitops-reverser/contract';
import { MIN_TOKEN_LENGTH, TokenFile, type TokenState, tokenProblem } from './token-file.js';
import { WebhookErrorCodes } from './webhook-error-codes.js';

/** How a caller (an API server) proves itself to one cluster's route: a token (inline or in a file), client certificates, or both. */
export interface WebhookAuthOptions {
  readonly token?: string;
  /** Absolute path of a file holding the token; re-read when it changes (a rotated Secret). */
  readonly tokenFile?: string;
  /** Client certificates signed by the listener's `clientCAFile` whose common name is one of these. */
  readonly clientCertificate?: { readonly commonNames: readonly string[] };
}

/** The credentials as the listener checks them on each request. */
export interface RouteAuth {
  /** The bearer token in effect now; a problem instead refuses every token (fail closed). */
  readonly token?: () => TokenState;
  /** The names that bind a client certificate to this route (a CA signs other clients too). */
  readonly clientCertificate?: { readonly commonNames: readonly string[] };
}

/** JSON Schema of a source's `auth:` option, for its descriptor. */
export const webhookAuthSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    token: { type: 'string', minLength: MIN_TOKEN_LENGTH, 'x-fix': 'a random token of 16+ characters, e.g. "${WEBHOOK_TOKEN}"; the API server sends it as users[].user.token' },
    tokenFile: { type: 'string', minLength: 1, 'x-fix': 'a file holding a random token of 16+ characters (a mounted Secret); it is re-read when it changes' },
    clientCertificate: {
      type: 'object',
      additionalProperties: false,
      required: ['commonNames'],
      properties: {
        commonNames: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, 'x-fix': 'the common names of this cluster API server client certificate, e.g. [kube-apiserver-prod]' },
      },
      'x-fix': 'name the common names of this cluster API server client certificate, e.g. { commonNames: [kube-apiserver-prod] }: a CA signs other clients too, and clusters may share a listener',
    },
  },
  default: {},
} as const;

/**
 * Checks a source's `auth:` at create time (so `validate` says it) and resolves its token file:
 * a token (inline or in the file) must be 16+ characters without whitespace, token and tokenFile are
 * exclusive, and at least one way to authenticate is required unless `optional` (a source that may run
 * without caller authentication, documented as such). Throws a GR_ERR_WEBHOOK_AUTH_CONFIG error naming
 * the option.
 */
export function checkedAuth(
  auth: { token?: string; tokenFile?: string; clientCertificate?: { commonNames: readonly string[] } },
  options: { resolvePath: (path: string) => string; clientCAFile?: string; optional?: boolean },
): WebhookAuthOptions {
  const tokenFile = auth.tokenFile ? options.resolvePath(auth.tokenFile) : undefined;
  if (tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(tokenFile, 'utf8');
    } catch (cause) {
      throw grError(WebhookErrorCodes.AUTH_CONFIG, `cannot read auth.tokenFile: ${(cause as Error).message}`, {
        fix: 'check the path (relative to the config file)',
        details: { optionPath: 'auth.tokenFile' },
      });
    }
    const problem = tokenProblem(text);
    if (problem) {
      throw grError(WebhookErrorCodes.AUTH_CONFIG, `the token in auth.tokenFile ${tokenFile} is not usable: ${problem}`, {
        fix: `write a random token of ${MIN_TOKEN_LENGTH}+ characters without whitespace into it, e.g. openssl rand -hex 32`,
        details: { optionPath: 'auth.tokenFile' },
      });
    }
  }
  const inlineProblem = auth.token === undefined ? undefined : tokenProblem(auth.token);
  if (inlineProblem) {
    throw grError(WebhookErrorCodes.AUTH_CONFIG, `auth.token is not usable: ${inlineProblem}`, {
      fix: `a random token of ${MIN_TOKEN_LENGTH}+ characters without whitespace, e.g. "\${WEBHOOK_TOKEN}"`,
      details: { optionPath: 'auth.token' },
    });
  }
  if (auth.token !== undefined && tokenFile !== undefined) {
    throw grError(WebhookErrorCodes.AUTH_CONFIG, 'auth.token and auth.tokenFile are both set', { fix: 'keep one of them', details: { optionPath: 'auth' } });
  }
  if (auth.token === undefined && tokenFile === undefined && !auth.clientCertificate && !options.optional) {
    throw grError(WebhookErrorCodes.AUTH_CONFIG, 'the webhook would accept anyone: no token and no client certificate is configured', {
      fix: 'set auth.token (or auth.tokenFile), or auth.clientCertificate with tls.clientCAFile',
      details: { optionPath: 'auth' },
    });
  }
  if (auth.clientCertificate && !options.clientCAFile) {
    throw grError(WebhookErrorCodes.AUTH_CONFIG, 'auth.clientCertificate needs tls.clientCAFile to check the certificates against', { fix: 'set tls.clientCAFile', details: { optionPath: 'tls' } });
  }
  return {
    ...(auth.token !== undefined ? { token: auth.token } : {}),
    ...(tokenFile !== undefined ? { tokenFile } : {}),
    ...(auth.clientCertificate ? { clientCertificate: { commonNames: [...auth.clientCertificate.commonNames] } } : {}),
  };
}

/**
 * The credentials of one route as the listener checks them: a token file is watched (a rotated token
 * takes effect; one that became unusable accepts nothing, said once in the log), an unusable inline
 * token accepts nothing.
 */
export function routeAuth(options: WebhookAuthOptions, logger: Logger | undefined, where: string): RouteAuth {
  const { token, tokenFile, clientCertificate } = options;
  let current: (() => TokenState) | undefined;
  if (tokenFile !== undefined) {
    const file = new TokenFile(tokenFile, (state) => {
      if ('problem' in state) {
        logger?.error({ code: WebhookErrorCodes.AUTH_CONFIG }, `${WebhookErrorCodes.AUTH_CONFIG}: ${state.problem}; requests to ${where} are refused until it holds a usable token`);
      } else logger?.info({}, `the token of ${where} changed (${tokenFile}); the new one is in effect`);
    });
    current = () => file.current();
  } else if (token !== undefined) {
    const problem = tokenProblem(token);
    const state: TokenState = problem ? { problem: `auth.token is not usable: ${problem}` } : { token: token.trim() };
    current = () => state;
  }
  return { ...(current ? { token: current } : {}), ...(clientCertificate ? { clientCertificate } : {}) };
}
