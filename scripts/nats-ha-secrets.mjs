// `npm run nats:ha-secrets [-- <dir>]`: the files examples/ha/replica.yaml reads, for a local try
// (never for real data): a CA, nats-server's certificate, the replicas' client certificate, their
// nkey seed, the message key, and a nats-server config serving TLS only to that nkey user with a
// certificate from that CA. Kept out of git (examples/ha/out/). In a cluster these come from Secrets.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createUser } from '@nats-io/nkeys';

const dir = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '../examples/ha/out/secrets'));
if (existsSync(join(dir, 'nats-server.conf'))) {
  console.log(`${dir} holds the files already; keeping them`);
  process.exit(0);
}
mkdirSync(dir, { recursive: true, mode: 0o700 });
const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
const file = (name) => join(dir, name);

openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '365', '-subj', '/CN=gitops-reverser-ha-example-ca', '-keyout', file('ca.key'), '-out', file('ca.crt'));
/** A certificate signed by the CA: serverAuth with the names clients dial, or clientAuth. */
function issue(name, commonName, usage, sans) {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${commonName}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`));
  writeFileSync(file(`${name}.ext`), [`extendedKeyUsage=${usage}`, ...(sans ? [`subjectAltName=${sans}`] : [])].join('\n'));
  openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '365', '-extfile', file(`${name}.ext`), '-out', file(`${name}.crt`));
}
issue('nats', 'nats', 'serverAuth', 'IP:127.0.0.1,DNS:localhost');
issue('replica', 'gitops-reverser', 'clientAuth');

// As `nk -gen user -pubout` would: the seed stays with the replicas, the public key goes to the server.
const user = createUser();
writeFileSync(file('replica.nk'), `${new TextDecoder().decode(user.getSeed())}\n`, { mode: 0o600 });
// The key every replica signs and checks bus messages with (`openssl rand -base64 48`).
writeFileSync(file('message-key'), `${randomBytes(48).toString('base64')}\n`, { mode: 0o600 });
writeFileSync(
  file('nats-server.conf'),
  `# nats-server -js -c ${file('nats-server.conf')}
listen: 127.0.0.1:4222
tls { cert_file: "${file('nats.crt')}", key_file: "${file('nats.key')}", ca_file: "${file('ca.crt')}", verify: true }
authorization { users: [ { nkey: ${user.getPublicKey()} } ] }
`,
);
console.log(`wrote ${dir}\nstart NATS with: nats-server -js -c ${file('nats-server.conf')}\nthen run the replicas as examples/ha/replica.yaml says`);
