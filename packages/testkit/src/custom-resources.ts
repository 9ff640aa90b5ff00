import type { ControlPlaneAccess } from './control-plane.js';
import { until } from './until.js';

export interface TestCustomResourceDefinition {
  readonly group: string;
  /** Plural resource name; the CRD is named `{plural}.{group}`. */
  readonly plural: string;
  readonly kind: string;
  readonly scope?: 'Namespaced' | 'Cluster';
  /** Serve the status subresource (status changes then leave the spec alone). */
  readonly statusSubresource?: boolean;
  /** A CRD of that name already there is fine (one the test suite shares); otherwise it is an error. */
  readonly reuseExisting?: boolean;
}

/** Creates a schema-less v1 CRD and waits until the API server serves its type. */
export async function createCustomResourceDefinition(access: ControlPlaneAccess, crd: TestCustomResourceDefinition): Promise<void> {
  const name = `${crd.plural}.${crd.group}`;
  const { status, body } = await access.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    body: {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name },
      spec: {
        group: crd.group,
        scope: crd.scope ?? 'Namespaced',
        names: { plural: crd.plural, singular: crd.kind.toLowerCase(), kind: crd.kind },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            ...(crd.statusSubresource ? { subresources: { status: {} } } : {}),
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    },
  });
  if (status !== 201 && !(status === 409 && crd.reuseExisting)) throw new Error(`cannot create CRD ${name}: ${status} ${body}`);
  await until(async () => (await access.request('GET', `/apis/${crd.group}/v1/${crd.plural}`)).status === 200 || undefined, `the ${crd.kind} type to be served`);
}
