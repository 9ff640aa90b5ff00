import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChangeEvent, KubeObject } from '@gitops-reverser/contract';
import { toolBinaries } from '@gitops-reverser/testkit';

export const tools = toolBinaries();

export function tempDir(prefix = 'gr-sops-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A fresh age key pair made by the real age-keygen: the identity file and its recipient. */
export function ageKey(dir: string, name = 'key'): { file: string; identity: string; recipient: string } {
  const file = join(dir, `${name}.agekey`);
  execFileSync(tools.ageKeygen, ['-o', file], { stdio: 'ignore' });
  const recipient = execFileSync(tools.ageKeygen, ['-y', file], { encoding: 'utf8' }).trim();
  const identity = execFileSync('grep', ['^AGE-SECRET-KEY', file], { encoding: 'utf8' }).trim();
  return { file, identity, recipient };
}

/** `sops -d` of a file's text with the given identity file; throws when sops refuses (bad MAC, wrong key). */
export function sopsDecrypt(text: string, identityFile: string, dir = tempDir()): string {
  const file = join(dir, `decrypt-${Math.random().toString(36).slice(2)}.sops.yaml`);
  writeFileSync(file, text);
  return execFileSync(tools.sops, ['--decrypt', '--input-type', 'yaml', '--output-type', 'json', file], {
    encoding: 'utf8',
    env: { ...process.env, SOPS_AGE_KEY_FILE: identityFile },
    maxBuffer: 1 << 28,
  });
}

export function secretEvent(object: KubeObject): ChangeEvent {
  return {
    identity: { clusterId: 'dev', group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespace: object.metadata?.namespace ?? 'default', name: object.metadata?.name ?? 's' },
    operation: 'upsert',
    created: true,
    object,
    resourceVersion: '1',
    observedAt: new Date(0).toISOString(),
    phase: 'live',
    observedBy: 'watch',
  };
}
