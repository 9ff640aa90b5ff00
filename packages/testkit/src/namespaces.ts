import { randomBytes } from 'node:crypto';
import type { ControlPlaneAccess } from './control-plane.js';

/** Creates a namespace with a unique name for one test (`{prefix}-{random}`), and returns its name. */
export async function createTestNamespace(access: ControlPlaneAccess, prefix = 'test'): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  const { status, body } = await access.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
  if (status !== 201) throw new Error(`cannot create namespace ${name}: ${status} ${body}`);
  return name;
}
