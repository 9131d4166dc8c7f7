import type { EmpathyEvent } from '../events.js';
import type { TraceCarrier } from '../telemetry.js';
import type { DeadLetter, DeliveryJob, JobOutcome } from './types.js';

/**
 * A new job (no attempt made yet) of `event` for `webhook`, runnable from `availableAt` (epoch ms,
 * default now), with the trace of the emit that caused it when there is one. Its id is
 * `${event_id}:${webhook}`: one job per event and webhook.
 */
export function newJob(
  event: EmpathyEvent,
  webhook: string,
  availableAt?: number,
  trace?: TraceCarrier | undefined,
): DeliveryJob {
  const now = Date.now();
  const job: DeliveryJob = {
    id: `${event.event_id}:${webhook}`,
    webhook,
    event,
    attempt: 0,
    availableAt: availableAt ?? now,
    enqueuedAt: now,
  };
  if (trace) job.trace = trace;
  return job;
}

/** A dead letter put back as a fresh job: same id and event, attempts from zero, its trace continued. */
export function jobFromDeadLetter(letter: DeadLetter): DeliveryJob {
  const job = newJob(letter.event, letter.webhook, undefined, letter.trace);
  job.id = letter.id;
  return job;
}

/**
 * The dead letter of a job its handler gave up on (`outcome.kind === 'dead'`): the job's id,
 * webhook, event and trace, the outcome's attempts and error, failed now. The inverse of
 * {@link jobFromDeadLetter}.
 */
export function deadLetterOf(job: DeliveryJob, outcome: Extract<JobOutcome, { kind: 'dead' }>): DeadLetter {
  const letter: DeadLetter = {
    id: job.id,
    webhook: job.webhook,
    event: job.event,
    attempts: outcome.attempts,
    error: outcome.error,
    failedAt: Date.now(),
  };
  if (job.trace) letter.trace = job.trace;
  return letter;
}
