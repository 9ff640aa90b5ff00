// The public surface of @gitops-reverser/contract: what adapter authors build on. Types only where
// possible; the few functions here have no dependencies. Anything not exported is internal.

// Event model
export type { ResourceIdentity, KubeObject, KubeObjectMeta } from './identity.js';
export { identityKey, identityOf, apiVersionOf, parseApiVersion, CORE_GROUP_KEY, CLUSTER_SCOPE_KEY } from './identity.js';
export { inWrittenOrder } from './key-order.js';
export type { ChangeEvent, ChangeOperation, ChangePhase, ObservedBy, Actor, Attribution } from './change-event.js';

// Selection: rules and targets as the kernel hands them to adapters
export type { RuleConfig, RuleScope, RuleOperation, UnselectedPolicy, CredentialMode, TargetConfig, Selection, ResourceType } from './selection.js';
export { ruleMatchesType, ruleSelects, ruleLabelVerdict, ruleHasLabelSelectors, labelsOf, rulesForCluster, operationsOf } from './selection.js';
export type { LabelSelector, LabelSelectorRequirement, Labels } from './label-selector.js';
export { labelSelectorMatches, labelSelectorString, labelSelectorProblem, isEmptyLabelSelector } from './label-selector.js';

// Slot contracts
export type { AdapterHealth, AdapterState } from './adapter-health.js';
export type { BusMessage, ChangeMessage, SnapshotEndMessage, AttributionMessage, AttributionFact } from './bus-message.js';
export type { Bus, BusContext, Delivery, FetchOptions, PartitionLease } from './bus.js';
export type { Normalizer, NormalizerPhase, NormalizeContext, ProtectedType, ProtectedTypes } from './normalizer.js';
export type {
  Sink,
  SinkBatch,
  SinkChange,
  SinkMessage,
  SinkSnapshotEnd,
  SinkItem,
  SinkOutcome,
  SinkContext,
  SinkPartition,
  BatchPolicy,
  TargetPlan,
  TargetProblem,
  PlannedTarget,
} from './sink.js';
export type { Source, SourceContext, SnapshotWriter } from './source.js';

// Adapters and DI
export type { AdapterDescriptor, AdapterMeta, AdapterContext, AdapterSlot, SlotInstances, ServiceToken, ServiceNeed, ConfigView } from './adapter.js';
export { defineAdapter, serviceToken, serviceNeeds, KernelServices, ADAPTER_SLOTS } from './adapter.js';
export { packageVersionOf } from './package-version.js';
export type { StoredContent } from './stored-content.js';
export { StoredContentService } from './stored-content.js';
export type { StoredHistory, StoredRevision, StoredObjectFile, StoredObjectChange, StoredObjectRef, StoredSelection, StoredHistoryQuery } from './stored-history.js';
export { StoredHistoryService } from './stored-history.js';
export { adapterShapeProblems, changeEventProblem, attributionFactProblem } from './adapter-shape.js';

// Logging, metrics, time
export type { Logger, LogFn, Metrics, MetricLabels, CounterMetric, GaugeMetric, HistogramMetric, Clock } from './observability.js';

// Errors and retries
export type { GitopsReverserErrorOptions } from './errors.js';
export { ContractErrorCodes, GitopsReverserError, grError, isGitopsReverserError, errorText } from './errors.js';
export type { BackoffOptions } from './backoff.js';
export { backoffDelayMs } from './backoff.js';
