#!/usr/bin/env node
// Committed launcher, so npm links the bin at install time (dist/ is built later in a clone).
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('create-adapter is not built yet: run `npm run build` in the repository first (the npm package ships it built)\n');
  process.exit(1);
}
await import(main.href);
