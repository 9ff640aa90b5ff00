import { Encrypter } from 'age-encryption';

/**
 * Positions of the entries age cannot encrypt to (a bad bech32 checksum, a wrong length, an unknown
 * type). Parsed by age itself, as every encryption parses them: what passes here, encrypts.
 */
export function invalidRecipients(recipients: readonly string[]): number[] {
  const invalid: number[] = [];
  recipients.forEach((recipient, index) => {
    try {
      new Encrypter().addRecipient(recipient);
    } catch {
      invalid.push(index);
    }
  });
  return invalid;
}
