// The public surface of @gitops-reverser/kernel: the runtime an operator runs from a config file and
// an integrator composes in code. Adapter authors build on @gitops-reverser/contract instead; nothing
// of it is re-exported here. Anything not exported is internal and may change.

// Config
export type { GitopsReverserConfig, AdapterRef, SourceRef, SanitizerConfig, FieldRemoval, CredentialsConfig, CredentialIgnore, LogFormat, LogLevel, SourcePosition } from './config/config-types.js';
export { CONFIG_API_VERSION } from './config/config-types.js';
export type { ConfigInput, LoadConfigOptions } from './config/load-config.js';
export { loadConfigFile, parseConfig, defineConfig, DEFAULT_BUS, DEFAULT_SINK } from './config/load-config.js';
export type { ConfigProblem } from './config/config-problem.js';
export { ConfigValidationError } from './config/config-problem.js';

// Runtime
export type { RuntimeOptions, CreateRuntimeOptions, SnapshotProgress, SnapshotReport } from './runtime/runtime.js';
export { Runtime, createRuntime } from './runtime/runtime.js';
export type { GivenAdapter, GivenAdapters, GivenSource } from './assembly/assemble.js';
export type { HealthReport } from './runtime/health-report.js';
export { createLogger, silentLogger } from './runtime/logger.js';
export { KernelMetrics, METRIC_PREFIX } from './runtime/metrics.js';
export type { MetricRegistry } from './metrics/metric-registry.js';
export type { MetricFamily, MetricSample, MetricSnapshot, MetricType, LabelValues } from './metrics/metric-family.js';
export { KERNEL_VERSION } from './plugin/kernel-version.js';
export type { RbacSubject, RbacPlan, PolicyRule, KubernetesManifest } from './rbac/rbac-for-rules.js';
export { rbacForRules } from './rbac/rbac-for-rules.js';
export type { AdmissionWebhookClient, AdmissionWebhookOptions, AdmissionWebhookPlan, AdmissionWebhookRule } from './webhook/admission-webhook-configuration.js';
export { admissionWebhookForConfig, admissionRuleFor, ADMISSION_SOURCE_PACKAGE, MAX_ADMISSION_TIMEOUT_SECONDS } from './webhook/admission-webhook-configuration.js';

// Normalizing (what the kernel does to every object before a sink sees it)
export { createDefaultSanitizer, DEFAULT_SANITIZER_NAME, DEFAULT_SANITIZER_CONFIG } from './normalize/default-sanitizer.js';
export { SERVER_OWNED_METADATA, NOISE_ANNOTATIONS, NOISE_LABELS, GITOPS_TOOL_ANNOTATIONS, GITOPS_TOOL_LABELS, SERVICE_ALLOCATED_FIELDS, BUILT_IN_LISTS } from './normalize/noise-lists.js';
export type { BuiltInList } from './normalize/noise-lists.js';
export { renderYaml } from './normalize/render-yaml.js';
export { contentHash } from './normalize/content-hash.js';

// Errors
export type { ErrorCode } from './errors.js';
export { ErrorCodes } from './errors.js';
