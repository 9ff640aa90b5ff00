import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { ControlPlaneAccess } from './control-plane.js';

export interface AdmissionRequest {
  uid: string;
  operation: string;
  userInfo: { username: string; uid?: string; groups?: string[] };
  resource: { group: string; version: string; resource: string };
  namespace?: string;
  name?: string;
  object?: Record<string, unknown>;
}

/**
 * A validating admission webhook on a loopback HTTPS URL, registered with the API server. It
 * allows everything and records each AdmissionReview request.
 */
export class AdmissionWebhook {
  readonly requests: AdmissionRequest[] = [];
  private server: Server | undefined;

  constructor(
    private readonly access: ControlPlaneAccess,
    readonly name: string,
  ) {}

  async register(options: { port: number; cert: string; key: string; resources: string[]; namespaceLabel?: { key: string; value: string } }): Promise<void> {
    const server = createServer({ cert: readFileSync(options.cert), key: readFileSync(options.key) }, (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        const review = JSON.parse(body) as { request: AdmissionRequest };
        this.requests.push(review.request);
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request.uid, allowed: true } }));
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', () => resolve()));
    const { status, body } = await this.access.request('POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', {
      body: {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: this.name },
        webhooks: [
          {
            name: `${this.name}.gitops-reverser.test`,
            clientConfig: { url: `https://127.0.0.1:${options.port}/validate`, caBundle: Buffer.from(readFileSync(this.access.info.caCert)).toString('base64') },
            rules: [{ apiGroups: ['*'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: options.resources, scope: '*' }],
            ...(options.namespaceLabel ? { namespaceSelector: { matchLabels: { [options.namespaceLabel.key]: options.namespaceLabel.value } } } : {}),
            failurePolicy: 'Ignore',
            sideEffects: 'None',
            admissionReviewVersions: ['v1'],
            timeoutSeconds: 5,
          },
        ],
      },
    });
    if (status !== 201) throw new Error(`cannot register webhook ${this.name}: ${status} ${body}`);
  }

  async unregister(): Promise<void> {
    await this.access.request('DELETE', `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${this.name}`);
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
