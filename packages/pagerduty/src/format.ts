import { conditionFingerprint, type EmpathyEvent, type Severity } from '@empathy/webhooks-core';

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
 * formatted events can be logged and compared without the credential).
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
  /** Overrides the fingerprint. */
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

const MAX_DETAIL_STRING = 1000;
const MAX_DETAIL_ITEMS = 20;
const MAX_DETAIL_KEYS = 50;
const MAX_DETAIL_DEPTH = 4;
// The whole event may be 512 KB; details get half of it, the rest is capped field by field.
const MAX_DETAILS_BYTES = 256 * 1024;

/**
 * The Events API v2 body for an event: a `trigger` with a stable `dedup_key`, or a `resolve`
 * when `data.resolved` is `true` (the condition has cleared).
 */
export function formatPagerDutyEvent(event: EmpathyEvent, options: FormatOptions = {}): PagerDutyEventBody {
  const dedup_key = incidentKey(event, options.dedupKey);
  if ((event.data as { resolved?: unknown }).resolved === true) {
    return { event_action: 'resolve', dedup_key };
  }
  const payload: PagerDutyPayload = {
    summary: summarize(event),
    source: pickSource(event, options.source),
    severity: event.severity === undefined ? defaultSeverity(event.event_type) : SEVERITY_MAP[event.severity],
    timestamp: event.timestamp,
  };
  if (options.component !== undefined) payload.component = options.component;
  if (options.group !== undefined) payload.group = options.group;
  payload.class = event.event_type;
  payload.custom_details = customDetails(event);
  const body: PagerDutyEventBody = {
    event_action: 'trigger',
    dedup_key,
    payload,
    client: 'Empathy Framework',
  };
  const links = linksOf(event);
  if (links.length > 0) body.links = links;
  return body;
}

/**
 * The incident key of an event: `custom(event)` when given (the `dedupKey` option), else
 * `data.dedup_key`; when that is missing or blank, a fingerprint of the fields that identify the
 * condition (not of volatile text such as measured values), so a repeat of the same condition
 * updates the open incident instead of paging again.
 *
 * @example incidentKey(alert) // 'empathy:alert:3f6c…' (32 hex digits)
 */
export function incidentKey(event: EmpathyEvent, custom?: (event: EmpathyEvent) => string): string {
  const explicit = custom ? custom(event) : (event.data as { dedup_key?: unknown }).dedup_key;
  if (typeof explicit === 'string' && explicit.trim() !== '') return truncate(explicit.trim(), MAX_DEDUP_KEY);
  return conditionFingerprint(event);
}

/** One line saying what happened, at most 1024 characters. */
export function summarize(event: EmpathyEvent): string {
  return truncate(oneLine(summaryText(event)), MAX_SUMMARY);
}

function summaryText(event: EmpathyEvent): string {
  const other = event as { event_type: string; data: Record<string, unknown> };
  switch (event.event_type) {
    case 'prediction': {
      const d = event.data;
      return `Prediction (${percent(d.confidence)} confidence): ${d.prediction}`;
    }
    case 'alert':
      return event.data.title ? `${event.data.title}: ${event.data.message}` : event.data.message;
    case 'bug_detected':
      return `Bug: ${event.data.title}${where(event.data.file, event.data.line)}`;
    case 'security_vulnerability': {
      const d = event.data;
      const tags = [d.cwe, d.cvss === undefined ? undefined : `CVSS ${d.cvss}`].filter(Boolean);
      return `Security vulnerability: ${d.title}${where(d.file, d.line)}${tags.length ? ` (${tags.join(', ')})` : ''}`;
    }
    case 'performance_issue': {
      const d = event.data;
      const subject = d.endpoint ?? d.service;
      const measured =
        d.metric !== undefined && d.value !== undefined
          ? ` (${d.metric} ${d.value}${d.threshold === undefined ? '' : ` > ${d.threshold}`})`
          : '';
      return `Performance: ${subject ? `${subject} ` : ''}${d.title}${measured}`;
    }
    case 'code_review_complete': {
      const d = event.data;
      const pr = `${d.repository ?? ''}#${d.pull_request}`;
      return `Code review complete: ${pr}${d.summary ? ` - ${d.summary}` : ''}`;
    }
    case 'test_failure':
      return `Test failed: ${event.data.test_name} - ${event.data.message}`;
    case 'deployment_risk': {
      const d = event.data;
      return `Deployment risk: ${d.service}${d.version ? ` ${d.version}` : ''} to ${d.environment} - ${d.risk}`;
    }
    case 'compliance_violation': {
      const d = event.data;
      return `${d.regulation} violation: ${d.description}${d.resource ? ` (${d.resource})` : ''}`;
    }
    case 'pattern_discovered':
      return `Pattern discovered: ${event.data.name} - ${event.data.description}`;
    case 'completion':
      return `Completion (level ${event.data.level_used}): ${event.data.content}`;
    case 'error':
      return `Error ${event.data.error_type}: ${event.data.message}`;
    case 'phi_access': {
      const d = event.data;
      return `PHI access: ${d.resource}${d.accessor ? ` by ${d.accessor}` : ''}${d.purpose ? ` (${d.purpose})` : ''}`;
    }
    default: {
      const text = [other.data.title, other.data.message, other.data.name, other.data.description].find(
        (v) => typeof v === 'string',
      );
      return `${other.event_type}${text === undefined ? '' : `: ${text}`}`;
    }
  }
}

function pickSource(event: EmpathyEvent, fallback: string | undefined): string {
  const d = event.data as { source?: unknown; service?: unknown };
  const own = typeof d.source === 'string' ? d.source : typeof d.service === 'string' ? d.service : undefined;
  const source = own?.trim() ? own : (fallback ?? DEFAULT_SOURCE);
  return truncate(oneLine(source), 255);
}

/** The event's data plus its envelope fields, trimmed so the event stays far below 512 KB. */
function customDetails(event: EmpathyEvent): Record<string, unknown> {
  const envelope: Record<string, unknown> = {
    event_id: event.event_id,
    event_type: event.event_type,
    user_id: event.user_id,
    empathy_level: event.empathy_level,
  };
  if (event.severity !== undefined) envelope.severity = event.severity;
  if (event.classification !== undefined) envelope.classification = event.classification;
  if (event.metadata.model !== undefined) envelope.model = event.metadata.model;
  envelope.framework_version = event.metadata.framework_version;
  const { resolved: _resolved, dedup_key: _key, ...data } = event.data as Record<string, unknown>;
  const details = { ...(limitValue(data, 0) as Record<string, unknown>), ...envelope };
  if (Buffer.byteLength(JSON.stringify(details)) <= MAX_DETAILS_BYTES) return details;
  return { ...envelope, note: 'event data too large for PagerDuty; see the event in Empathy' };
}

/** Caps strings, arrays, objects and depth so that any event fits PagerDuty's size limit. */
function limitValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return truncate(value, MAX_DETAIL_STRING);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DETAIL_DEPTH) return '[nested too deep]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_DETAIL_ITEMS).map((v) => limitValue(v, depth + 1));
    if (value.length > MAX_DETAIL_ITEMS) items.push(`… ${value.length - MAX_DETAIL_ITEMS} more`);
    return items;
  }
  const entries = Object.entries(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries.slice(0, MAX_DETAIL_KEYS)) out[truncate(k, 100)] = limitValue(v, depth + 1);
  if (entries.length > MAX_DETAIL_KEYS) out['…'] = `${entries.length - MAX_DETAIL_KEYS} more fields`;
  return out;
}

function linksOf(event: EmpathyEvent): PagerDutyLink[] {
  const d = event.data as { url?: unknown; run_url?: unknown };
  const links: PagerDutyLink[] = [];
  const add = (href: unknown, text: string) => {
    if (typeof href === 'string' && isHttpUrl(href) && !links.some((l) => l.href === href)) {
      links.push({ href, text });
    }
  };
  add(d.url, event.event_type === 'code_review_complete' ? 'Pull request' : 'Details');
  add(d.run_url, 'CI run');
  return links;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function where(file: string | undefined, line: number | undefined): string {
  if (!file) return '';
  return ` in ${file}${line === undefined ? '' : `:${line}`}`;
}

function percent(confidence: number): string {
  return `${Math.round(confidence * 100)}%`;
}

// Control characters and bidi overrides can garble or disguise a one-line summary.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/** One line: control characters and bidi overrides become spaces, runs of spaces collapse. */
export function oneLine(text: string): string {
  return text.replace(UNPRINTABLE, ' ').replace(/\s+/g, ' ').trim();
}

/** Cuts `text` to at most `max` UTF-16 units, ending in `…`, without splitting a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
