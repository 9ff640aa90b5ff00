import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { freePort } from '@gitops-reverser/testkit';
import { expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// README's first command runs this script (after npm ci and a build); here it runs once and exits.
it('npm run demo: control plane, gitops-reverser on quickstart.yaml, sample objects, git log', async () => {
  const demoDir = mkdtempSync(join(tmpdir(), 'gr-demo-'));
  const child = spawn(process.execPath, [join(root, 'scripts/demo.mjs'), '--once'], {
    cwd: root,
    env: {
      ...process.env,
      GITOPS_REVERSER_DEMO_DIR: demoDir,
      GITOPS_REVERSER_PORT: '0',
      GITOPS_REVERSER_AUDIT_PORT: String(await freePort()),
      GITOPS_REVERSER_ADMISSION_PORT: String(await freePort()),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  expect(code, output).toBe(0);
  expect(output).toContain('[CREATE] demo.example.com/v1/widgets/demo/gizmo');
  expect(output).toContain('gitops-reverser exited with 0');
  const repo = join(demoDir, 'state-repo');
  const log = execFileSync('git', ['-C', repo, 'log', '--format=%s', 'main'], { encoding: 'utf8' }).trim().split('\n');
  expect(log.slice(0, 2)).toEqual(['[UPDATE] apps/v1/deployments/no-audit/web', '[CREATE] apps/v1/deployments/no-audit/web']);
  expect(log).toContain('[DELETE] v1/serviceaccounts/demo/shop');
  expect(log).toContain('[UPDATE] v1/configmaps/demo/app-settings');
  expect(log).toContain('[CREATE] apiextensions.k8s.io/v1/customresourcedefinitions/widgets.demo.example.com');
  expect(execFileSync('git', ['-C', repo, 'show', 'main:clusters/demo/demo/configmaps/app-settings.yaml'], { encoding: 'utf8' })).toContain('color: green');
  // The real users: in namespace demo both webhooks saw the writes and the audit fact won (alice
  // applied the samples, bob made the hotfix and the delete); in no-audit only the admission webhook did.
  const authors = execFileSync('git', ['-C', repo, 'log', '--format=%an|%(trailers:key=Attribution,valueonly,separator=)|%s', 'main'], { encoding: 'utf8' }).trim().split('\n');
  expect(authors).toContain('bob|audit|[UPDATE] v1/configmaps/demo/app-settings');
  expect(authors).toContain('bob|audit|[DELETE] v1/serviceaccounts/demo/shop');
  expect(authors).toContain('alice@example.com|audit|[CREATE] demo.example.com/v1/widgets/demo/gizmo');
  expect(authors).toContain('alice@example.com|audit|[CREATE] apiextensions.k8s.io/v1/customresourcedefinitions/widgets.demo.example.com');
  expect(authors.slice(0, 2)).toEqual(['bob|admission|[UPDATE] apps/v1/deployments/no-audit/web', 'alice@example.com|admission|[CREATE] apps/v1/deployments/no-audit/web']);
  // The webhook configuration the demo registered is the CLI's, and the demo says what the trailers mean.
  expect(output).toContain('validatingwebhookconfiguration.admissionregistration.k8s.io/gitops-reverser serverside-applied');
  expect(output).toContain('Attribution: admission  the writes in namespace no-audit');
  execFileSync('git', ['-C', repo, 'fsck', '--strict']);
}, 300_000);
