import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { bitString, boolean, explicit, implicit, integer, namedBits, objectIdentifier, octetString, sequence, set, time, utf8String } from './der.js';

/** A serving certificate for the webhooks and the CA that signed it, as PEM (the layout of a `kubernetes.io/tls` Secret). */
export interface WebhookCertificate {
  /** The CA certificate: the webhook configuration's `caBundle`, the audit webhook kubeconfig's CA. */
  readonly caCert: string;
  readonly cert: string;
  /** PKCS#8 private key of `cert`. */
  readonly key: string;
  readonly notAfter: Date;
}

const OID = {
  commonName: '2.5.4.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
} as const;

/** keyUsage bits (RFC 5280, 4.2.1.3), as the first byte of the BIT STRING. */
const DIGITAL_SIGNATURE = 0x80;
const KEY_CERT_SIGN = 0x04;
const CRL_SIGN = 0x02;

/**
 * A new CA and a serving certificate it signs for `dnsNames`, both ECDSA P-256, valid from an hour
 * ago (clocks differ) for `validityDays`. The CA's private key is never returned: nobody, not even
 * whoever reads the Secret, can sign another certificate the API server would trust for this webhook.
 * Renewal is a new pair (delete the Secret, run the command again).
 */
export function createWebhookCertificate(options: { readonly commonName: string; readonly dnsNames: readonly string[]; readonly validityDays: number; readonly now?: Date }): WebhookCertificate {
  if (options.dnsNames.length === 0) throw new Error('a serving certificate needs at least one DNS name');
  const now = options.now ?? new Date();
  const notBefore = new Date(now.getTime() - 3600_000);
  const notAfter = new Date(now.getTime() + options.validityDays * 86_400_000);
  const ca = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const leaf = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const caName = name(`${options.commonName} CA`);
  const caKeyId = keyIdentifier(ca.publicKey);
  const caCert = certificate({
    issuer: caName,
    subject: caName,
    subjectKey: ca.publicKey,
    signingKey: ca.privateKey,
    notBefore,
    notAfter,
    extensions: [
      extension(OID.basicConstraints, true, sequence(boolean(true), integer(Buffer.from([0])))),
      extension(OID.keyUsage, true, namedBits(Buffer.from([DIGITAL_SIGNATURE | KEY_CERT_SIGN | CRL_SIGN]))),
      extension(OID.subjectKeyIdentifier, false, octetString(caKeyId)),
    ],
  });
  const cert = certificate({
    issuer: caName,
    subject: name(options.commonName),
    subjectKey: leaf.publicKey,
    signingKey: ca.privateKey,
    notBefore,
    notAfter,
    extensions: [
      extension(OID.basicConstraints, true, sequence()),
      extension(OID.keyUsage, true, namedBits(Buffer.from([DIGITAL_SIGNATURE]))),
      extension(OID.extKeyUsage, false, sequence(objectIdentifier(OID.serverAuth))),
      // dNSName is [2] IMPLICIT IA5String.
      extension(OID.subjectAltName, false, sequence(...options.dnsNames.map((dnsName) => implicit(2, Buffer.from(dnsName, 'ascii'))))),
      extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(leaf.publicKey))),
      extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, caKeyId))),
    ],
  });
  return { caCert: pem('CERTIFICATE', caCert), cert: pem('CERTIFICATE', cert), key: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), notAfter };
}

function certificate(fields: { issuer: Buffer; subject: Buffer; subjectKey: KeyObject; signingKey: KeyObject; notBefore: Date; notAfter: Date; extensions: Buffer[] }): Buffer {
  const algorithm = sequence(objectIdentifier(OID.ecdsaWithSha256));
  // A positive serial of 16 random bytes (RFC 5280 allows up to 20 octets).
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01;
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    algorithm,
    fields.issuer,
    sequence(time(fields.notBefore), time(fields.notAfter)),
    fields.subject,
    fields.subjectKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...fields.extensions)),
  );
  // Node signs EC keys in DER (the ECDSA-Sig-Value X.509 expects).
  return sequence(tbs, algorithm, bitString(sign('sha256', tbs, fields.signingKey)));
}

function name(commonName: string): Buffer {
  return sequence(set(sequence(objectIdentifier(OID.commonName), utf8String(commonName))));
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectIdentifier(oid), ...(critical ? [boolean(true)] : []), octetString(value));
}

/** SHA-1 of the public key's bits (RFC 5280, 4.2.1.2, method 1): an identifier, not a security measure. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // For P-256 the key's bits are the last 65 bytes (uncompressed point) of the SubjectPublicKeyInfo.
  return createHash('sha1')
    .update(spki.subarray(spki.length - 65))
    .digest();
}

function pem(label: string, der: Buffer): string {
  const base64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${base64}${base64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}
