import { readFileSync } from 'node:fs';

/** This kernel's version, from its package.json (adapters declare a range of these). */
export const KERNEL_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
