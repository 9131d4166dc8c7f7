export { DEFAULT_CONCURRENCY, Dispatcher, type DispatcherOptions } from './dispatcher.js';
export {
  isWebhookConfigError,
  isWebhookDeliveryError,
  isWebhookError,
  isWebhookPayloadError,
  isWebhookSignatureError,
  isWebhookTimeoutError,
  redact,
  safeOrigin,
  toDeliveryError,
  WebhookConfigError,
  WebhookDeliveryError,
  type WebhookDeliveryErrorOptions,
  WebhookError,
  WebhookPayloadError,
  WebhookSignatureError,
  WebhookTimeoutError,
} from './errors.js';
export {
  assertEventType,
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
export { conditionFingerprint, conditionIdentity } from './fingerprint.js';
export {
  type DeliveryListener,
  type DeliveryOutcome,
  WebhookMonitor,
  type WebhookStats,
} from './monitor.js';
export {
  type CommonWebhookOptions,
  type DeliveryContext,
  type DeliveryReceipt,
  type ParsedCommonOptions,
  parseCommonOptions,
  parseEndpointOption,
  type WebhookHost,
  type WebhookPlugin,
  wants,
} from './plugin.js';
export {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  DEFAULT_CIRCUIT_BREAKER,
} from './policies/circuit-breaker.js';
export {
  createRateLimiter,
  EXACT_SLIDING_WINDOW_LIMIT,
  normalizeRateLimit,
  type RateLimit,
  type RateLimiter,
  type RateLimiterFactory,
  type ResolvedRateLimit,
} from './policies/rate-limit.js';
export {
  backoffMs,
  DEFAULT_RETRY_POLICY,
  isRetryable,
  isRetryableStatus,
  MAX_WAIT_SECONDS,
  nextRetryDelayMs,
  normalizeRetryPolicy,
  parseRetryAfter,
  RETRYABLE_STATUSES,
  type ResolvedRetryPolicy,
  type RetryPolicy,
} from './policies/retry.js';
export { type Lane, LaneScheduler, type LaneSource, newLane } from './queue/lanes.js';
export { createDeadLetterStore, MemoryQueue, type MemoryQueueOptions } from './queue/memory.js';
export { serializeEvent } from './queue/serialize.js';
export type {
  DeadLetter,
  DeadLetterStore,
  DeliveryJob,
  DeliveryQueue,
  JobError,
  JobHandler,
  JobOutcome,
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
export {
  clean as cleanText,
  type EventSummary,
  type Fact as SummaryFact,
  type Link as SummaryLink,
  SEVERITY_LABELS,
  type Section as SummarySection,
  safeLink,
  summarize as summarizeEvent,
  truncate as truncateText,
} from './summary.js';
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
export { type LongTimeout, MAX_TIMER_DELAY_MS, setLongTimeout } from './timers.js';
