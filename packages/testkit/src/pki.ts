import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Files of a throwaway PKI: a CA, the API server's serving certificate, the service-account keys. */
export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr || (error as Error).message} (the test harness needs the openssl CLI)`);
  }
}

/** Creates the PKI in `dir` with the openssl CLI (Node has no API to sign certificates). */
export function createPki(dir: string): Pki {
  mkdirSync(dir, { recursive: true });
  const pki: Pki = {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'apiserver.crt'),
    serverKey: join(dir, 'apiserver.key'),
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub'),
  };
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=gitops-reverser-test-ca', '-keyout', pki.caKey, '-out', pki.caCert], dir);
  issueCertificate(pki, 'apiserver', { commonName: 'kube-apiserver', sans: ['IP:127.0.0.1', 'DNS:localhost', 'IP:10.0.0.1', 'DNS:kubernetes.default.svc'] });
  openssl(['genrsa', '-out', pki.serviceAccountKey, '2048'], dir);
  openssl(['rsa', '-in', pki.serviceAccountKey, '-pubout', '-out', pki.serviceAccountPub], dir);
  return pki;
}

/** Issues a certificate signed by the PKI's CA; `{name}.crt` and `{name}.key` in the PKI folder. */
export function issueCertificate(
  pki: Pick<Pki, 'dir' | 'caCert' | 'caKey'>,
  name: string,
  options: { commonName: string; organization?: string; sans?: readonly string[]; clientAuth?: boolean },
): { cert: string; key: string } {
  const cert = join(pki.dir, `${name}.crt`);
  const key = join(pki.dir, `${name}.key`);
  const csr = join(pki.dir, `${name}.csr`);
  const ext = join(pki.dir, `${name}.ext`);
  const subject = `/CN=${options.commonName}${options.organization ? `/O=${options.organization}` : ''}`;
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', key, '-out', csr], pki.dir);
  writeFileSync(
    ext,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      `extendedKeyUsage=${options.clientAuth ? 'clientAuth' : 'serverAuth,clientAuth'}`,
      ...(options.sans?.length ? [`subjectAltName=${options.sans.join(',')}`] : []),
    ].join('\n'),
  );
  openssl(['x509', '-req', '-in', csr, '-CA', pki.caCert, '-CAkey', pki.caKey, '-CAcreateserial', '-days', '3650', '-extfile', ext, '-out', cert], pki.dir);
  return { cert, key };
}

export function readPem(file: string): string {
  return readFileSync(file, 'utf8');
}
