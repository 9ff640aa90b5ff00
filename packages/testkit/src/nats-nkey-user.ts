import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createUser } from '@nats-io/nkeys';

/** A NATS nkey user: its seed file (what the client keeps) and public key (what the server lists). */
export interface NatsNkeyUser {
  readonly seedFile: string;
  readonly publicKey: string;
}

/** A new nkey user, its seed written to `<dir>/<name>.nk` (mode 0600), as `nk -gen user` would. */
export function createNatsNkeyUser(dir: string, name: string): NatsNkeyUser {
  const user = createUser();
  const seedFile = join(dir, `${name}.nk`);
  writeFileSync(seedFile, `${new TextDecoder().decode(user.getSeed())}\n`, { mode: 0o600 });
  return { seedFile, publicKey: user.getPublicKey() };
}
