// The generator behind `npm init @gitops-reverser/adapter`, also usable from code.
export { createAdapterPackage, slotOfName, SLOTS } from './adapter-package.js';
export type { CreateAdapterOptions, Slot } from './adapter-package.js';
export { CreateAdapterErrorCodes } from './error-codes.js';
