import type { EmpathyEvent } from './events.js';
import type { DeferReason } from './monitor.js';
import type { DeliveryJob, JobError } from './queue/types.js';

/**
 * W3C trace context (https://www.w3.org/TR/trace-context/) carried with a delivery job, so that a
 * delivery made later, after a restart or by another process continues the trace of the `emit()`
 * that caused it. Every queue stores it with the job and hands it back unchanged; core never
 * reads it.
 */
export interface TraceCarrier {
  /** `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. */
  traceparent: string;
  /** Vendor entries, `key=value,key=value`. */
  tracestate?: string | undefined;
}

/** How an attempt ended, as told to {@link AttemptScope.end}. */
export interface AttemptResult {
  /**
   * `delivered`; `retry` (it failed and the job runs again later); `dead` (it failed for good: the
   * job is in the dead letters); `abandoned` (the host closed before it finished: a durable
   * queue runs the job again, and the monitor does not count it).
   */
  outcome: 'delivered' | 'retry' | 'dead' | 'abandoned';
  /** How long the attempt took, in ms. */
  durationMs: number;
  /** HTTP status of the vendor's answer, when there was one. */
  status?: number | undefined;
  /** The error, redacted (no secrets; URLs show their origin only), when the attempt failed. */
  error?: JobError | undefined;
  /** For `retry`: when the next attempt may run (epoch ms). */
  nextAttemptAt?: number | undefined;
}

/** What {@link DeliveryTelemetry.onEmit} returns: the trace context to store with the jobs. */
export interface EmitScope {
  /** Stored with every job of this emit (and with its dead letter), to be continued by each attempt. */
  readonly trace?: TraceCarrier | undefined;
  /** Called once the jobs are stored, or with the error that kept them from being stored. */
  end(error?: Error): void;
}

/** What {@link DeliveryTelemetry.onAttemptStart} returns: the attempt's scope. */
export interface AttemptScope {
  /**
   * Headers for the attempt's request that let the receiver continue the trace (`traceparent`,
   * `tracestate`). The dispatcher hands them to the plugin as `ctx.traceHeaders`.
   */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /**
   * Runs the plugin's `deliver` inside the attempt's context, so spans made during it (HTTP client
   * instrumentation, vendor SDKs) become its children.
   */
  run?<T>(fn: () => T): T;
  /** Called exactly once, when the attempt ends. */
  end(result: AttemptResult): void;
}

/** Why a job waits without an attempt being spent. */
export interface Deferral {
  reason: DeferReason;
  /** When the job may be tried again (epoch ms). */
  until: number;
  /** The attempt that waits (1-based). */
  attempt: number;
}

/** Jobs per webhook, as a queue reports them; see {@link DeliveryTelemetry.observeQueue}. */
export interface QueueDepth {
  /** Jobs queued, deferred, waiting for a retry or in flight, per webhook. */
  pending: Record<string, number>;
  /** Dead letters per webhook. */
  deadLetters: Record<string, number>;
}

/** What a dispatcher offers to {@link DeliveryTelemetry.observeQueue}. */
export interface QueueObserver {
  /** The queue being observed (to tell two dispatchers on one queue apart). */
  readonly queue: object;
  /**
   * Reads the queue's depth now: every registered webhook appears, with 0 when it has nothing.
   * A durable or shared queue (SQLite file, Redis) reports the whole queue, not only this
   * process's jobs.
   */
  depth(): Promise<QueueDepth>;
}

/**
 * The telemetry seam: what the dispatcher tells an observability backend about each delivery.
 * `@empathy/webhooks-otel` implements it with OpenTelemetry; implement it yourself to feed
 * another system. Every method is optional, and each is called only when the host was given a
 * telemetry: without one the hot path does nothing more than check that it has none.
 *
 * Calls are synchronous and must be cheap: they run on the delivery path. A method that throws
 * is reported to the dispatcher's `onError` and never breaks a delivery.
 *
 * @example
 * const telemetry: DeliveryTelemetry = {
 *   onAttemptStart: (job, attempt) => ({
 *     end: (r) => console.log(`${job.webhook} #${attempt}: ${r.outcome} in ${r.durationMs} ms`),
 *   }),
 * };
 * const empathy = new EmpathyOS({ userId: 'team', webhooks, telemetry });
 */
export interface DeliveryTelemetry {
  /**
   * An event is being queued for `jobs` webhooks (0 when none wants it), in the caller's context.
   * The returned {@link EmitScope.trace} is stored with every job.
   */
  onEmit?(event: EmpathyEvent, jobs: number): EmitScope | undefined;
  /**
   * An attempt begins (`attempt` is 1-based). `job.trace` holds the carrier stored at emit time,
   * if there was one. The returned scope is ended exactly once.
   */
  onAttemptStart?(job: DeliveryJob, attempt: number): AttemptScope | undefined;
  /** A job waits for its webhook's rate limit or open circuit; no attempt is spent. */
  onDeferred?(job: DeliveryJob, deferral: Deferral): void;
  /**
   * A job went to the dead letters without an attempt: no webhook of its name is registered in
   * the process that leased it.
   */
  onRejected?(job: DeliveryJob, error: JobError): void;
  /**
   * Called once by each dispatcher given this telemetry, at construction; the returned function is
   * called when the dispatcher closes. Lets gauges read the queue's depth when they are collected
   * (nothing is counted on the delivery path).
   */
  observeQueue?(observer: QueueObserver): () => void;
}
