import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = join(repoRoot, 'packages/kernel/dist/cli/main.js');

/** A config in examples/ (so the example adapters resolve) with debug logs, which `snapshot` then shows. */
function debugConfig(log = '{ level: debug }') {
  const out = mkdtempSync(join(tmpdir(), 'gr-logfmt-'));
  const file = join(repoRoot, 'examples', `.log-format-test-${process.pid}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `apiVersion: gitops-reverser/v1alpha2
log: ${log}
sources: [ { use: gitops-reverser-source-manifests, cluster: demo, with: { directory: ./source-manifests/sample, pollMs: 0 } } ]
sink: { use: gitops-reverser-sink-jsonl, with: { file: ${join(out, 'changes.jsonl')} } }
bus: { use: "@gitops-reverser/bus-memory" }
targets: [ { name: live } ]
rules: [ { target: live, resources: ["*"] } ]
`,
  );
  return { file, cleanup: () => rmSync(file, { force: true }) };
}

/** The CLI under util-linux `script`, which gives it a pseudo-terminal (output has \r\n line ends). */
function onTerminal(args: string[], env: Record<string, string> = {}) {
  const command = [process.execPath, cli, ...args].map((a) => JSON.stringify(a)).join(' ');
  const result = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
  return { code: result.status, lines: result.stdout.replace(/\r/g, '').split('\n') };
}

describe('log format of the CLI', () => {
  it('on a terminal (log.format auto): readable lines, no JSON', () => {
    const config = debugConfig();
    try {
      const { code, lines } = onTerminal(['snapshot', '--config', config.file]);
      expect(code).toBe(0);
      const logLines = lines.filter((l) => /^\d\d:\d\d:\d\d\.\d{3} [A-Z]+ /.test(l));
      expect(logLines.length).toBeGreaterThanOrEqual(2);
      expect(logLines.some((l) => /^\d\d:\d\d:\d\d\.\d{3} INFO {2}.*gitops-reverser started/.test(l))).toBe(true);
      expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
    } finally {
      config.cleanup();
    }
  });

  it('on a terminal, --log-format json (and log.format: json) keep JSON lines', () => {
    for (const [log, args] of [
      ['{ level: debug }', ['--log-format', 'json']],
      ['{ level: debug, format: json }', []],
    ] as const) {
      const config = debugConfig(log);
      try {
        const { code, lines } = onTerminal(['snapshot', '--config', config.file, ...args]);
        expect(code).toBe(0);
        // JSON records are written asynchronously, so one may follow the progress line on its line.
        const output = lines.join('\n');
        expect(output).toContain('"msg":"gitops-reverser started"');
        expect(output).toContain('"msg":"stopped cleanly"');
        expect(lines.filter((l) => /^\d\d:\d\d:\d\d\.\d{3} [A-Z]+ /.test(l))).toEqual([]);
      } finally {
        config.cleanup();
      }
    }
  });

  it('off a terminal: JSON by default, readable lines with LOG_FORMAT=text', () => {
    const config = debugConfig();
    try {
      const json = spawnSync(process.execPath, [cli, 'snapshot', '--config', config.file], { cwd: repoRoot, encoding: 'utf8' });
      expect(json.status).toBe(0);
      expect(json.stdout.split('\n').filter((l) => l.startsWith('{')).length).toBeGreaterThanOrEqual(2);
      const text = spawnSync(process.execPath, [cli, 'snapshot', '--config', config.file], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, LOG_FORMAT: 'text' } });
      expect(text.status).toBe(0);
      expect(text.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}gitops-reverser started/m);
      expect(text.stdout).not.toContain('\x1b[');
      expect(text.stdout.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
    } finally {
      config.cleanup();
    }
  });

  it('refuses an unknown --log-format with the accepted values', () => {
    const result = spawnSync(process.execPath, [cli, 'run', '--config', 'x.yaml', '--log-format', 'pretty'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('GR_ERR_CLI_USAGE: --log-format "pretty" is not a log format');
    expect(result.stderr).toContain('fix: use --log-format auto, json or text');
  });

  it('refuses an unknown log.format in the file, at its key path', () => {
    const config = debugConfig('{ format: pretty }');
    try {
      const result = spawnSync(process.execPath, [cli, 'validate', '--config', config.file], { cwd: repoRoot, encoding: 'utf8' });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/log\.format/);
      expect(result.stderr).toContain('auto (readable lines on a terminal, JSON otherwise), json or text');
    } finally {
      config.cleanup();
    }
  });

  it('text logs into a pipe whose reader went away (`run | head -1`): the process keeps running and stops cleanly on SIGTERM', async () => {
    const config = debugConfig('{ level: debug, format: text }');
    try {
      const child = spawn(process.execPath, [cli, 'run', '--config', config.file], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      // Read the first line, then close the pipe as head does.
      await new Promise<void>((done) => child.stdout.once('data', () => done()));
      child.stdout.destroy();
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      // The stop logs several lines into the closed pipe.
      setTimeout(() => child.kill('SIGTERM'), 500);
      expect(await exited).toBe(0);
      expect(stderr).not.toContain('EPIPE');
    } finally {
      config.cleanup();
    }
  });
});
