import {
  type AttemptResult,
  type AttemptScope,
  type Deferral,
  type DeliveryTelemetry,
  type EmitScope,
  type EmpathyEvent,
  type QueueObserver,
  type TraceCarrier,
  WebhookConfigError,
} from '@empathy/webhooks-core';
import type { DeliveryJob, JobError } from '@empathy/webhooks-core/queue';
import {
  type Attributes,
  type BatchObservableResult,
  context,
  diag,
  type Histogram,
  type MeterProvider,
  metrics,
  type ObservableGauge,
  type ObservableResult,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import {
  ATTRIBUTES as A,
  DEFERRED_EVENT,
  INSTRUMENTATION_SCOPE,
  LATENCY_BUCKETS_SECONDS,
  METRICS,
} from './names.js';
import { fromCarrier, isValid, toCarrier, toHeaders } from './trace-context.js';

/** Options for {@link openTelemetry}. */
export interface OpenTelemetryOptions {
  /**
   * Where spans go.
   * @default the global tracer provider (`trace.getTracerProvider()`), e.g. the one `NodeSDK` registers
   */
  tracerProvider?: TracerProvider | undefined;
  /**
   * Where metrics go. The global meter provider is read once, when `openTelemetry()` is called:
   * start your SDK before, or pass it here.
   * @default the global meter provider (`metrics.getMeterProvider()`)
   */
  meterProvider?: MeterProvider | undefined;
  /**
   * Send each attempt's `traceparent` and `tracestate` headers to the receiver (integrations that
   * speak HTTP to your own endpoint, such as `CustomWebhook`, add them), so the receiver's trace
   * continues the delivery. Turn it off if an HTTP client instrumentation already sends them.
   * @default true
   */
  propagateToReceiver?: boolean | undefined;
  /**
   * How long a metric collection waits for a queue's depth (the pending and dead-letter gauges),
   * in ms. A queue that does not answer in time (Redis down) is left out of that collection.
   * @default 5000
   */
  depthTimeoutMs?: number | undefined;
}

/**
 * Delivery telemetry on OpenTelemetry: pass the result as `telemetry` to `new EmpathyOS()`,
 * `new Dispatcher()` or `startWorker()`.
 *
 * - One `emit <event_type>` span (PRODUCER) per `emit()`, a child of the active context. Its trace
 *   context is stored with every job, by every queue.
 * - One `deliver <webhook>` span (CLIENT) per attempt, a child of the emit span even when the
 *   attempt runs after a restart or in another process. A wait for a rate limit or an open circuit
 *   is an `empathy.delivery.deferred` event on the next attempt's span (which then starts at the
 *   first wait), not a failed span.
 * - Metrics `empathy.webhook.deliveries`, `empathy.webhook.attempt.duration` (seconds),
 *   `empathy.webhook.pending` and `empathy.webhook.dead_letters`; see {@link METRICS}.
 *
 * No attribute, event or metric holds a secret (error messages are redacted by core), and metric
 * attributes are bounded: webhook name, event type, outcome (never an event id).
 *
 * @example
 * import { openTelemetry } from '@empathy/webhooks-otel';
 * const empathy = new EmpathyOS({ userId: 'team', webhooks, telemetry: openTelemetry() });
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): DeliveryTelemetry {
  return new OpenTelemetryDelivery(parseOptions(options));
}

/** Deferrals of one job's next attempt seen in this process, to put on that attempt's span. */
interface Waiting {
  attempt: number;
  /** Epoch ms of the first wait: the attempt's span starts there. */
  since: number;
  deferrals: { at: number; reason: string; until: number }[];
}

/** Jobs whose deferrals are remembered at most (a job deferred here may be attempted elsewhere). */
const MAX_WAITING = 10_000;
/** Deferral events kept per attempt span. */
const MAX_DEFERRALS = 32;

class OpenTelemetryDelivery implements DeliveryTelemetry {
  readonly #tracer: Tracer;
  /**
   * Delivery steps counted here and observed at collection time (an observable counter): one
   * Map lookup per step instead of the SDK hashing the attributes of every `add()`, which was the
   * largest single cost of recording a delivery.
   */
  readonly #counts = new DeliveryCounts();
  readonly #duration: Histogram;
  readonly #propagate: boolean;
  readonly #depthTimeoutMs: number;
  readonly #observers = new Map<object, QueueObserver>();
  readonly #waiting = new Map<string, Waiting>();

  constructor(options: Required<OpenTelemetryOptions>) {
    this.#tracer = options.tracerProvider.getTracer(INSTRUMENTATION_SCOPE);
    this.#propagate = options.propagateToReceiver;
    this.#depthTimeoutMs = options.depthTimeoutMs;
    const meter = options.meterProvider.getMeter(INSTRUMENTATION_SCOPE);
    const deliveries = meter.createObservableCounter(METRICS.deliveries, {
      unit: '{delivery}',
      description:
        'Delivery steps by outcome: one per attempt (delivered, retry, dead) and one per wait for a rate limit or an open circuit (deferred).',
    });
    deliveries.addCallback((result) => this.#counts.observe(result));
    this.#duration = meter.createHistogram(METRICS.attemptDuration, {
      unit: 's',
      description: 'Duration of delivery attempts.',
      advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS_SECONDS] },
    });
    const pending = meter.createObservableGauge(METRICS.pending, {
      unit: '{job}',
      description: 'Deliveries queued, deferred, waiting for a retry or in flight.',
    });
    const deadLetters = meter.createObservableGauge(METRICS.deadLetters, {
      unit: '{job}',
      description: 'Deliveries that failed for good and wait in the dead letters.',
    });
    meter.addBatchObservableCallback(
      (result) => this.#observeDepth(result, pending, deadLetters),
      [pending, deadLetters],
    );
  }

  onEmit(event: EmpathyEvent): EmitScope {
    const span = this.#tracer.startSpan(
      `emit ${event.event_type}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: { [A.eventType]: event.event_type, [A.eventId]: event.event_id },
      },
      context.active(),
    );
    // The API's no-op tracer (no SDK started, or OTEL_SDK_DISABLED) and no trace to continue.
    if (untraced(span)) return UNTRACED_EMIT;
    return new EmitSpan(span, toCarrier(span.spanContext()));
  }

  onAttemptStart(job: DeliveryJob, attempt: number): AttemptScope {
    const waiting = this.#waiting.get(job.id);
    if (waiting) this.#waiting.delete(job.id);
    const waited = waiting?.attempt === attempt ? waiting : undefined;
    // The span covers the waits for the rate limit or circuit that came before this attempt.
    const span = this.#deliverSpan(job, attempt, waited?.since);
    // Nothing to record or pass on: count the attempt, and add no context or headers to it.
    if (untraced(span)) return new UntracedAttempt(this, job);
    if (waited) {
      for (const d of waited.deferrals) {
        span.addEvent(
          DEFERRED_EVENT,
          { [A.deferReason]: d.reason, [A.deferredUntil]: new Date(d.until).toISOString() },
          d.at,
        );
      }
    }
    const headers = this.#propagate ? toHeaders(span.spanContext()) : undefined;
    return new AttemptSpan(this, job, span, headers);
  }

  onDeferred(job: DeliveryJob, deferral: Deferral): void {
    this.#counts.add(job.webhook, job.event.event_type, 'deferred');
    const now = Date.now();
    let waiting = this.#waiting.get(job.id);
    if (!waiting || waiting.attempt !== deferral.attempt) {
      if (waiting) this.#waiting.delete(job.id);
      else if (this.#waiting.size >= MAX_WAITING) {
        // The oldest entry: its job was most likely attempted by another process.
        this.#waiting.delete(this.#waiting.keys().next().value!);
      }
      waiting = { attempt: deferral.attempt, since: now, deferrals: [] };
      this.#waiting.set(job.id, waiting);
    }
    if (waiting.deferrals.length < MAX_DEFERRALS) {
      waiting.deferrals.push({ at: now, reason: deferral.reason, until: deferral.until });
    }
  }

  onRejected(job: DeliveryJob, error: JobError): void {
    const span = this.#deliverSpan(job, job.attempt + 1, undefined);
    span.setAttribute(A.deliveryOutcome, 'dead');
    fail(span, error.name, error.message);
    span.end();
    this.#counts.add(job.webhook, job.event.event_type, 'dead');
  }

  /** The `deliver <webhook>` span of one attempt, a child of the emit's context carried in the job. */
  #deliverSpan(job: DeliveryJob, attempt: number, startTime: number | undefined): Span {
    const options: SpanOptions = {
      kind: SpanKind.CLIENT,
      attributes: {
        [A.webhookName]: job.webhook,
        [A.eventType]: job.event.event_type,
        [A.eventId]: job.event.event_id,
        [A.deliveryAttempt]: attempt,
      },
    };
    if (startTime !== undefined) options.startTime = startTime;
    return this.#tracer.startSpan(`deliver ${job.webhook}`, options, fromCarrier(job.trace));
  }

  observeQueue(observer: QueueObserver): () => void {
    this.#observers.set(observer.queue, observer);
    return () => {
      if (this.#observers.get(observer.queue) === observer) this.#observers.delete(observer.queue);
    };
  }

  /** Records an ended attempt's metrics. */
  recordAttempt(job: DeliveryJob, result: AttemptResult): void {
    if (result.outcome === 'abandoned') return;
    this.#counts.add(job.webhook, job.event.event_type, result.outcome);
    this.#duration.record(result.durationMs / 1000, {
      [A.webhookName]: job.webhook,
      [A.deliveryOutcome]: result.outcome,
    });
  }

  /** The gauges' callback: every observed queue's depth, summed per webhook. */
  async #observeDepth(
    result: BatchObservableResult,
    pendingGauge: ObservableGauge,
    deadGauge: ObservableGauge,
  ): Promise<void> {
    if (this.#observers.size === 0) return;
    const pending = new Map<string, number>();
    const dead = new Map<string, number>();
    const add = (into: Map<string, number>, counts: Record<string, number>) => {
      for (const [webhook, n] of Object.entries(counts)) into.set(webhook, (into.get(webhook) ?? 0) + n);
    };
    await Promise.all(
      [...this.#observers.values()].map(async (observer) => {
        try {
          const depth = await withTimeout(observer.depth(), this.#depthTimeoutMs);
          add(pending, depth.pending);
          add(dead, depth.deadLetters);
        } catch (error) {
          diag.warn(`${INSTRUMENTATION_SCOPE}: reading a queue's depth failed: ${(error as Error)?.message}`);
        }
      }),
    );
    for (const [webhook, n] of pending) result.observe(pendingGauge, n, { [A.webhookName]: webhook });
    for (const [webhook, n] of dead) result.observe(deadGauge, n, { [A.webhookName]: webhook });
  }
}

type CountedOutcome = 'delivered' | 'retry' | 'dead' | 'deferred';

/** Delivery steps per webhook, event type and outcome: bounded (no event ids), cumulative. */
class DeliveryCounts {
  readonly #byWebhook = new Map<string, Map<string, Record<CountedOutcome, number>>>();

  add(webhook: string, eventType: string, outcome: CountedOutcome): void {
    let byType = this.#byWebhook.get(webhook);
    if (!byType) {
      byType = new Map();
      this.#byWebhook.set(webhook, byType);
    }
    let counts = byType.get(eventType);
    if (!counts) {
      counts = { delivered: 0, retry: 0, dead: 0, deferred: 0 };
      byType.set(eventType, counts);
    }
    counts[outcome]++;
  }

  observe(result: ObservableResult): void {
    for (const [webhook, byType] of this.#byWebhook) {
      for (const [eventType, counts] of byType) {
        for (const outcome of OUTCOMES) {
          const n = counts[outcome];
          if (n > 0) {
            result.observe(n, {
              [A.webhookName]: webhook,
              [A.eventType]: eventType,
              [A.deliveryOutcome]: outcome,
            });
          }
        }
      }
    }
  }
}

const OUTCOMES: readonly CountedOutcome[] = ['delivered', 'retry', 'dead', 'deferred'];

/**
 * Whether a span is the API's no-op one with no trace around it (no SDK started, or
 * OTEL_SDK_DISABLED): then there is nothing to record, propagate or nest. A span an SDK chose not
 * to sample still has a valid context, and is passed on.
 */
function untraced(span: Span): boolean {
  return !span.isRecording() && !isValid(span.spanContext());
}

const UNTRACED_EMIT: EmitScope = { end() {} };

/** An attempt without a trace: only its metrics are recorded. */
class UntracedAttempt implements AttemptScope {
  constructor(
    readonly owner: OpenTelemetryDelivery,
    readonly job: DeliveryJob,
  ) {}

  end(result: AttemptResult): void {
    this.owner.recordAttempt(this.job, result);
  }
}

class EmitSpan implements EmitScope {
  constructor(
    readonly span: Span,
    readonly trace: TraceCarrier | undefined,
  ) {}

  end(error?: Error): void {
    if (error) fail(this.span, error.name, error.message);
    this.span.end();
  }
}

class AttemptSpan implements AttemptScope {
  readonly #owner: OpenTelemetryDelivery;
  readonly #job: DeliveryJob;
  readonly #span: Span;

  constructor(
    owner: OpenTelemetryDelivery,
    job: DeliveryJob,
    span: Span,
    readonly headers: Readonly<Record<string, string>> | undefined,
  ) {
    this.#owner = owner;
    this.#job = job;
    this.#span = span;
  }

  run<T>(fn: () => T): T {
    return context.with(trace.setSpan(context.active(), this.#span), fn);
  }

  end(result: AttemptResult): void {
    const span = this.#span;
    const attributes: Attributes = { [A.deliveryOutcome]: result.outcome };
    if (result.status !== undefined) attributes[A.httpStatus] = result.status;
    span.setAttributes(attributes);
    if (result.outcome !== 'delivered') {
      const error = result.error;
      if (error) fail(span, error.name, error.message);
      else fail(span, 'WebhookError', 'the host closed before this attempt finished');
    }
    span.end();
    this.#owner.recordAttempt(this.#job, result);
  }
}

/** Marks a span failed with a redacted message (core redacts delivery errors before they get here). */
function fail(span: Span, type: string, message: string): void {
  span.setAttribute(A.errorType, type);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function parseOptions(options: OpenTelemetryOptions): Required<OpenTelemetryOptions> {
  const fail = (message: string): never => {
    throw new WebhookConfigError(`openTelemetry: ${message}`);
  };
  if (options === null || typeof options !== 'object') fail('options must be an object');
  const { tracerProvider, meterProvider, propagateToReceiver = true, depthTimeoutMs = 5000 } = options;
  if (tracerProvider !== undefined && typeof tracerProvider?.getTracer !== 'function') {
    fail(`option 'tracerProvider' must be an OpenTelemetry TracerProvider (with getTracer)`);
  }
  if (meterProvider !== undefined && typeof meterProvider?.getMeter !== 'function') {
    fail(`option 'meterProvider' must be an OpenTelemetry MeterProvider (with getMeter)`);
  }
  if (typeof propagateToReceiver !== 'boolean') fail(`option 'propagateToReceiver' must be a boolean`);
  if (!Number.isInteger(depthTimeoutMs) || depthTimeoutMs < 1) {
    fail(`option 'depthTimeoutMs' must be a positive integer (got ${JSON.stringify(depthTimeoutMs)})`);
  }
  return {
    tracerProvider: tracerProvider ?? trace.getTracerProvider(),
    meterProvider: meterProvider ?? metrics.getMeterProvider(),
    propagateToReceiver,
    depthTimeoutMs,
  };
}
