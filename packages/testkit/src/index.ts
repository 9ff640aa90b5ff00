export { ControlPlane, ControlPlaneAccess, TEST_USERS, DEFAULT_AUDIT_POLICY } from './control-plane.js';
export type { ControlPlaneInfo, ControlPlaneOptions, AuditWebhookOptions, AdmissionWebhookClientOptions, TestUserName } from './control-plane.js';
export {
  controlPlaneBinaries,
  nodeBinaries,
  gitopsReverserImage,
  pauseImage,
  toolBinaries,
  helmBinary,
  BUILD_SCRIPT,
  IMAGE_BUILD_SCRIPT,
  PAUSE_BUILD_SCRIPT,
  TOOLS_BUILD_SCRIPT,
  HELM_BUILD_SCRIPT,
} from './binaries.js';
export type { BuiltImage, ControlPlaneBinaries, NodeBinaries, ToolBinaries } from './binaries.js';
export { createPki, issueCertificate } from './pki.js';
export type { Pki } from './pki.js';
export { freePort } from './free-port.js';
export { AuditReceiver } from './audit-receiver.js';
export type { AuditEvent } from './audit-receiver.js';
export { AdmissionWebhook } from './admission-webhook.js';
export type { AdmissionRequest } from './admission-webhook.js';
export { createTestNamespace } from './namespaces.js';
export { createCustomResourceDefinition } from './custom-resources.js';
export type { TestCustomResourceDefinition } from './custom-resources.js';
export type { TestClusterInfo } from './global-setup.js';
export { cacheRoot, listEntries, reap, reapOrphans, recordEntry, isAlive } from './process-registry.js';
export type { RegistryEntry } from './process-registry.js';
export { localClusterPaths } from './local-cluster.js';
export { GitHttpServer } from './git-http-server.js';
export type { GitHttpServerOptions } from './git-http-server.js';
export { TcpProxy } from './tcp-proxy.js';
export { ApiRequestRecorder } from './api-request-recorder.js';
export { plantedCredentials, plantedObject, plantedPath, PLANTED_CRD } from './planted-credentials.js';
export type { PlantedCredential, Placement } from './planted-credentials.js';
export type { RecordedRequest } from './api-request-recorder.js';
export { until } from './until.js';
export { NatsServer } from './nats-server.js';
export type { NatsServerOptions } from './nats-server.js';
export { NatsOperator } from './nats-operator.js';
export type { NatsCredsUser } from './nats-operator.js';
export { createNatsNkeyUser } from './nats-nkey-user.js';
export type { NatsNkeyUser } from './nats-nkey-user.js';
export { GitSshServer, SSHD_PATH } from './git-ssh-server.js';
export type { SshKeyPair } from './git-ssh-server.js';
export { ClusterNode, NODE_NAME, POD_CIDR } from './cluster-node.js';
export { podman, missingImagePrerequisites } from './podman.js';
