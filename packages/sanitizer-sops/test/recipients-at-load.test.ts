import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigValidationError, KernelMetrics, loadConfigFile, Runtime, silentLogger } from '@gitops-reverser/kernel';
import { describe, expect, it } from 'vitest';
import { ageKey, tempDir } from './helpers.js';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../../kernel/dist/cli/main.js');
const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

/** The recipient with one character changed to another bech32 character: it still matches the schema's pattern, its checksum no longer holds. */
function corrupted(recipient: string): string {
  const at = 20;
  const original = recipient[at] as string;
  const replacement = BECH32_CHARSET[(BECH32_CHARSET.indexOf(original) + 1) % BECH32_CHARSET.length] as string;
  return `${recipient.slice(0, at)}${replacement}${recipient.slice(at + 1)}`;
}

/** A config with the encoder's `with:` given; the recipients' entries start on line 8. */
function configFile(dir: string, encoderWith: string): string {
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    `apiVersion: gitops-reverser/v1alpha2
sources: [ { use: gitops-reverser-source-manifests, cluster: dev, with: { directory: ./manifests, pollMs: 0 } } ]
sink: { use: gitops-reverser-sink-jsonl, with: { file: ./out/changes.jsonl } }
targets: [ { name: live } ]
rules: [ { target: live, resources: [secrets] } ]
normalizers:
  - use: "@gitops-reverser/sanitizer-sops"
${encoderWith}`,
  );
  return file;
}

/** What `Runtime.create` (the assembly `validate` runs) refuses the config with; undefined when it accepts it. */
async function createProblem(file: string) {
  try {
    await Runtime.create(loadConfigFile(file), { logger: silentLogger(), metrics: new KernelMetrics() });
    return undefined;
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    return error.problems;
  }
}

describe('sanitizer-sops recipients are parsed by age when the config is loaded', () => {
  it('validate names a recipient with a broken checksum by its entry, its line and GR_ERR_SOPS_KEYS, without repeating it', () => {
    const dir = tempDir();
    const good = ageKey(dir, 'good').recipient;
    const bad = corrupted(ageKey(dir, 'other').recipient);
    expect(bad).toMatch(/^age1[0-9a-z]+$/);
    const file = configFile(dir, `    with:\n      recipients:\n        - ${good}\n        - ${bad}\n`);

    const result = spawnSync(process.execPath, [cli, 'validate', '--config', file], { encoding: 'utf8' });

    expect(result.status, result.stdout).toBe(1);
    expect(result.stderr).toContain(`${file}:11:11: normalizers[0].with.recipients[1]: not a valid age recipient (age cannot parse it): recipients[1]`);
    expect(result.stderr).toContain('[GR_ERR_SOPS_KEYS]');
    expect(result.stderr).not.toContain(bad);
  });

  it('a line of recipientsFile age cannot parse is reported at recipientsFile, by its line number', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'recipients.txt'), `# team keys\n${ageKey(dir, 'a').recipient}\n\n${corrupted(ageKey(dir, 'b').recipient)}\n`);
    const file = configFile(dir, '    with: { recipientsFile: ./recipients.txt }\n');

    const problems = await createProblem(file);

    expect(problems).toHaveLength(1);
    expect(problems?.[0]).toMatchObject({ code: 'GR_ERR_SOPS_KEYS', keyPath: 'normalizers[0].with.recipientsFile', line: 8 });
    expect(problems?.[0]?.message).toContain(`recipientsFile ${join(dir, 'recipients.txt')}: not a valid age recipient (age cannot parse it): line 4`);
  });

  it('recipients age-keygen made pass, inline and from a file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'recipients.txt'), `${ageKey(dir, 'a').recipient}\n`);
    const file = configFile(dir, `    with: { recipients: [${ageKey(dir, 'b').recipient}], recipientsFile: ./recipients.txt }\n`);

    expect(await createProblem(file)).toBeUndefined();
  });
});
