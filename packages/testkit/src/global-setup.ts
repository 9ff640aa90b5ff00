import { mkdtempSync, rmSync } from 'node:fs';
import type {} from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane, type ControlPlaneInfo } from './control-plane.js';
import { freePort } from './free-port.js';
import { createPki, issueCertificate } from './pki.js';

/** What globalSetup hands to test files through vitest's provide/inject. */
export interface TestClusterInfo extends ControlPlaneInfo {
  /** Port the API server's audit webhook posts to (https://127.0.0.1:{port}/audit). */
  readonly auditPort: number;
  /** Serving certificate (signed by the control plane's CA) for whatever listens on auditPort. */
  readonly auditCert: string;
  readonly auditKey: string;
}

declare module 'vitest' {
  interface ProvidedContext {
    testCluster: TestClusterInfo;
  }
}

interface ProvideTarget {
  provide(key: 'testCluster', value: TestClusterInfo): void;
}

/**
 * vitest globalSetup: one real control plane per test run, audit webhook pointed at a port the
 * tests may listen on. Torn down (processes by pid, folders) when the run ends, pass or fail.
 */
export default async function setup(project: ProvideTarget): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'gr-testcluster-'));
  const pki = createPki(join(dir, 'pki'));
  const auditPort = await freePort();
  const audit = issueCertificate(pki, 'audit-receiver', { commonName: 'audit-receiver', sans: ['IP:127.0.0.1', 'DNS:localhost'] });
  const plane = await ControlPlane.start({
    pki,
    dataDir: join(dir, 'plane'),
    audit: { url: `https://127.0.0.1:${auditPort}/audit`, caFile: pki.caCert },
  });
  project.provide('testCluster', { ...plane.info, auditPort, auditCert: audit.cert, auditKey: audit.key });
  return async () => {
    await plane.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
