import type { DeadLetter, EmpathyEvent, TraceCarrier } from '@empathy/webhooks-core';
import { type DeliveryJob, type JobError, serializeEvent } from '@empathy/webhooks-core/queue';

/** One delivered job, as kept for `deliveredRetentionMs`. */
export interface DeliveryRecord {
  /** The job id: `<event_id>:<webhook>`. */
  id: string;
  webhook: string;
  eventId: string;
  /** Attempts made, the successful one included. */
  attempts: number;
  /** HTTP status of the successful attempt, when the plugin reported one. */
  status?: number | undefined;
  /** Epoch ms. */
  deliveredAt: number;
}

/** One job's values for the `insert` statement. */
export type InsertRow = [
  id: string,
  webhook: string,
  eventId: string,
  event: string,
  attempt: number,
  availableAt: number,
  enqueuedAt: number,
  lastError: string | null,
  traceparent: string | null,
  tracestate: string | null,
];

export interface JobRow {
  seq: number;
  id: string;
  webhook: string;
  event: string;
  attempt: number;
  available_at: number;
  enqueued_at: number;
  last_error: string | null;
  traceparent: string | null;
  tracestate: string | null;
}

export interface DeadRow {
  id: string;
  webhook: string;
  event: string;
  attempts: number;
  error: string;
  failed_at: number;
  traceparent: string | null;
  tracestate: string | null;
}

export function toJob(row: JobRow): DeliveryJob {
  const job: DeliveryJob = {
    id: row.id,
    webhook: row.webhook,
    event: JSON.parse(row.event) as EmpathyEvent,
    attempt: row.attempt,
    availableAt: row.available_at,
    enqueuedAt: row.enqueued_at,
  };
  if (row.last_error !== null) job.lastError = JSON.parse(row.last_error) as JobError;
  const trace = toTrace(row);
  if (trace) job.trace = trace;
  return job;
}

export function toTrace(row: {
  traceparent: string | null;
  tracestate: string | null;
}): TraceCarrier | undefined {
  if (row.traceparent === null) return undefined;
  return row.tracestate === null
    ? { traceparent: row.traceparent }
    : { traceparent: row.traceparent, tracestate: row.tracestate };
}

export function toDeadLetter(row: DeadRow): DeadLetter {
  const letter: DeadLetter = {
    id: row.id,
    webhook: row.webhook,
    event: JSON.parse(row.event) as EmpathyEvent,
    attempts: row.attempts,
    error: JSON.parse(row.error) as JobError,
    failedAt: row.failed_at,
  };
  const trace = toTrace(row);
  if (trace) letter.trace = trace;
  return letter;
}

/** The insert values of each job, events serialised once each; throws before anything is written. */
export function toInsertRows(jobs: DeliveryJob[]): InsertRow[] {
  const json = new Map<EmpathyEvent, string>();
  return jobs.map((job) => {
    let event = json.get(job.event);
    if (event === undefined) {
      event = serializeEvent(job.event);
      json.set(job.event, event);
    }
    return [
      job.id,
      job.webhook,
      job.event.event_id,
      event,
      job.attempt,
      job.availableAt,
      job.enqueuedAt,
      job.lastError === undefined ? null : JSON.stringify(job.lastError),
      job.trace?.traceparent ?? null,
      job.trace?.tracestate ?? null,
    ];
  });
}
