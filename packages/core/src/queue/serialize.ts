import { WebhookConfigError } from '../errors.js';
import type { EmpathyEvent } from '../events.js';

/**
 * The event as JSON, the form durable queues store it in. Throws a {@link WebhookConfigError}
 * that names the event and the reason when its data cannot be written as JSON (a BigInt, a
 * cycle, a `toJSON` or getter that throws), so a queue can refuse that one event before it opens
 * a transaction shared with others.
 *
 * @example
 * const rows = jobs.map((job) => [job.id, serializeEvent(job.event)]); // throws before any write
 */
export function serializeEvent(event: EmpathyEvent): string {
  try {
    return JSON.stringify(event);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/\s+/g, ' ') : String(error);
    throw new WebhookConfigError(
      `[emit] the '${String(event?.event_type)}' event ${String(event?.event_id)} cannot be queued: its data cannot be written as JSON (${reason}); durable queues store events as JSON`,
      { cause: error },
    );
  }
}
