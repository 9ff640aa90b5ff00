/**
 * Group, plural resource and scope of the kinds Kubernetes serves itself. A person names an object by kind
 * (`Deployment/team-a/web`); the layout places files by group and resource. For these kinds the file's
 * path is known exactly, which lets git answer from its path index; any other kind is looked for with a
 * pattern (correct, slower on very long histories). A kind served under a group of its own is not
 * mistaken for one of these: every file found is checked by its content. A document of a cluster-scoped
 * kind without `metadata.namespace` is cluster-scoped wherever it is (kustomize does not give these a
 * namespace either).
 */
const KINDS: Record<string, { group: string; resource: string; clusterScoped?: true }> = {
  Binding: { group: '', resource: 'bindings' },
  ConfigMap: { group: '', resource: 'configmaps' },
  Endpoints: { group: '', resource: 'endpoints' },
  Event: { group: '', resource: 'events' },
  LimitRange: { group: '', resource: 'limitranges' },
  Namespace: { group: '', resource: 'namespaces', clusterScoped: true },
  Node: { group: '', resource: 'nodes', clusterScoped: true },
  PersistentVolume: { group: '', resource: 'persistentvolumes', clusterScoped: true },
  PersistentVolumeClaim: { group: '', resource: 'persistentvolumeclaims' },
  Pod: { group: '', resource: 'pods' },
  PodTemplate: { group: '', resource: 'podtemplates' },
  ReplicationController: { group: '', resource: 'replicationcontrollers' },
  ResourceQuota: { group: '', resource: 'resourcequotas' },
  Secret: { group: '', resource: 'secrets' },
  Service: { group: '', resource: 'services' },
  ServiceAccount: { group: '', resource: 'serviceaccounts' },
  MutatingWebhookConfiguration: { group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations', clusterScoped: true },
  ValidatingWebhookConfiguration: { group: 'admissionregistration.k8s.io', resource: 'validatingwebhookconfigurations', clusterScoped: true },
  CustomResourceDefinition: { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', clusterScoped: true },
  APIService: { group: 'apiregistration.k8s.io', resource: 'apiservices', clusterScoped: true },
  ControllerRevision: { group: 'apps', resource: 'controllerrevisions' },
  DaemonSet: { group: 'apps', resource: 'daemonsets' },
  Deployment: { group: 'apps', resource: 'deployments' },
  ReplicaSet: { group: 'apps', resource: 'replicasets' },
  StatefulSet: { group: 'apps', resource: 'statefulsets' },
  HorizontalPodAutoscaler: { group: 'autoscaling', resource: 'horizontalpodautoscalers' },
  CronJob: { group: 'batch', resource: 'cronjobs' },
  Job: { group: 'batch', resource: 'jobs' },
  CertificateSigningRequest: { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', clusterScoped: true },
  Lease: { group: 'coordination.k8s.io', resource: 'leases' },
  EndpointSlice: { group: 'discovery.k8s.io', resource: 'endpointslices' },
  FlowSchema: { group: 'flowcontrol.apiserver.k8s.io', resource: 'flowschemas', clusterScoped: true },
  PriorityLevelConfiguration: { group: 'flowcontrol.apiserver.k8s.io', resource: 'prioritylevelconfigurations', clusterScoped: true },
  Ingress: { group: 'networking.k8s.io', resource: 'ingresses' },
  IngressClass: { group: 'networking.k8s.io', resource: 'ingressclasses', clusterScoped: true },
  NetworkPolicy: { group: 'networking.k8s.io', resource: 'networkpolicies' },
  RuntimeClass: { group: 'node.k8s.io', resource: 'runtimeclasses', clusterScoped: true },
  PodDisruptionBudget: { group: 'policy', resource: 'poddisruptionbudgets' },
  ClusterRole: { group: 'rbac.authorization.k8s.io', resource: 'clusterroles', clusterScoped: true },
  ClusterRoleBinding: { group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings', clusterScoped: true },
  Role: { group: 'rbac.authorization.k8s.io', resource: 'roles' },
  RoleBinding: { group: 'rbac.authorization.k8s.io', resource: 'rolebindings' },
  PriorityClass: { group: 'scheduling.k8s.io', resource: 'priorityclasses', clusterScoped: true },
  CSIDriver: { group: 'storage.k8s.io', resource: 'csidrivers', clusterScoped: true },
  CSINode: { group: 'storage.k8s.io', resource: 'csinodes', clusterScoped: true },
  StorageClass: { group: 'storage.k8s.io', resource: 'storageclasses', clusterScoped: true },
  VolumeAttachment: { group: 'storage.k8s.io', resource: 'volumeattachments', clusterScoped: true },
};

/** Group, resource and scope of a kind Kubernetes itself serves (in that group, when one is given); undefined otherwise. */
export function wellKnownKind(kind: string, group?: string): { group: string; resource: string; clusterScoped?: true } | undefined {
  const known = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
  if (!known || (group !== undefined && group !== known.group)) return undefined;
  return known;
}
