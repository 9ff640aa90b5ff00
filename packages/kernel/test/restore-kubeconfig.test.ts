import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeApi } from '../src/cli/kube-api.js';

// restore with no kubeconfig anywhere: a coded error that says what to pass, not client-node's
// fallback to http://localhost:8080 and its "HTTP protocol is not allowed" thrown without a code.
describe('restore: which kubeconfig', () => {
  const saved = { HOME: process.env['HOME'], KUBECONFIG: process.env['KUBECONFIG'], KUBERNETES_SERVICE_HOST: process.env['KUBERNETES_SERVICE_HOST'] };
  const home = mkdtempSync(join(tmpdir(), 'gr-home-'));
  afterEach(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('none given, no $KUBECONFIG, no ~/.kube/config: GR_ERR_RESTORE_KUBECONFIG naming --kubeconfig', async () => {
    process.env['HOME'] = home;
    delete process.env['KUBECONFIG'];
    delete process.env['KUBERNETES_SERVICE_HOST'];
    const error = await KubeApi.connect({}).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'GR_ERR_RESTORE_KUBECONFIG', message: expect.stringContaining('~/.kube/config does not exist'), fix: expect.stringContaining('--kubeconfig') });
    rmSync(home, { recursive: true, force: true });
  });

  it('a file that does not exist: named in the error', async () => {
    const error = await KubeApi.connect({ kubeconfig: join(home, 'missing') }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'GR_ERR_RESTORE_KUBECONFIG', message: expect.stringContaining(join(home, 'missing')) });
  });
});
