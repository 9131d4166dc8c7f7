import type { EmpathyEvent, Severity } from '@empathy/webhooks-core';

/** The body of Grafana's `POST /api/annotations`. */
export interface GrafanaAnnotation {
  /** Epoch ms: the event's time. */
  time: number;
  tags: string[];
  /** Grafana shows annotation text as sanitised HTML: every event value in it is escaped. */
  text: string;
  dashboardUID?: string | undefined;
  panelId?: number | undefined;
}

/** Where an annotation goes and which tags it always carries. */
export interface AnnotationOptions {
  /** Attach to this dashboard; without it the annotation is organisation-wide (matched by tags). */
  dashboardUid?: string | undefined;
  /** Attach to this panel of the dashboard. */
  panelId?: number | undefined;
  /** Added to every annotation's tags. */
  tags?: readonly string[] | undefined;
}

/** One log line for Loki. */
export interface LokiEntry {
  /** The stream's labels. */
  labels: Record<string, string>;
  /** Unix epoch in nanoseconds, as a decimal string. */
  timestamp: string;
  /** The line: JSON (query it with `| json`). */
  line: string;
}

/** The body of Loki's `POST /loki/api/v1/push` (JSON flavour). */
export interface LokiPushBody {
  streams: { stream: Record<string, string>; values: [string, string][] }[];
}

/** What an event says, in a form both annotations and log lines use. */
export interface EventDescription {
  /** One line. */
  title: string;
  /** Label and value pairs, in reading order. */
  fields: [string, string][];
  links: { href: string; text: string }[];
}

/** Labels the webhook sets on every stream itself; static labels may not use these names. */
export const DYNAMIC_LABELS = ['event_type', 'severity', 'user_id'] as const;

/** The `level` Grafana colours a log line by, for each Empathy severity. */
export const LEVELS = {
  critical: 'critical',
  high: 'error',
  medium: 'warning',
  warning: 'warning',
  low: 'info',
  info: 'info',
} as const satisfies Record<Severity, string>;

const MAX_TITLE = 200;
const MAX_FIELD = 500;
const MAX_TAG = 100;
const MAX_TAGS = 25;
const MAX_LABEL_VALUE = 1024;
/** Loki refuses lines over `max_line_size` (256 KB by default); ours stay far below. */
const MAX_LINE_BYTES = 64 * 1024;
const LIMITS = { string: 1000, items: 20, keys: 50, depth: 4 };

/** The annotation for an event: a bold title, one line per field, links, and the event id. */
export function formatAnnotation(event: EmpathyEvent, options: AnnotationOptions = {}): GrafanaAnnotation {
  const { title, fields, links } = describeEvent(event);
  const lines = [`<b>${html(title)}</b>`];
  for (const [label, value] of fields)
    lines.push(`<b>${html(label)}:</b> ${html(truncate(value, MAX_FIELD))}`);
  for (const link of links) lines.push(`<a href="${html(link.href)}">${html(link.text)}</a>`);
  lines.push(`Event ${html(event.event_id)} · user ${html(truncate(event.user_id, MAX_TAG))}`);
  const annotation: GrafanaAnnotation = {
    time: eventTimeMs(event),
    tags: annotationTags(event, options.tags ?? []),
    text: lines.join('<br>\n'),
  };
  if (options.dashboardUid !== undefined) annotation.dashboardUID = options.dashboardUid;
  if (options.panelId !== undefined) annotation.panelId = options.panelId;
  return annotation;
}

/**
 * The Loki entry for an event: labels `event_type`, `severity` and `user_id` (plus the static
 * ones), the event's own time in nanoseconds, and a JSON line holding the event. The line and
 * timestamp depend on the event only, so a retried push is a duplicate Loki drops.
 */
export function formatLokiEntry(event: EmpathyEvent, staticLabels: Record<string, string> = {}): LokiEntry {
  const labels = {
    ...staticLabels,
    event_type: event.event_type,
    severity: event.severity ?? 'unknown',
    user_id: truncate(oneLine(event.user_id), MAX_LABEL_VALUE) || 'unknown',
  };
  const record: Record<string, unknown> = {
    level: event.severity === undefined ? 'info' : LEVELS[event.severity],
    msg: describeEvent(event).title,
    event_id: event.event_id,
    event_type: event.event_type,
    timestamp: event.timestamp,
    user_id: event.user_id,
    empathy_level: event.empathy_level,
  };
  if (event.severity !== undefined) record.severity = event.severity;
  if (event.classification !== undefined) record.classification = event.classification;
  record.data = limitValue(event.data, 0);
  record.metadata = limitValue(event.metadata, 0);
  let line = JSON.stringify(record);
  if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
    record.data = { truncated: 'the event data was too large for one log line' };
    record.metadata = { framework_version: event.metadata.framework_version };
    line = JSON.stringify(record);
  }
  return { labels, timestamp: `${eventTimeMs(event)}000000`, line };
}

/** Groups entries into Loki streams (one per label set), oldest line first. */
export function lokiPushBody(entries: readonly LokiEntry[]): LokiPushBody {
  const streams = new Map<string, LokiPushBody['streams'][number]>();
  for (const entry of entries) {
    const key = JSON.stringify(Object.entries(entry.labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    let stream = streams.get(key);
    if (!stream) {
      stream = { stream: entry.labels, values: [] };
      streams.set(key, stream);
    }
    stream.values.push([entry.timestamp, entry.line]);
  }
  for (const stream of streams.values()) {
    stream.values.sort(([a], [b]) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  }
  return { streams: [...streams.values()] };
}

/** Title, fields and links of an event, per event type. */
export function describeEvent(event: EmpathyEvent): EventDescription {
  const fields: [string, string][] = [];
  const add = (label: string, value: unknown) => {
    if (value === undefined || value === null || value === '') return;
    fields.push([label, typeof value === 'string' ? value : JSON.stringify(value)]);
  };
  const links: EventDescription['links'] = [];
  const link = (href: unknown, text: string) => {
    if (typeof href === 'string' && isHttpUrl(href) && !links.some((l) => l.href === href)) {
      links.push({ href, text });
    }
  };
  let title: string;
  switch (event.event_type) {
    case 'prediction': {
      const d = event.data;
      title = `Prediction: ${d.prediction}`;
      add('Confidence', percent(d.confidence));
      add('Recommendation', d.recommendation);
      add('Timeframe', d.timeframe);
      add('Impact', d.impact);
      break;
    }
    case 'alert': {
      const d = event.data;
      title = `${d.resolved === true ? 'Resolved' : 'Alert'}: ${d.title ?? d.message}`;
      if (d.title !== undefined) add('Message', d.message);
      add('Source', d.source);
      add('Details', keyValues(d.details));
      break;
    }
    case 'bug_detected':
    case 'security_vulnerability': {
      const d = event.data;
      title = `${event.event_type === 'bug_detected' ? 'Bug' : 'Security'}: ${d.title}`;
      add(
        'Location',
        d.file === undefined ? undefined : `${d.file}${d.line === undefined ? '' : `:${d.line}`}`,
      );
      if (event.event_type === 'security_vulnerability') {
        add('CWE', event.data.cwe);
        add('CVSS', event.data.cvss);
      }
      add('Issue', d.description);
      add('Fix', d.fix);
      add('Owner', d.owner);
      break;
    }
    case 'performance_issue': {
      const d = event.data;
      const subject = d.endpoint ?? d.service;
      title = `Performance: ${subject ? `${subject} ` : ''}${d.title}`;
      add('Service', d.service);
      add('Endpoint', d.endpoint);
      if (d.metric !== undefined) {
        const threshold = d.threshold === undefined ? '' : ` (threshold ${d.threshold})`;
        add('Metric', `${d.metric} = ${d.value ?? '?'}${threshold}`);
      }
      add('Metrics', keyValues(d.metrics));
      break;
    }
    case 'code_review_complete': {
      const d = event.data;
      title = `Code review: ${d.repository ?? ''}#${d.pull_request}`;
      add('Summary', d.summary);
      add('Looks good', d.positives.length === 0 ? undefined : d.positives.join('; '));
      const suggestions = d.suggestions.map((s) => {
        const at = s.file === undefined ? '' : `${s.file}${s.line === undefined ? '' : `:${s.line}`} `;
        return `${at}${s.message}`;
      });
      add('Suggestions', suggestions.length === 0 ? undefined : suggestions.join('; '));
      add('Security', d.security.length === 0 ? 'no issues' : d.security.join('; '));
      add('Confidence', percent(d.confidence));
      link(d.url, 'Pull request');
      break;
    }
    case 'test_failure': {
      const d = event.data;
      title = `Test failed: ${d.test_name}`;
      add('Message', d.message);
      add('Suite', d.suite);
      add('File', d.file);
      link(d.run_url, 'CI run');
      break;
    }
    case 'deployment_risk': {
      const d = event.data;
      title = `Deployment risk: ${d.service}${d.version ? ` ${d.version}` : ''} to ${d.environment}`;
      add('Risk', d.risk);
      add('Recommendation', d.recommendation);
      break;
    }
    case 'compliance_violation': {
      const d = event.data;
      title = `${d.regulation} violation: ${d.description}`;
      add('Rule', d.rule);
      add('Resource', d.resource);
      break;
    }
    case 'pattern_discovered': {
      const d = event.data;
      title = `Pattern discovered: ${d.name}`;
      add('Description', d.description);
      add('Confidence', d.confidence === undefined ? undefined : percent(d.confidence));
      add('Pattern', d.pattern_id);
      break;
    }
    case 'completion': {
      const d = event.data;
      title = `Completion at level ${d.level_used}${d.proactive ? ' (proactive)' : ''}`;
      add('Content', d.content);
      add('Duration', d.duration_ms === undefined ? undefined : `${d.duration_ms} ms`);
      break;
    }
    case 'error':
      title = `Error: ${event.data.error_type}`;
      add('Message', event.data.message);
      break;
    case 'phi_access': {
      const d = event.data;
      title = `PHI access: ${d.resource}`;
      add('Accessor', d.accessor);
      add('Purpose', d.purpose);
      break;
    }
    default: {
      // App-defined event types: name it by its most telling field, list the other plain fields.
      const other = event as { event_type: string; data: Record<string, unknown> };
      const headline = ['title', 'message', 'name'].find((k) => typeof other.data[k] === 'string');
      title = headline ? `${other.event_type}: ${other.data[headline]}` : other.event_type;
      for (const [k, v] of Object.entries(other.data)) {
        if (k !== headline && k !== 'url' && k !== 'context' && (typeof v !== 'object' || v === null))
          add(k, v);
      }
    }
  }
  link((event.data as { url?: unknown }).url, 'Details');
  return { title: truncate(oneLine(title), MAX_TITLE), fields, links };
}

/** Tags: `empathy`, the event type, `severity:…`, `user:…`, what the event is about, and your own. */
function annotationTags(event: EmpathyEvent, extra: readonly string[]): string[] {
  const d = event.data as Record<string, unknown>;
  const tags = ['empathy', event.event_type];
  if (event.severity !== undefined) tags.push(`severity:${event.severity}`);
  tags.push(`user:${event.user_id}`);
  for (const key of ['service', 'environment', 'source', 'regulation', 'category'] as const) {
    if (typeof d[key] === 'string') tags.push(`${key}:${d[key]}`);
  }
  if (Array.isArray(d.labels)) for (const label of d.labels) if (typeof label === 'string') tags.push(label);
  tags.push(...extra);
  const out: string[] = [];
  for (const tag of tags) {
    const clean = truncate(oneLine(tag), MAX_TAG);
    if (clean !== '' && !out.includes(clean)) out.push(clean);
    if (out.length === MAX_TAGS) break;
  }
  return out;
}

function keyValues(value: Record<string, unknown> | undefined): string | undefined {
  if (value === undefined || value === null || typeof value !== 'object') return undefined;
  const entries = Object.entries(value);
  if (entries.length === 0) return undefined;
  return entries.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
}

function eventTimeMs(event: EmpathyEvent): number {
  const ms = Date.parse(event.timestamp);
  return Number.isNaN(ms) ? Date.now() : ms;
}

/** Caps strings, arrays, objects and depth so that any event fits one log line. */
function limitValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return truncate(value, LIMITS.string);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= LIMITS.depth) return '[nested too deep]';
  if (Array.isArray(value)) {
    const items = value.slice(0, LIMITS.items).map((v) => limitValue(v, depth + 1));
    if (value.length > LIMITS.items) items.push(`… ${value.length - LIMITS.items} more`);
    return items;
  }
  const entries = Object.entries(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries.slice(0, LIMITS.keys)) out[truncate(k, 100)] = limitValue(v, depth + 1);
  if (entries.length > LIMITS.keys) out['…'] = `${entries.length - LIMITS.keys} more fields`;
  return out;
}

function percent(confidence: number): string {
  return `${Math.round(confidence * 100)}%`;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

// Control characters and bidi overrides can garble or disguise text.
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/** Escapes text for Grafana's HTML annotation text; line breaks become `<br>`. */
function html(text: string): string {
  return text
    .replace(UNPRINTABLE, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/\r?\n/g, '<br>');
}

/** One line: control characters and bidi overrides become spaces, runs of spaces collapse. */
function oneLine(text: string): string {
  return text.replace(UNPRINTABLE, ' ').replace(/\s+/g, ' ').trim();
}

/** Cuts `text` to at most `max` UTF-16 units, ending in `…`, without splitting a surrogate pair. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
