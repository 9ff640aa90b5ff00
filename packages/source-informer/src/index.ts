export type { InformerSourceOptions } from './informer-source.js';
export { InformerErrorCodes } from './informer-error-codes.js';
export { default } from './descriptor.js';
