import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { GIT_ENV, gitArgs, gitFailure } from './git-cli.js';

interface Pending {
  readonly oid: string;
  readonly resolve: (content: Buffer | undefined) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Reads objects through one long-running `git cat-file --batch`: one process for any number of
 * blobs (a diff of 10,000 files reads 10,000), answers in the order asked. Missing objects resolve
 * undefined. `close()` ends the process.
 */
export class GitObjectReader {
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly pending: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private failed: Error | undefined;

  constructor(private readonly gitdir: string) {}

  read(oid: string): Promise<Buffer | undefined> {
    if (this.failed) return Promise.reject(this.failed);
    const child = this.process();
    return new Promise((resolve, reject) => {
      this.pending.push({ oid, resolve, reject });
      child.stdin.write(`${oid}\n`);
    });
  }

  async readText(oid: string): Promise<string | undefined> {
    return (await this.read(oid))?.toString('utf8');
  }

  close(): void {
    this.child?.stdin.end();
    this.child = undefined;
  }

  private process(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn('git', gitArgs(this.gitdir, ['cat-file', '--batch']), { env: GIT_ENV });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.stdout.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
    const fail = (reason: string) => {
      this.failed = gitFailure(['cat-file', '--batch'], reason, this.gitdir);
      for (const waiting of this.pending.splice(0)) waiting.reject(this.failed);
    };
    child.on('error', (error: NodeJS.ErrnoException) => fail(error.code === 'ENOENT' ? 'git is not installed (not found on PATH)' : error.message));
    child.on('close', (code) => {
      if (this.pending.length > 0) fail(stderr.trim() || `exit code ${code}`);
      if (this.child === child) this.child = undefined;
    });
    child.stdin.on('error', () => undefined);
    this.child = child;
    return child;
  }

  /** Answers complete replies: `<oid> <type> <size>\n<content>\n` or `<oid> missing\n`. */
  private drain(): void {
    while (this.pending.length > 0) {
      const newline = this.buffer.indexOf(10);
      if (newline < 0) return;
      const header = this.buffer.subarray(0, newline).toString('utf8');
      const parts = header.split(' ');
      if (parts[1] === 'missing' || parts[1] === 'ambiguous') {
        this.buffer = this.buffer.subarray(newline + 1);
        (this.pending.shift() as Pending).resolve(undefined);
        continue;
      }
      const size = Number(parts[2]);
      if (this.buffer.length < newline + 1 + size + 1) return;
      const content = Buffer.from(this.buffer.subarray(newline + 1, newline + 1 + size));
      this.buffer = this.buffer.subarray(newline + 1 + size + 1);
      (this.pending.shift() as Pending).resolve(content);
    }
  }
}
