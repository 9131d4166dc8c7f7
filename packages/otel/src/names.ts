/**
 * The names this package records under: span attributes and metric attributes, metric
 * instruments, and span event names. Use them in queries and dashboards.
 */

/** Attribute names on spans and metrics. */
export const ATTRIBUTES = {
  /** The event's type (`alert`, `prediction`, …). Spans and the deliveries counter. */
  eventType: 'empathy.event.type',
  /** The event's id (`evt_…`). Spans only: never a metric attribute (unbounded cardinality). */
  eventId: 'empathy.event.id',
  /** The webhook's name. Deliver spans and every metric. */
  webhookName: 'empathy.webhook.name',
  /** The attempt number, 1-based. Deliver spans. */
  deliveryAttempt: 'empathy.delivery.attempt',
  /** `delivered`, `retry`, `dead`, `deferred` (or `abandoned` on a span cut off by close()). */
  deliveryOutcome: 'empathy.delivery.outcome',
  /**
   * Why a delivery waited: `rate_limit`, `circuit_open`, or `incident_order` (an earlier
   * notification of its incident had not posted yet). On `empathy.delivery.deferred` span events.
   */
  deferReason: 'empathy.delivery.defer_reason',
  /** When the waiting delivery may go (ISO time). On `empathy.delivery.deferred` span events. */
  deferredUntil: 'empathy.delivery.deferred_until',
  /** The vendor's HTTP status, when there was an answer (OpenTelemetry HTTP semantic conventions). */
  httpStatus: 'http.response.status_code',
  /** On a failed span: the error's name (`WebhookDeliveryError`, …) (OpenTelemetry semantic conventions). */
  errorType: 'error.type',
} as const;

/** Metric instrument names. */
export const METRICS = {
  /**
   * Counter of delivery steps by outcome: one per attempt (`delivered`, `retry`, `dead`) and one per
   * wait for a rate limit or an open circuit (`deferred`). Attributes: webhook name, event type, outcome.
   */
  deliveries: 'empathy.webhook.deliveries',
  /** Histogram of attempt durations in seconds. Attributes: webhook name, outcome. */
  attemptDuration: 'empathy.webhook.attempt.duration',
  /** Gauge of jobs queued, deferred, waiting for a retry or in flight. Attribute: webhook name. */
  pending: 'empathy.webhook.pending',
  /** Gauge of dead letters. Attribute: webhook name. */
  deadLetters: 'empathy.webhook.dead_letters',
} as const;

/** The span event recorded on a deliver span for each wait (rate limit, open circuit) before it. */
export const DEFERRED_EVENT = 'empathy.delivery.deferred';

/**
 * Bucket boundaries of the attempt-duration histogram, in seconds: from 5 ms (a fast loopback or
 * same-region receiver) to 60 s (past the default 30 s attempt timeout).
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
]);

/** The instrumentation scope of this package's tracer and meter. */
export const INSTRUMENTATION_SCOPE = '@empathy/webhooks-otel';
