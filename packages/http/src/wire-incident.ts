import type { EmpathyEvent } from '@empathy/webhooks-core';
import type { IncidentContext } from '@empathy/webhooks-core/kit';

/**
 * Where the event's incident stands, as a {@link CustomWebhook} sends it in its JSON body (snake
 * case, like the rest of the envelope), so a receiver can group the notifications of one
 * incident without computing keys itself. Only events that belong to an incident carry it.
 */
export interface CustomWebhookIncident {
  /**
   * The incident key: `data.incident_key`, else the condition's fingerprint
   * (`empathy:<event_type>:<32 hex digits>`). The same for every event of the incident, and the
   * same key PagerDuty gets as `dedup_key` and Datadog as `aggregation_key`.
   */
  key: string;
  /** `resolved` on the event that says the condition cleared (`data.resolved: true`). */
  status: 'firing' | 'resolved';
  /**
   * Firing events of the incident so far, this one and any that `group` folded into this
   * notification included (on the resolved event: how many there were).
   */
  occurrences: number;
  /** ISO time of the incident's first firing event this webhook knows of. */
  first_seen_at: string;
}

/** The default body of a {@link CustomWebhook}: the event envelope, plus `incident` for an incident's event. */
export type CustomWebhookEvent = EmpathyEvent & { incident?: CustomWebhookIncident | undefined };

/** The body's `incident` block for the attempt's `ctx.incident`. */
export function wireIncident(incident: IncidentContext): CustomWebhookIncident {
  return {
    key: incident.key,
    status: incident.status,
    occurrences: incident.occurrences,
    first_seen_at: incident.firstSeenAt,
  };
}
