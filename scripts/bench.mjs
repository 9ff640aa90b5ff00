// `npm run bench`: runs every package benchmark in turn. Each one runs its baseline in the same run
// and prints a human summary plus `BENCH_JSON {...}` lines; this script collects those into one
// JSON document, prints it, and writes it with a latency histogram (SVG) per scenario and a
// README.md into bench-results/<date>/ and bench-results/latest/ (BENCH_RESULTS_DIR to move it).
// `npm run bench -- sink-git informer` runs only the benchmarks whose path contains one of the words.
// Benchmarks measure; they never pass or fail.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, writeReport } from './bench-report.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BENCHES = [
  'packages/sink-git/bench/git-write.bench.mjs',
  'packages/sink-git/bench/git-push.bench.mjs',
  'packages/sink-git/bench/shared-repo.bench.mjs',
  'packages/sanitizer-sops/bench/sops.bench.mjs',
  'packages/source-audit/bench/audit.bench.mjs',
  'packages/source-admission/bench/admission.bench.mjs',
  'packages/bus-nats/bench/nats.bench.mjs',
  'packages/source-informer/bench/informer.bench.mjs',
  'packages/kernel/bench/credential-gate.bench.mjs',
  'packages/kernel/bench/history.bench.mjs',
]
  .filter((file) => existsSync(join(root, file)))
  .filter((file) => process.argv.length <= 2 || process.argv.slice(2).some((word) => file.includes(word)));

const results = [];
for (const file of BENCHES) {
  console.log(`\n=== ${file}`);
  await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, file)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let buffer = '';
    let pending = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      pending += chunk;
      let newline;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        // Samples for the histograms go to the files, not the terminal.
        if (line.startsWith('BENCH_JSON ')) {
          const { histograms, ...figures } = JSON.parse(line.slice(11));
          console.log(`BENCH_JSON ${JSON.stringify(figures)}`);
        } else console.log(line);
      }
    });
    child.on('exit', (code) => {
      for (const line of buffer.split('\n')) if (line.startsWith('BENCH_JSON ')) results.push(JSON.parse(line.slice(11)));
      code === 0 ? resolve() : reject(new Error(`${file} exited with ${code}`));
    });
  });
}
const summary = { date: new Date().toISOString(), node: process.version, machine: machine(), results };
console.log('\n=== summary (JSON)');
// Samples stay in the files; the printed summary keeps only the figures.
console.log(JSON.stringify({ ...summary, results: results.map(({ histograms, ...rest }) => rest) }, null, 2));
const base = process.env.BENCH_RESULTS_DIR ?? join(root, 'bench-results');
for (const dir of [join(base, summary.date.slice(0, 19).replace(/:/g, '-')), join(base, 'latest')]) {
  const files = writeReport(summary, dir);
  console.log(`\nwrote ${files.length} files to ${dir}: ${files.join(', ')}`);
}
