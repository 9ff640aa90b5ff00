#!/usr/bin/env node
// Committed launcher, so npm links the `gitops-reverser` bin at install time (dist/ is built later).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('gitops-reverser is not built yet: run `npm run build` in the repository first (the npm package ships it built)\n');
  process.exit(1);
}
await import(main.href);
