// `npm run bench`: runs every package benchmark in turn. Each one runs its baseline in the same run
// and prints a human summary plus `BENCH_JSON {...}` lines; this script collects those into one
// JSON document at the end. Benchmarks measure; they never pass or fail.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BENCHES = [
  'packages/sink-git/bench/git-write.bench.mjs',
  'packages/sink-git/bench/git-push.bench.mjs',
  'packages/sanitizer-sops/bench/sops.bench.mjs',
  'packages/source-audit/bench/audit.bench.mjs',
  'packages/bus-nats/bench/nats.bench.mjs',
  'packages/source-informer/bench/informer.bench.mjs',
].filter((file) => existsSync(join(root, file)));

const results = [];
for (const file of BENCHES) {
  console.log(`\n=== ${file}`);
  await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, file)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      buffer += chunk;
    });
    child.on('exit', (code) => {
      for (const line of buffer.split('\n')) if (line.startsWith('BENCH_JSON ')) results.push(JSON.parse(line.slice(11)));
      code === 0 ? resolve() : reject(new Error(`${file} exited with ${code}`));
    });
  });
}
console.log('\n=== summary (JSON)');
console.log(JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2));
