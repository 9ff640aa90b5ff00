import { readFileSync } from 'node:fs';
import { grError } from '@gitops-reverser/contract';
import { type ConnectionOptions, credsAuthenticator, nkeyAuthenticator } from '@nats-io/transport-node';
import { NatsBusErrorCodes } from './nats-bus-error-codes.js';
import type { NatsBusOptions } from './nats-bus-options.js';

type Credentials = Pick<NatsBusOptions, 'user' | 'password' | 'token' | 'nkeySeedFile' | 'credsFile' | 'tls'>;

/** How this client proves who it is to the server, by option name; empty when it does not. */
export function loginMethods(options: Credentials): string[] {
  return [
    ...(options.user !== undefined ? ['user'] : []),
    ...(options.token !== undefined ? ['token'] : []),
    ...(options.nkeySeedFile !== undefined ? ['nkeySeedFile'] : []),
    ...(options.credsFile !== undefined ? ['credsFile'] : []),
  ];
}

/**
 * Refuses credentials that cannot work, before anything connects (so `validate` names them): two
 * ways to log in at once, a password without its user, half a client certificate, and files that
 * cannot be read (they are read again at each connect, so a rotated file is picked up).
 */
export function checkCredentials(options: Credentials): void {
  const methods = loginMethods(options);
  if (methods.length > 1) {
    throw grError(NatsBusErrorCodes.AUTH_CONFIG, `more than one way to log in to NATS is configured: ${methods.join(', ')}`, {
      fix: 'keep one of user/password, token, nkeySeedFile and credsFile',
      details: { optionPath: methods[1] },
    });
  }
  if (options.password !== undefined && options.user === undefined) {
    throw grError(NatsBusErrorCodes.AUTH_CONFIG, 'password is set without user', { fix: 'set user as well', details: { optionPath: 'password' } });
  }
  const tls = options.tls;
  if (tls && (tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw grError(NatsBusErrorCodes.AUTH_CONFIG, 'a client certificate needs both tls.certFile and tls.keyFile', {
      fix: 'set both, or neither',
      details: { optionPath: tls.certFile === undefined ? 'tls.certFile' : 'tls.keyFile' },
    });
  }
  for (const [optionPath, file] of [
    ['nkeySeedFile', options.nkeySeedFile],
    ['credsFile', options.credsFile],
    ['tls.caFile', tls?.caFile],
    ['tls.certFile', tls?.certFile],
    ['tls.keyFile', tls?.keyFile],
  ] as const) {
    if (file !== undefined) readable(file, optionPath);
  }
}

/** The connect options for TLS and login; files are read at each (re)connect. */
export function connectionOptions(options: Credentials): Partial<ConnectionOptions> {
  const { tls } = options;
  return {
    ...(tls ? { tls: { ...(tls.caFile ? { caFile: tls.caFile } : {}), ...(tls.certFile ? { certFile: tls.certFile } : {}), ...(tls.keyFile ? { keyFile: tls.keyFile } : {}) } } : {}),
    ...(options.user !== undefined ? { user: options.user, pass: options.password ?? '' } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.nkeySeedFile !== undefined ? { authenticator: nkeyAuthenticator(() => new TextEncoder().encode(readable(options.nkeySeedFile as string, 'nkeySeedFile').trim())) } : {}),
    ...(options.credsFile !== undefined ? { authenticator: credsAuthenticator(() => new TextEncoder().encode(readable(options.credsFile as string, 'credsFile'))) } : {}),
  };
}

function readable(file: string, optionPath: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw grError(NatsBusErrorCodes.AUTH_CONFIG, `cannot read ${optionPath} ${file}: ${(cause as Error).message}`, {
      fix: 'check the path (relative to the config file) and that it is readable',
      details: { optionPath },
    });
  }
}
