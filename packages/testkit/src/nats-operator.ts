import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAccount, createOperator, createUser, type KeyPair } from '@nats-io/nkeys';

/** A user of a NATS account: its `.creds` file (JWT plus nkey seed) and public key. */
export interface NatsCredsUser {
  readonly credsFile: string;
  readonly publicKey: string;
}

const UNLIMITED = -1;

function base64url(value: string | Uint8Array): string {
  return Buffer.from(value).toString('base64url');
}

/**
 * A NATS operator with one account, minting JWTs the way `nsc` does (NATS JWT v2: header
 * `ed25519-nkey`, claims signed by the issuer's nkey), for a nats-server in operator mode with a
 * memory resolver. Tests use it for `.creds` file authentication without the `nsc` tool.
 */
export class NatsOperator {
  private readonly operator: KeyPair = createOperator();
  private readonly account: KeyPair = createAccount();
  /** The server's own account (JetStream needs one in operator mode); nobody logs in to it. */
  private readonly system: KeyPair = createAccount();

  /** The operator's JWT (self-signed). */
  get operatorJwt(): string {
    const key = this.publicKeyOf(this.operator);
    return this.sign(this.operator, { sub: key, name: 'gr-test-operator', nats: { type: 'operator', version: 2 } });
  }

  get accountPublicKey(): string {
    return this.publicKeyOf(this.account);
  }

  /** The account's JWT, signed by the operator: JetStream and everything else unlimited. */
  get accountJwt(): string {
    return this.accountClaims(this.account, 'gr-test-account', true);
  }

  private accountClaims(account: KeyPair, name: string, jetstream: boolean): string {
    return this.sign(this.operator, {
      sub: this.publicKeyOf(account),
      name,
      nats: {
        limits: {
          subs: UNLIMITED,
          data: UNLIMITED,
          payload: UNLIMITED,
          imports: UNLIMITED,
          exports: UNLIMITED,
          wildcards: true,
          conn: UNLIMITED,
          leaf: UNLIMITED,
          ...(jetstream ? { mem_storage: UNLIMITED, disk_storage: UNLIMITED, streams: UNLIMITED, consumer: UNLIMITED } : {}),
        },
        default_permissions: { pub: {}, sub: {} },
        type: 'account',
        version: 2,
      },
    });
  }

  /** A new user of the account, its `.creds` file written to `dir`. */
  user(dir: string, name: string): NatsCredsUser {
    const user = createUser();
    const publicKey = this.publicKeyOf(user);
    const jwt = this.sign(this.account, { sub: publicKey, name, nats: { pub: {}, sub: {}, subs: UNLIMITED, data: UNLIMITED, payload: UNLIMITED, type: 'user', version: 2 } });
    const credsFile = join(dir, `${name}.creds`);
    const seed = new TextDecoder().decode(user.getSeed());
    writeFileSync(credsFile, `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`, { mode: 0o600 });
    return { credsFile, publicKey };
  }

  /** The server config lines for this operator: trust it, and know its account from memory. */
  serverConfig(): string {
    const system = this.publicKeyOf(this.system);
    return [
      `operator: "${this.operatorJwt}"`,
      `system_account: ${system}`,
      'resolver: MEMORY',
      `resolver_preload: { ${this.accountPublicKey}: "${this.accountJwt}", ${system}: "${this.accountClaims(this.system, 'SYS', false)}" }`,
    ].join('\n');
  }

  private publicKeyOf(pair: KeyPair): string {
    return pair.getPublicKey();
  }

  private sign(issuer: KeyPair, claims: Record<string, unknown>): string {
    const body: Record<string, unknown> = { iat: Math.floor(Date.now() / 1000), iss: this.publicKeyOf(issuer), ...claims };
    // A unique id from the claims' hash, as nsc gives one (the server does not check how it is made).
    body['jti'] = createHash('sha512-256').update(JSON.stringify(body)).digest('base64url').toUpperCase();
    const head = `${base64url(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }))}.${base64url(JSON.stringify(body))}`;
    return `${head}.${base64url(issuer.sign(new TextEncoder().encode(head)))}`;
  }
}
