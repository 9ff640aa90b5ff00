import type { ServerInfo } from '@nats-io/transport-node';
import { loginMethods } from './connection-options.js';
import type { NatsBusOptions } from './nats-bus-options.js';

/**
 * What leaves the bus open, from the options and what the server said about itself (its INFO at
 * connect): a server that lets anyone in lets anyone read every object and fill the streams; plain
 * TCP shows everything to the network. Each is a sentence for the log and /readyz; empty when none.
 */
export function connectionWarnings(options: Pick<NatsBusOptions, 'user' | 'token' | 'nkeySeedFile' | 'credsFile' | 'tls' | 'allowUnsignedMessages'>, info: ServerInfo | undefined): string[] {
  const warnings: string[] = [];
  const clientCertificate = options.tls?.certFile !== undefined;
  if (loginMethods(options).length === 0 && !clientCertificate) {
    warnings.push('no NATS credentials are configured (user, token, nkeySeedFile, credsFile or a client certificate): whoever reaches the server can read every object on the bus');
  } else if (info && info.auth_required !== true && info.tls_verify !== true) {
    warnings.push('the NATS server does not require credentials: whoever reaches it can read every object on the bus; enable authorization on the server');
  }
  const encrypted = options.tls !== undefined || info?.tls_required === true || info?.tls_available === true;
  if (!encrypted) warnings.push('the connection to NATS is plain TCP: objects and credentials cross the network in clear; set tls (and serve TLS on the server)');
  if (options.allowUnsignedMessages) warnings.push('allowUnsignedMessages is true: messages without a valid MAC are written, so whoever can publish to NATS can write to your repositories');
  return warnings;
}
