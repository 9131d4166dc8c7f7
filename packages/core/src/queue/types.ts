import type { EmpathyEvent } from '../events.js';
import type { IncidentStore } from '../incident.js';
import type { DeliveryReceipt } from '../plugin.js';
import type { RateLimiterFactory } from '../policies/rate-limit.js';
import type { TraceCarrier } from '../telemetry.js';

/** One event on its way to one webhook. Plain data, so durable queues can store it as JSON. */
export interface DeliveryJob {
  /** Unique per (event, webhook): `${event_id}:${webhook}`. */
  id: string;
  /** The webhook's name. */
  webhook: string;
  event: EmpathyEvent;
  /** Attempts already made (0 for a new job). */
  attempt: number;
  /** Epoch ms before which the job must not run. */
  availableAt: number;
  /** Epoch ms when the job was first enqueued. */
  enqueuedAt: number;
  /** The last attempt's error, redacted. */
  lastError?: JobError | undefined;
  /**
   * The trace context of the `emit()` that queued the job, when a telemetry was given. Queues
   * store it with the job (and its dead letter) and hand it back unchanged.
   */
  trace?: TraceCarrier | undefined;
}

/** An error as stored with a job or dead letter: secret-free and serialisable. */
export interface JobError {
  name: string;
  message: string;
  status?: number | undefined;
  code?: string | undefined;
}

/** What the dispatcher decided about a job after leasing it. */
export type JobOutcome =
  | { kind: 'delivered'; receipt: DeliveryReceipt }
  /** An attempt failed; run the job again at `at` (epoch ms) with `attempt` incremented. */
  | { kind: 'retry'; at: number; error: JobError }
  /**
   * Not attempted (rate limit or open circuit): the webhook's lane may not send before `at`.
   * The job keeps its place in line and no attempt is spent.
   */
  | { kind: 'defer'; at: number; reason: 'rate_limit' | 'circuit_open' }
  /**
   * Not attempted: this job waits for another one (an earlier notification of its incident that
   * has not posted yet) and runs again at `at`. Only this job moves: its lane goes on, and no
   * attempt is spent.
   */
  | { kind: 'wait'; at: number }
  /** Permanent failure or retries exhausted: move to the dead letters. `attempts` made in all. */
  | { kind: 'dead'; error: JobError; attempts: number };

/**
 * Runs jobs for a queue: the dispatcher. Everything a queue needs from it is here, so a queue
 * never looks past this interface.
 */
export interface JobHandler {
  /** Handles one leased job. Never rejects. */
  handle(job: DeliveryJob): Promise<JobOutcome>;
  /** The most jobs of this webhook the queue may run at once. */
  concurrency(webhook: string): number;
  /**
   * The names of the webhooks this handler can deliver, now (webhooks may be added and removed
   * while it runs, so ask again rather than keep the answer). A queue shared by several processes
   * (e.g. `BullMQQueue`) starts workers for these only and leaves jobs of any other webhook for a
   * process that has it; an in-process queue may ignore it.
   */
  webhookNames(): readonly string[];
}

/** A job that failed for good, kept for inspection and replay. */
export interface DeadLetter {
  /** The job id. */
  id: string;
  webhook: string;
  event: EmpathyEvent;
  /** Attempts made. */
  attempts: number;
  error: JobError;
  /** Epoch ms. */
  failedAt: number;
  /** The job's trace context: a replayed letter continues the trace of the emit that caused it. */
  trace?: TraceCarrier | undefined;
}

/** Dead letters: list, replay one or all, delete. */
export interface DeadLetterStore {
  /** Dead letters, oldest first, optionally for one webhook. */
  list(filter?: { webhook?: string; limit?: number }): Promise<DeadLetter[]>;
  /** One dead letter by its id, or `undefined` if there is none. */
  get(id: string): Promise<DeadLetter | undefined>;
  /** Puts one back in the queue as a fresh job (same event id). Returns false if there is no such letter. */
  replay(id: string): Promise<boolean>;
  /** Puts all (or one webhook's) back in the queue. Returns how many. */
  replayAll(filter?: { webhook?: string }): Promise<number>;
  /** Deletes one. Returns false if there is no such letter. */
  delete(id: string): Promise<boolean>;
  /** Deletes all (or one webhook's). Returns how many. */
  clear(filter?: { webhook?: string }): Promise<number>;
  /** How many letters each webhook has (webhooks with none are left out), without reading them. */
  countByWebhook?(): Promise<Record<string, number>>;
}

/**
 * Where jobs wait. The queue stores and schedules; the dispatcher ({@link JobHandler}) decides.
 * Implementations: {@link MemoryQueue} (default), `SqliteQueue` (durable, one machine),
 * `BullMQQueue` (Redis, many workers).
 */
export interface DeliveryQueue {
  /** Stores jobs; resolves once they are stored (durably, for durable queues). */
  enqueue(jobs: DeliveryJob[]): Promise<void>;
  /**
   * Optional fast path for a queue that stores jobs synchronously (e.g. in memory): when present
   * the dispatcher calls it instead of {@link enqueue}, saving a promise per `emit()`. It must do
   * exactly what `enqueue` does, and throw where `enqueue` would reject (e.g. when closed).
   */
  enqueueSync?(jobs: DeliveryJob[]): void;
  /** Starts running jobs through `handler`, one lane per webhook. Called once. */
  consume(handler: JobHandler): void;
  /** Resolves when nothing is pending or in flight (including retries waiting for their time). */
  idle(): Promise<void>;
  /** Stops leasing, waits up to `drainMs` for work to finish, and keeps the rest (durable queues). */
  close(options?: { drainMs?: number }): Promise<void>;
  /** Jobs that failed for good. */
  readonly deadLetters: DeadLetterStore;
  /**
   * Rate limiters whose state the queue shares between its workers (e.g. in Redis). When set, the
   * dispatcher uses it instead of in-process limiters, so N workers together keep one limit.
   */
  readonly rateLimiterFactory?: RateLimiterFactory | undefined;
  /**
   * Where incident state lives when the host is given this queue: a durable queue keeps it
   * beside its jobs (so a restart between "fired" and "resolved" still updates the original
   * notification), a shared one where every worker sees it. @default in memory
   */
  readonly incidentStore?: IncidentStore | undefined;
  /** Jobs waiting (queued, deferred, or waiting for a retry) per webhook, if the queue can tell cheaply. */
  pending?(webhook?: string): Promise<number>;
  /** Jobs waiting per webhook, for every webhook that has any, in one look (telemetry gauges use it). */
  pendingByWebhook?(): Promise<Record<string, number>>;
}
