#!/usr/bin/env node
// Package hygiene of every published package (`npm run check:packages`, run by .ci/run after the
// build): what npm would pack, checked by publint (package.json against the packed files), by
// @arethetypeswrong/cli (the types each export resolves to; ESM-only, profile esm-only), and here:
// exports, types, files, engines, license, repository, README and LICENSE in the tarball, no
// sources or tests shipped, every file an export or bin names packed.
//
//   node scripts/check-packages.mjs            every package not marked private under packages/
//   node scripts/check-packages.mjs kernel     only those whose folder name contains a word
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules/.bin', name);
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const words = process.argv.slice(2);

/** Problems of one package's manifest and packed file list; empty when it is fit to publish. */
function manifestProblems(dir, manifest, packed) {
  const problems = [];
  const folder = `packages/${dir.split('/').pop()}`;
  const has = (file) => packed.includes(file.replace(/^\.\//, ''));
  if (manifest.type !== 'module') problems.push('"type" must be "module" (every package is ESM)');
  if (!manifest.exports || typeof manifest.exports !== 'object') problems.push('no "exports" map');
  const entry = manifest.exports?.['.'];
  if (entry !== undefined && typeof entry?.types !== 'string') problems.push('exports["."] has no "types" condition');
  if (entry !== undefined && manifest.types === undefined) problems.push('no top-level "types" (for tools that read only it)');
  if (entry === undefined && Object.keys(manifest.bin ?? {}).length === 0) problems.push('neither exports["."] nor a bin: nothing to use');
  if (!Array.isArray(manifest.files) || manifest.files.length === 0) problems.push('no "files" list (npm would pack the whole folder)');
  if (manifest.engines?.node !== rootManifest.engines.node) problems.push(`engines.node is ${JSON.stringify(manifest.engines?.node)}, not the repository's "${rootManifest.engines.node}"`);
  if (manifest.license !== 'Apache-2.0') problems.push(`license is ${JSON.stringify(manifest.license)}, not "Apache-2.0"`);
  const repository = manifest.repository;
  if (repository?.url !== rootManifest.repository?.url || repository?.directory !== folder) {
    problems.push(`repository must be { "type": "git", "url": "${rootManifest.repository?.url}", "directory": "${folder}" }`);
  }
  if (typeof manifest.description !== 'string' || manifest.description.length < 20) problems.push('no "description" (npm search shows it)');
  if (!has('README.md')) problems.push('README.md is not packed');
  const targets = (value) => (typeof value === 'string' ? [value] : value !== null && typeof value === 'object' ? Object.values(value).flatMap(targets) : []);
  for (const file of [...targets(manifest.exports ?? {}), ...Object.values(manifest.bin ?? {})]) {
    if (!has(file)) problems.push(`${file} (named by exports or bin) is not packed: build first, or add its folder to "files"`);
  }
  // templates/ holds what a generator writes (create-adapter's tests of the adapters it generates).
  const stray = packed.filter((file) => !file.startsWith('templates/') && (/^(src|test)\//.test(file) || /\.test\.[cm]?[jt]s$|\.tsbuildinfo$/.test(file)));
  if (stray.length > 0) problems.push(`sources or tests would be published: ${stray.slice(0, 5).join(', ')}${stray.length > 5 ? ', ...' : ''}`);
  for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
    if (range.startsWith('file:') || range.startsWith('workspace:') || range.startsWith('link:')) problems.push(`dependency ${name}@${range} cannot be installed from a registry`);
  }
  return problems;
}

function packedFiles(dir) {
  const result = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm pack --dry-run in ${dir} failed: ${result.stderr}`);
  return JSON.parse(result.stdout)[0].files.map((f) => f.path);
}

const packages = readdirSync(join(root, 'packages'))
  .filter((dir) => existsSync(join(root, 'packages', dir, 'package.json')))
  .map((dir) => ({ dir: join(root, 'packages', dir), manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) }))
  .filter(({ dir, manifest }) => !manifest.private && (words.length === 0 || words.some((word) => dir.split('/').pop().includes(word))));

if (!existsSync(join(root, 'LICENSE'))) {
  console.error('LICENSE is missing at the repository root (lerna publish copies it into every package)');
  process.exit(1);
}

let failed = 0;
for (const { dir, manifest } of packages) {
  const problems = manifestProblems(dir, manifest, packedFiles(dir));
  const publint = spawnSync(bin('publint'), ['run', '--strict', '--level', 'suggestion'], { cwd: dir, encoding: 'utf8' });
  if (publint.status !== 0) problems.push(`publint:\n${publint.stdout}${publint.stderr}`.trimEnd());
  if (manifest.exports?.['.'] !== undefined) {
    // esm-only: these packages are ES modules on purpose (Node >= 20.19 also require()s them).
    const attw = spawnSync(bin('attw'), ['--pack', '.', '--profile', 'esm-only', '--format', 'ascii', '--no-color'], { cwd: dir, encoding: 'utf8' });
    if (attw.status !== 0) problems.push(`@arethetypeswrong/cli:\n${attw.stdout}${attw.stderr}`.trimEnd());
  }
  if (problems.length === 0) console.log(`ok      ${manifest.name}`);
  else {
    failed++;
    console.error(`FAILED  ${manifest.name} (${dir})\n${problems.map((p) => `  - ${p.replace(/\n/g, '\n    ')}`).join('\n')}`);
  }
}
console.log(`${packages.length - failed} package(s) fit to publish, ${failed} not`);
if (failed > 0) process.exit(1);
