export { SopsEncoder, SOPS_FORMAT_VERSION, FINGERPRINT_KEY } from './sops-encoder.js';
export type { SopsEncoderOptions } from './sops-encoder.js';
export { encryptValue, decryptValue, macOf, sopsBytes } from './sops-cipher.js';
export type { SopsScalar } from './sops-cipher.js';
export { encryptTree, decryptTree } from './sops-tree.js';
export { SopsErrorCodes } from './sops-error-codes.js';
export { sopsOptionsSchema } from './descriptor.js';
export { default } from './descriptor.js';
