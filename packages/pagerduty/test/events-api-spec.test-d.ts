// Type tests, checked by `tsc -p tsconfig.json` (the typecheck task): the events we send are the
// request body PagerDuty publishes for the Events API v2. PagerDuty ships no TypeScript types for
// it, so the shape below is transcribed from its OpenAPI document, operation createV2Event
// (POST https://events.pagerduty.com/v2/enqueue) and components.schemas Payload / Links / Images:
// https://github.com/PagerDuty/api-schema/blob/main/reference/events-v2/openapiv3.json
// (rendered at developer.pagerduty.com/api-reference/reference/events-v2/openapiv3.json).
// Field descriptions are the spec's; the spec's `required` lists become non-optional fields.
import type { PagerDutyEventBody, PagerDutyLink, PagerDutyPayload } from '../src/index.js';
import { formatPagerDutyEvent } from '../src/index.js';

/** `#/components/schemas/Payload`; required: summary, severity, source. */
interface SpecPayload {
  /** A brief text summary of the event, used to generate the summaries/titles of any associated alerts. */
  summary: string;
  /** format: date-time. The time at which the emitting tool detected or generated the event. */
  timestamp?: string;
  /** The perceived severity of the status the event is describing with respect to the affected system. */
  severity: 'critical' | 'warning' | 'error' | 'info';
  /** The unique location of the affected system, preferably a hostname or FQDN. */
  source: string;
  /** Component of the source machine that is responsible for the event. */
  component?: string;
  /** Logical grouping of components of a service. */
  group?: string;
  /** The class/type of the event. */
  class?: string;
  /** type: object. Additional details about the event and affected system. */
  custom_details?: { [key: string]: unknown };
}

/** `#/components/schemas/Links` items; required: href. */
interface SpecLink {
  /** format: url. The link being attached to an incident or alert. */
  href: string;
  /** Optional information pertaining to this context link. */
  text?: string;
}

/** `#/components/schemas/Images` items; required: src. */
interface SpecImage {
  src: string;
  href?: string;
  alt?: string;
}

/** The createV2Event request body; required: routing_key, event_action. */
interface SpecEvent {
  payload?: SpecPayload;
  /** The GUID of one of your Events API V2 integrations (the "Integration Key"). */
  routing_key: string;
  event_action: 'trigger' | 'acknowledge' | 'resolve';
  /** Identifies the alert to trigger, acknowledge, or resolve. Required unless the event_type is trigger. */
  dedup_key?: string;
  /** The name of the monitoring client that is triggering this event (trigger events only). */
  client?: string;
  /** format: url. The URL of the monitoring client that is triggering this event (trigger events only). */
  client_url?: string;
  links?: SpecLink[];
  images?: SpecImage[];
}

type EmpathyEvent = Parameters<typeof formatPagerDutyEvent>[0];

export function specTypes(event: EmpathyEvent, routingKey: string): void {
  // What PagerDutyWebhook posts: the formatted body with the routing key added.
  const sent: SpecEvent = { routing_key: routingKey, ...formatPagerDutyEvent(event, { source: 'api' }) };
  const declared: SpecEvent = { routing_key: routingKey, ...({} as PagerDutyEventBody) };
  const payload: SpecPayload = {} as PagerDutyPayload;
  const link: SpecLink = {} as PagerDutyLink;

  // The check has teeth: PagerDuty's severities are not ours, and the routing key is required.
  // @ts-expect-error 'high' is an Empathy severity; PagerDuty knows critical, error, warning, info
  const wrongSeverity: SpecPayload = { summary: 's', source: 'api', severity: 'high' };
  // @ts-expect-error an event without routing_key is refused (400)
  const noRoutingKey: SpecEvent = { ...formatPagerDutyEvent(event) };

  void [sent, declared, payload, link, wrongSeverity, noRoutingKey];
}
