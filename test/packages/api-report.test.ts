import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// A package's index is its promise to users: each published package's public surface (every export
// entry but ./internal, with the declarations of what it exports) must equal its checked-in report
// in api/. A surface change is then a reviewed change of api/*.api.md (`npm run api:update`).
it('every published package exports exactly what its api/*.api.md report says', () => {
  const result = spawnSync(process.execPath, [join(root, 'scripts/api-report.mjs'), '--check'], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
});
