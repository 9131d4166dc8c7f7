/**
 * `@empathy/webhooks-core`: what users of the library need: events, the dispatcher and the
 * in-memory queue, the monitor, errors, signing and verification, the plugin and queue contracts
 * as types. Integration authors build on `@empathy/webhooks-core/kit`, queue authors on
 * `@empathy/webhooks-core/queue`; test suites use `@empathy/webhooks-core/testing`.
 */
export { Dispatcher, type DispatcherOptions } from './dispatcher.js';
export {
  isWebhookConfigError,
  isWebhookDeliveryError,
  isWebhookError,
  isWebhookPayloadError,
  isWebhookSignatureError,
  isWebhookTimeoutError,
  safeOrigin,
  WebhookConfigError,
  WebhookDeliveryError,
  type WebhookDeliveryErrorOptions,
  WebhookError,
  WebhookPayloadError,
  WebhookSignatureError,
  WebhookTimeoutError,
} from './errors.js';
export {
  type BuiltInEventType,
  CLASSIFICATIONS,
  type Classification,
  type CommonEventData,
  type CreateEventOptions,
  createEvent,
  DEFAULT_FRAMEWORK_VERSION,
  type EmpathyEvent,
  type EmpathyLevel,
  EVENT_TYPES,
  type EventDataMap,
  type EventMetadata,
  type EventSelector,
  type EventType,
  type FindingData,
  isEventType,
  knownEventTypes,
  newEventId,
  type ReviewSuggestion,
  registerEventType,
  SEVERITIES,
  type Severity,
} from './events.js';
export {
  type EventIncident,
  type GroupOptions,
  INCIDENT_EVENT_TYPES,
  type IncidentContext,
  type IncidentHold,
  type IncidentState,
  type IncidentStore,
  incidentOf,
  MemoryIncidentStore,
} from './incident.js';
export {
  type DeferReason,
  type DeliveryListener,
  type DeliveryOutcome,
  WebhookMonitor,
  type WebhookStats,
} from './monitor.js';
export type {
  CommonWebhookOptions,
  DeliveryContext,
  DeliveryReceipt,
  WebhookPlugin,
} from './plugin.js';
export type {
  CircuitBreakerOptions,
  CircuitState,
} from './policies/circuit-breaker.js';
export type { RateLimit } from './policies/rate-limit.js';
export {
  MAX_WAIT_SECONDS,
  type RetryPolicy,
} from './policies/retry.js';
export { MemoryQueue, type MemoryQueueOptions } from './queue/memory.js';
export type {
  DeadLetter,
  DeadLetterStore,
  DeliveryQueue,
} from './queue/types.js';
export {
  type Body as RawBody,
  type HeaderSource,
  headerValue,
  PayloadSigner,
  type SignatureHeaders,
  signPayload,
  standardWebhookKey,
  type VerifyStandardWebhookOptions,
  verifyStandardWebhook,
  verifyWebhookSignature,
} from './signing.js';
export type {
  AttemptResult,
  AttemptScope,
  Deferral,
  DeliveryTelemetry,
  EmitScope,
  QueueDepth,
  QueueObserver,
  TraceCarrier,
} from './telemetry.js';
