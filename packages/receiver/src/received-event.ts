import type { EmpathyEvent } from '@empathy/webhooks-core';

/**
 * Where the event's incident stands, as `CustomWebhook` sends it (its `CustomWebhookIncident`):
 * the same key on every event of one condition, so a receiver can group them.
 */
export interface ReceivedIncident {
  /** The incident key: `data.incident_key`, else the condition's fingerprint (`empathy:<event_type>:<32 hex>`). */
  key: string;
  /** `resolved` on the event that says the condition cleared. */
  status: 'firing' | 'resolved';
  /** Firing events of the incident so far, folded ones included. */
  occurrences: number;
  /** ISO time of the incident's first firing event the sender knows of. */
  first_seen_at: string;
}

/**
 * A verified event as the receiver hands it over: the Empathy event envelope, plus `incident`
 * when the event belongs to one (alerts, findings, test failures, … and any event with
 * `data.incident_key`). Like the rest of the body, it is what the authenticated sender sent.
 */
export type ReceivedEvent = EmpathyEvent & { incident?: ReceivedIncident | undefined };
