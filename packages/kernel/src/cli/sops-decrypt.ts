import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grError, type KubeObject } from '@gitops-reverser/contract';
import { ErrorCodes } from '../errors.js';

/** True for an object stored SOPS-encrypted (a top-level `sops` block with a MAC, as sops and sanitizer-sops write). */
export function isSopsEncrypted(object: unknown): boolean {
  const sops = (object as { sops?: { mac?: unknown } } | null)?.sops;
  return sops !== null && typeof sops === 'object' && typeof sops.mac === 'string';
}

/** Checks the identity file exists and can be read before any file is decrypted: GR_ERR_RESTORE_IDENTITIES otherwise. */
export function checkIdentitiesFile(file: string | undefined, encryptedCount: number): string {
  if (file === undefined) {
    throw grError(ErrorCodes.RESTORE_IDENTITIES, `${encryptedCount} of the files to restore are SOPS-encrypted, and no age identity file was given to decrypt them`, {
      fix: 'pass --identities <file> with an age identity (AGE-SECRET-KEY-...) of a recipient the files were encrypted to, e.g. the key of Flux’s sops-age Secret',
    });
  }
  try {
    accessSync(file, constants.R_OK);
  } catch (error) {
    throw grError(ErrorCodes.RESTORE_IDENTITIES, `--identities ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot be read'}`, {
      fix: 'pass the path of a readable age identity file (age-keygen writes one; relative paths are relative to the current folder)',
    });
  }
  return file;
}

/**
 * Decrypts one SOPS file with the `sops` CLI (the reference implementation: it reads every file sops
 * writes, including ones a person edited with other keys) and the given age identities. The MAC is
 * verified by sops; a file it cannot decrypt is GR_ERR_RESTORE_DECRYPT naming the file.
 */
export async function sopsDecrypt(text: string, identitiesFile: string, path: string): Promise<KubeObject> {
  // sops reads a file, not a pipe (node's stdio is a socket, which /dev/stdin cannot open): the
  // encrypted text goes into a private folder for the call; the plaintext only ever comes back on stdout.
  const folder = mkdtempSync(join(tmpdir(), 'gr-restore-'));
  const file = join(folder, 'object.sops.yaml');
  writeFileSync(file, text, { mode: 0o600 });
  try {
    return await runSops(file, identitiesFile, path);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function runSops(file: string, identitiesFile: string, path: string): Promise<KubeObject> {
  return new Promise((resolve, reject) => {
    const child = spawn('sops', ['--decrypt', '--input-type', 'yaml', '--output-type', 'json', file], {
      env: { ...process.env, SOPS_AGE_KEY_FILE: identitiesFile },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        grError(ErrorCodes.RESTORE_DECRYPT, `cannot run sops to decrypt ${path}: ${error.code === 'ENOENT' ? 'sops is not installed (not found on PATH)' : error.message}`, {
          fix: 'install sops 3.x (https://github.com/getsops/sops/releases) and put it on PATH',
        }),
      ),
    );
    child.on('close', (code) => {
      if (code !== 0) {
        const reason = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-3).join(' ');
        reject(
          grError(ErrorCodes.RESTORE_DECRYPT, `sops could not decrypt ${path}: ${reason || `exit code ${code}`}`, {
            fix: `check that ${identitiesFile} holds the age identity of a recipient of this file (its sops.age entries name the recipients)`,
          }),
        );
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as KubeObject);
      } catch (error) {
        reject(grError(ErrorCodes.RESTORE_DECRYPT, `sops decrypted ${path} to something that is not JSON: ${(error as Error).message}`));
      }
    });
    child.stdin.end();
  });
}
