// The public surface of @gitops-reverser/kernel. Everything an adapter author or integrator may use
// is listed here by name; anything not exported is internal and may change.
import 'reflect-metadata';

// Event model
export type { ResourceIdentity, KubeObject, KubeObjectMeta } from './model/identity.js';
export { identityKey, identityOf, apiVersionOf, parseApiVersion, CORE_GROUP_KEY, CLUSTER_SCOPE_KEY } from './model/identity.js';
export type { ChangeEvent, ChangeOperation, EventOrigin, Actor } from './model/change-event.js';
export { partitionKeyOf, parsePartitionKey, repoLocationOf, resolveProviderUrl, isRemoteUrl } from './model/partition-key.js';

// Adapter contracts
export type { AdapterHealth, AdapterState } from './contracts/adapter-health.js';
export type { BusMessage, ChangeMessage, SnapshotMessage } from './contracts/bus-message.js';
export type { Bus, BusContext, Delivery, FetchOptions, PartitionLease } from './contracts/bus.js';
export type { Normalizer, NormalizerPhase, NormalizeContext } from './contracts/normalizer.js';
export type { Sink, SinkBatch, SinkItem, SinkOutcome, SinkContext, BatchPolicy } from './contracts/sink.js';
export type { Source, SourceContext, Selection, SnapshotWriter } from './contracts/source.js';

// Plugins and DI
export type { AdapterDescriptor, AdapterMeta, AdapterContext, AdapterSlot, SlotInstances } from './plugin/adapter-descriptor.js';
export { defineAdapter, SlotTokens, KernelTokens, ADAPTER_SLOTS } from './plugin/adapter-descriptor.js';
export type { LoadedAdapter, LoadedAdapters } from './plugin/load-adapters.js';
export { loadAdapters } from './plugin/load-adapters.js';
export type { AdapterResolution, ResolvedAdapterModule } from './plugin/resolve-adapter.js';
export { resolveAdapter } from './plugin/resolve-adapter.js';
export { KERNEL_VERSION } from './plugin/kernel-version.js';
export { packageVersionOf } from './plugin/package-version.js';

// Config
export type {
  GitopsReverserConfig,
  AdapterRef,
  ProviderConfig,
  ProviderAuth,
  TargetConfig,
  RuleConfig,
  RuleScope,
  RuleOperation,
  PruneMode,
  SanitizerConfig,
  FieldRemoval,
  LogLevel,
  SourcePosition,
} from './config/config-types.js';
export { loadConfigFile, parseConfig, DEFAULT_BUS, DEFAULT_SINK, DEFAULT_SOURCE } from './config/load-config.js';
export type { ConfigProblem } from './config/config-problem.js';
export { ConfigValidationError } from './config/config-problem.js';
export { branchAllowed } from './config/branch-pattern.js';
export { normalizeTargetPath, targetPathProblem, pathsOverlap } from './config/target-path.js';

// Routing
export type { Route } from './routing/route-table.js';
export { RouteTable, ruleSelects, operationsOf } from './routing/route-table.js';

// Normalizing
export { createDefaultSanitizer, SERVER_OWNED_METADATA, NOISE_ANNOTATIONS, DEFAULT_SANITIZER_NAME } from './normalize/default-sanitizer.js';
export { renderYaml } from './normalize/render-yaml.js';
export { contentHash } from './normalize/content-hash.js';

// Runtime
export type { AdapterInstances, RuntimeOptions } from './runtime/runtime.js';
export { Runtime, selectionOf, changedTargetsBetween } from './runtime/runtime.js';
export type { HealthReport } from './runtime/http-server.js';
export type { Logger } from './runtime/logger.js';
export { createLogger, silentLogger } from './runtime/logger.js';
export { KernelMetrics, METRIC_PREFIX } from './runtime/metrics.js';
// Adapters build their metrics with the kernel's prom-client, so one registry type exists.
export { Counter, Gauge, Histogram } from 'prom-client';
export { retryDelayMs } from './runtime/partition-worker.js';
export { withTimeout } from './runtime/with-timeout.js';

// Errors
export type { ErrorCode, GitopsReverserErrorOptions } from './errors.js';
export { ErrorCodes, GitopsReverserError, grError, isGitopsReverserError, errorText } from './errors.js';
