import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const src = resolve(here, '../src');
const dist = resolve(here, '../dist');

/** The `./x.js` modules each source file imports or re-exports (type-only imports included). */
function localImports(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of readdirSync(src).filter((name) => name.endsWith('.ts'))) {
    const text = readFileSync(join(src, file), 'utf8');
    const targets = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\sfrom\s+'\.\/([^']+)\.js'/gm), ...text.matchAll(/^\s*import\s+'\.\/([^']+)\.js'/gm)].map((match) => `${match[1]}.ts`);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Every cycle found by a depth-first walk, each as the chain of files that closes it. */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const walk = (file: string, chain: string[]) => {
    const at = chain.indexOf(file);
    if (at >= 0) {
      cycles.push([...chain.slice(at), file]);
      return;
    }
    if (done.has(file)) return;
    for (const next of graph.get(file) ?? []) walk(next, [...chain, file]);
    done.add(file);
  };
  for (const file of graph.keys()) walk(file, []);
  return cycles;
}

describe('module graph of sink-git', () => {
  it('reads the imports of the source files (the check below has something to check)', () => {
    const graph = localImports();
    expect(graph.get('git-target.ts')).toContain('repo-location.ts');
    expect(graph.get('git-target.ts')).toContain('provider-config.ts');
    expect(
      cyclesOf(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', ['a.ts']],
        ]),
      ),
    ).toEqual([['a.ts', 'b.ts', 'a.ts']]);
  });

  it('has no import cycle between its source files', () => {
    expect(cyclesOf(localImports()).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });

  /**
   * Loads `modules` (built, from dist/) in a fresh node process, plans an SSH target the way
   * `validate` does, and returns how many files of ssh2 that process loaded.
   */
  function ssh2FilesLoadedBy(modules: readonly string[]): { ssh2Files: number; problems: unknown[] } {
    const script = `
      import { createRequire } from 'node:module';
      const urls = JSON.parse(process.argv[1]);
      for (const url of urls) await import(url);
      const { GitSink, DEFAULT_GIT_SINK_OPTIONS } = await import(urls.find((url) => url.endsWith('/git-sink.js')) ?? 'data:text/javascript,export const GitSink = undefined;');
      let problems = [];
      if (GitSink) {
        const sink = new GitSink({
          ...DEFAULT_GIT_SINK_OPTIONS,
          providers: [{ name: 'origin', url: 'git@git.example.com:org/state.git', allowedBranches: ['main'], ssh: { privateKey: 'k', knownHosts: 'h' } }],
        });
        problems = sink.planTargets([{ name: 'live', with: { provider: 'origin', branch: 'main', path: 'x', prune: 'OnEvent' }, keyPath: 'targets[0]' }]).problems;
      }
      // CommonJS packages imported from ES modules are registered in require's cache too.
      const files = Object.keys(createRequire(process.cwd() + '/').cache).filter((file) => /[\\\\/]node_modules[\\\\/]ssh2[\\\\/]/.test(file));
      console.log(JSON.stringify({ ssh2Files: files.length, problems }));
    `;
    const urls = modules.map((module) => pathToFileURL(join(dist, module)).href);
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(urls)], { encoding: 'utf8', cwd: here });
    expect(run.stderr).toBe('');
    return JSON.parse(run.stdout) as { ssh2Files: number; problems: unknown[] };
  }

  it('loading the descriptor and planning targets (an SSH provider included) does not load ssh2', () => {
    const { ssh2Files, problems } = ssh2FilesLoadedBy(['index.js', 'descriptor.js', 'git-target.js', 'git-sink.js']);
    // The plan ran: the provider is refused only when nodegit cannot load here.
    expect(problems.every((problem) => (problem as { code: string }).code === 'GR_ERR_GIT_UNSUPPORTED_URL')).toBe(true);
    expect(ssh2Files).toBe(0);
  });

  it('the SSH transport does load ssh2 (the check sees it when it is there)', () => {
    expect(ssh2FilesLoadedBy(['ssh-transport.js']).ssh2Files).toBeGreaterThan(0);
  });
});
