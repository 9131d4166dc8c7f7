import type { EmpathyEvent, Severity } from '@empathy/webhooks-core';
import {
  boundedData,
  cleanText,
  conditionFingerprint,
  type IncidentContext,
  incidentOf,
  oneLine,
  safeLink,
  summarizeEvent,
  truncateText as truncate,
} from '@empathy/webhooks-core/kit';

/** PagerDuty's four severities (Events API v2 `payload.severity`). */
export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

/** What PagerDuty does with an event. */
export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';

/** A link shown on the PagerDuty alert. */
export interface PagerDutyLink {
  href: string;
  text: string;
}

/** The `payload` of a trigger event (Events API v2). */
export interface PagerDutyPayload {
  /** One line, at most 1024 characters. */
  summary: string;
  /** The affected system: a host name, a service. */
  source: string;
  severity: PagerDutySeverity;
  /** ISO-8601. */
  timestamp?: string | undefined;
  component?: string | undefined;
  group?: string | undefined;
  class?: string | undefined;
  custom_details?: Record<string, unknown> | undefined;
}

/**
 * An Events API v2 event without its `routing_key` (the webhook adds it when sending, so that
 * formatted events can be logged and compared without the credential): what the `format`
 * option receives as `defaults` and returns.
 */
export interface PagerDutyEventBody {
  event_action: PagerDutyAction;
  dedup_key: string;
  payload?: PagerDutyPayload | undefined;
  client?: string | undefined;
  links?: PagerDutyLink[] | undefined;
}

/** Settings {@link formatPagerDutyEvent} needs from the webhook's options. */
export interface FormatOptions {
  /** Used when the event names no affected system of its own. @default 'empathy-framework' */
  source?: string | undefined;
  component?: string | undefined;
  group?: string | undefined;
  /** Overrides the incident key. */
  dedupKey?: ((event: EmpathyEvent) => string) | undefined;
}

/** Empathy severities mapped to PagerDuty's. */
export const SEVERITY_MAP = {
  critical: 'critical',
  high: 'error',
  medium: 'warning',
  warning: 'warning',
  low: 'info',
  info: 'info',
} as const satisfies Record<Severity, PagerDutySeverity>;

/**
 * The PagerDuty severity of an event that has none: `info` for the event types that report
 * rather than warn (a finished review, a completion, a pattern, a prediction), `error` for the rest.
 */
export function defaultSeverity(eventType: string): PagerDutySeverity {
  return INFORMATIONAL.has(eventType) ? 'info' : 'error';
}

const INFORMATIONAL = new Set(['prediction', 'code_review_complete', 'pattern_discovered', 'completion']);

/** The PagerDuty source used when neither the event nor the options name one. */
export const DEFAULT_SOURCE = 'empathy-framework';

// Events API v2 limits: developer.pagerduty.com/docs/events-api-v2-overview
/** `payload.summary` limit. */
export const MAX_SUMMARY = 1024;
/** `dedup_key` limit. */
export const MAX_DEDUP_KEY = 255;
/** The whole event (PagerDuty refuses more); the routing key and JSON framing are left room. */
const MAX_EVENT_BYTES = 512 * 1024 - 1024;
/** `source`, `component`, `group`, `class`: PagerDuty documents no limit, we keep them short. */
const MAX_FIELD = 255;

/**
 * The `metadata` field of an event made by `resolve()` / `acknowledge()`: the action it asks for.
 * Such an event carries the incident's key in `data.dedup_key`, taken as it is.
 */
export const ACTION_METADATA = 'pagerduty_action';

/** How much of an event's data `custom_details` keeps. */
const DETAILS = { string: 1000, items: 20, keys: 50, depth: 4 };
// The whole event may be 512 KB; details get half of it, the rest is capped field by field.
const MAX_DETAILS_BYTES = 256 * 1024;

/**
 * The Events API v2 body for an event: a `trigger` whose `dedup_key` is the event's incident key,
 * or a `resolve` with that key when the condition has cleared (`data.resolved: true`), or the
 * action an event made by `resolve()` / `acknowledge()` asks for. The summary, links and severity
 * come from core's one reading of the event; `custom_details` holds its data, cleaned and bounded.
 *
 * `incident` is the attempt's `ctx.incident`: its key is the `dedup_key` (unless the `dedupKey`
 * option gives one), and a trigger's `custom_details` say how often the condition fired
 * (`occurrences`, `first_seen_at`), folded repeats included.
 */
export function formatPagerDutyEvent(
  event: EmpathyEvent,
  options: FormatOptions = {},
  incident?: IncidentContext,
): PagerDutyEventBody {
  const requested = requestedAction(event);
  if (requested !== undefined) return requested;
  const dedup_key = incidentKey(event, options.dedupKey, incident);
  if (incident?.status === 'resolved' || (event.data as { resolved?: unknown }).resolved === true) {
    return { event_action: 'resolve', dedup_key };
  }
  const reading = summarizeEvent(event, incident);
  const payload: PagerDutyPayload = {
    summary: truncate(
      oneLine(reading.text === undefined ? reading.title : `${reading.title}: ${reading.text}`),
      MAX_SUMMARY,
    ),
    source: pickSource(event, options.source),
    severity: event.severity === undefined ? defaultSeverity(event.event_type) : SEVERITY_MAP[event.severity],
    timestamp: event.timestamp,
  };
  if (options.component !== undefined) payload.component = options.component;
  if (options.group !== undefined) payload.group = options.group;
  payload.class = event.event_type;
  payload.custom_details = customDetails(event, incident);
  const body: PagerDutyEventBody = {
    event_action: 'trigger',
    dedup_key,
    payload,
    client: 'Empathy Framework',
  };
  const links = reading.links.map((link) => ({ href: link.url, text: link.title }));
  if (links.length > 0) body.links = links;
  return body;
}

/** The `acknowledge` or `resolve` an event made by `resolve()` / `acknowledge()` asks for. */
function requestedAction(event: EmpathyEvent): PagerDutyEventBody | undefined {
  const action = (event.metadata as Record<string, unknown> | undefined)?.[ACTION_METADATA];
  if (action !== 'acknowledge' && action !== 'resolve') return undefined;
  const key = (event.data as { dedup_key?: unknown }).dedup_key;
  if (typeof key !== 'string' || key.trim() === '' || key.length > MAX_DEDUP_KEY) {
    throw new Error(`an event asking to ${action} an incident needs its key in data.dedup_key`);
  }
  return { event_action: action, dedup_key: key };
}

/**
 * Applies the Events API's rules to an event, such as one the `format` option returned: a known
 * `event_action`; a `dedup_key` of at most 255 characters; for a trigger, a one-line `summary`
 * cut to 1024 characters, a `source`, a PagerDuty severity and a valid timestamp; every string
 * cleaned by the one text policy; only http(s) links; at most 512 KB in all. An acknowledge or
 * resolve keeps only its key (PagerDuty reads nothing else). Pure; throws when it cannot be sent.
 */
export function fitPagerDutyEvent(body: PagerDutyEventBody): PagerDutyEventBody {
  if (body === null || typeof body !== 'object') throw new Error('the event must be an object');
  const action = body.event_action;
  if (action !== 'trigger' && action !== 'acknowledge' && action !== 'resolve') {
    throw new Error(`event_action must be 'trigger', 'acknowledge' or 'resolve'`);
  }
  const dedup_key = typeof body.dedup_key === 'string' ? cleanText(body.dedup_key).trim() : '';
  if (dedup_key === '' || dedup_key.length > MAX_DEDUP_KEY) {
    throw new Error(`dedup_key must be a non-empty string of at most ${MAX_DEDUP_KEY} characters`);
  }
  if (action !== 'trigger') return { event_action: action, dedup_key };
  const given = body.payload;
  if (given === null || typeof given !== 'object') throw new Error('a trigger needs a payload');
  const summary = truncate(oneLine(String(given.summary ?? '')), MAX_SUMMARY);
  if (summary === '') throw new Error('payload.summary must be a non-empty string');
  const source = truncate(oneLine(String(given.source ?? '')), MAX_FIELD);
  if (source === '') throw new Error('payload.source must name the affected system');
  if (!Object.values(SEVERITY_MAP).includes(given.severity)) {
    throw new Error(`payload.severity must be 'critical', 'error', 'warning' or 'info'`);
  }
  if (given.timestamp !== undefined && Number.isNaN(Date.parse(String(given.timestamp)))) {
    throw new Error('payload.timestamp must be an ISO 8601 time');
  }
  const payload: PagerDutyPayload = { ...given, summary, source, severity: given.severity };
  for (const field of ['component', 'group', 'class'] as const) {
    const value = given[field];
    if (value === undefined) continue;
    const text = truncate(oneLine(String(value)), MAX_FIELD);
    if (text === '') delete payload[field];
    else payload[field] = text;
  }
  if (given.custom_details !== undefined)
    payload.custom_details = boundedData(given.custom_details) as Record<string, unknown>;
  const fitted: PagerDutyEventBody = { ...body, event_action: action, dedup_key, payload };
  if (body.client !== undefined) fitted.client = truncate(oneLine(String(body.client)), MAX_FIELD);
  if (body.links !== undefined) {
    const links: PagerDutyLink[] = [];
    for (const link of Array.isArray(body.links) ? body.links : []) {
      const href = typeof link?.href === 'string' ? safeLink(link.href) : undefined;
      if (href !== undefined)
        links.push({ href, text: truncate(oneLine(String(link.text ?? href)), MAX_FIELD) });
    }
    if (links.length > 0) fitted.links = links;
    else delete fitted.links;
  }
  const size = Buffer.byteLength(JSON.stringify(fitted));
  if (size > MAX_EVENT_BYTES) throw new Error(`the event is ${size} bytes; PagerDuty takes at most 512 KB`);
  return fitted;
}

/**
 * The `dedup_key` of an event: `custom(event)` when given (the `dedupKey` option), else its
 * incident key: `incident.key` (the attempt's `ctx.incident`), which is core's `incidentOf`:
 * `data.incident_key`, else `data.dedup_key` (1-200 characters), else a fingerprint of the fields
 * that identify the condition (not of volatile text such as measured values), so a repeat of the
 * same condition updates the open incident instead of paging again. An event outside any
 * incident (a prediction) gets the same kind of fingerprint.
 *
 * @example incidentKey(alert) // 'empathy:alert:3f6c…' (32 hex digits)
 */
export function incidentKey(
  event: EmpathyEvent,
  custom?: (event: EmpathyEvent) => string,
  incident?: Pick<IncidentContext, 'key'>,
): string {
  const explicit = custom ? custom(event) : (incident ?? incidentOf(event))?.key;
  const key = typeof explicit === 'string' ? cleanText(explicit).trim() : '';
  if (key !== '') return truncate(key, MAX_DEDUP_KEY);
  return conditionFingerprint(event);
}

function pickSource(event: EmpathyEvent, fallback: string | undefined): string {
  const d = event.data as { source?: unknown; service?: unknown };
  const own =
    typeof d.source === 'string'
      ? oneLine(d.source)
      : typeof d.service === 'string'
        ? oneLine(d.service)
        : '';
  return truncate(own !== '' ? own : (fallback ?? DEFAULT_SOURCE), MAX_FIELD);
}

/**
 * The event's data plus its envelope fields (and, for an incident, how often it fired), trimmed so
 * the event stays far below 512 KB.
 */
function customDetails(event: EmpathyEvent, incident: IncidentContext | undefined): Record<string, unknown> {
  const envelope: Record<string, unknown> = {
    event_id: event.event_id,
    event_type: event.event_type,
    user_id: cleanText(String(event.user_id)),
    empathy_level: event.empathy_level,
  };
  if (event.severity !== undefined) envelope.severity = event.severity;
  if (event.classification !== undefined) envelope.classification = event.classification;
  if (typeof event.metadata.model === 'string') envelope.model = cleanText(event.metadata.model);
  envelope.framework_version = event.metadata.framework_version;
  if (incident !== undefined) {
    // PagerDuty appends a repeat trigger to the open alert's log: these say how many it stands for.
    envelope.occurrences = incident.occurrences;
    envelope.first_seen_at = incident.firstSeenAt;
  }
  const { resolved: _resolved, dedup_key: _key, ...data } = event.data as Record<string, unknown>;
  const details = { ...(boundedData(data, DETAILS) as Record<string, unknown>), ...envelope };
  if (Buffer.byteLength(JSON.stringify(details)) <= MAX_DETAILS_BYTES) return details;
  return { ...envelope, note: 'event data too large for PagerDuty; see the event in Empathy' };
}
