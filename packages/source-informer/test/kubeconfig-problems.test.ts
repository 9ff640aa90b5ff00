import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../src/kube-client.js';

// The fix of a kubeconfig problem names the option a 0.2+ config has (sources[].with.kubeconfig /
// with.context), never the 0.1 `cluster.kubeconfig` a user can no longer write.
describe('kubeconfig problems', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gr-kubeconfig-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing file names the path and the option that sets it', async () => {
    const missing = join(dir, 'no-such-kubeconfig');
    const error = await KubeClient.load({ kubeconfig: missing }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'GR_ERR_KUBE_CONFIG', message: expect.stringContaining(missing), fix: expect.stringContaining('sources[].with.kubeconfig') });
    expect((error as { fix: string }).fix).not.toContain('cluster.kubeconfig');
  });

  it('a kubeconfig without a current cluster names the context option', async () => {
    const file = join(dir, 'no-current');
    writeFileSync(file, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
    const error = await KubeClient.load({ kubeconfig: file }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'GR_ERR_KUBE_CONFIG', message: expect.stringContaining('no current-context'), fix: expect.stringContaining('with.context') });
    expect((error as { fix: string }).fix).not.toContain('cluster.context');
  });
});
