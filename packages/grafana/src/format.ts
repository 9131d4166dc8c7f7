import type { EmpathyEvent, Severity } from '@empathy/webhooks-core';
import {
  boundedData,
  cleanText,
  type EventSummary,
  type IncidentContext,
  oneLine,
  type SummarySection,
  summarizeEvent,
  truncateText as truncate,
} from '@empathy/webhooks-core/kit';

/** The body of Grafana's `POST /api/annotations`. */
export interface GrafanaAnnotation {
  /** Epoch ms: the event's time (a resolved incident's: when it was first seen). */
  time: number;
  /**
   * Epoch ms: set, the annotation is a region from `time` to here. A resolved incident's
   * annotation ends at the resolution (on an update, only this end is sent: the start stays).
   */
  timeEnd?: number | undefined;
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

/**
 * What a {@link GrafanaWebhook} sends for one event, and what the `format` option receives as
 * `defaults` and returns: the annotation (when `url` is set) and the Loki log line (when `loki`
 * is set). A part left out is not sent.
 */
export interface GrafanaPayload {
  annotation?: GrafanaAnnotation | undefined;
  loki?: LokiEntry | undefined;
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
const MAX_TEXT = 2000;
const MAX_FIELD = 500;
const MAX_FIELDS = 50;
const MAX_ITEMS = 10;
const MAX_ITEM = 300;
const MAX_TAG = 100;
const MAX_TAGS = 25;
const MAX_LABEL_VALUE = 1024;
/** Annotation text: Grafana sets no limit, we keep it to what a panel can show. */
export const MAX_ANNOTATION_TEXT = 64_000;
/** Loki refuses lines over `max_line_size` (256 KB by default); ours stay far below. */
export const MAX_LINE_BYTES = 64 * 1024;
/** How much of an event's data and metadata a log line keeps. */
const LINE_DATA = { string: 1000, items: 20, keys: 50, depth: 4 };
/** A Loki label name (Prometheus rules). */
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The tag a resolved incident's annotation gets. */
export const RESOLVED_TAG = 'resolved';

/**
 * The annotation for an event, from core's one reading of it: the title in bold, the text,
 * one line per fact, the lists, the recommendation, the links, and the event id. Every event
 * value is escaped: Grafana shows annotation text as (sanitised) HTML. With the attempt's
 * `incident`: a repeat says `Seen: N times since …`; a resolution is titled `Resolved: …`,
 * tagged `resolved`, and is a region from when the condition was first seen to its own time.
 */
export function formatAnnotation(
  event: EmpathyEvent,
  options: AnnotationOptions = {},
  incident?: IncidentContext,
): GrafanaAnnotation {
  return annotationOf(event, readEvent(event, incident), options, incident);
}

/**
 * What a {@link GrafanaWebhook} sends for `event`: the annotation when `annotation` options are
 * given, the Loki entry when `lokiLabels` are, both from one reading of the event (and of the
 * attempt's `incident`, when the event belongs to one).
 */
export function formatGrafanaPayload(
  event: EmpathyEvent,
  targets: { annotation?: AnnotationOptions | undefined; lokiLabels?: Record<string, string> | undefined },
  incident?: IncidentContext,
): GrafanaPayload {
  const summary = readEvent(event, incident);
  const payload: GrafanaPayload = {};
  if (targets.annotation) payload.annotation = annotationOf(event, summary, targets.annotation, incident);
  if (targets.lokiLabels) payload.loki = lokiEntryOf(event, summary, targets.lokiLabels, incident);
  return payload;
}

/** Core's reading, with when a resolved condition was first seen where core's `Seen` fact does not say. */
function readEvent(event: EmpathyEvent, incident: IncidentContext | undefined): EventSummary {
  const summary = summarizeEvent(event, incident);
  if (incident?.status === 'resolved' && summary.occurrences === undefined) {
    summary.facts.unshift({
      name: 'First seen',
      // Nothing counted (the state expired or was lost): core's firstSeenAt is only "now".
      value: incident.occurrences === 0 ? 'not on record' : utcMinute(incident.firstSeenAt),
    });
  }
  return summary;
}

function annotationOf(
  event: EmpathyEvent,
  summary: EventSummary,
  options: AnnotationOptions,
  incident: IncidentContext | undefined,
): GrafanaAnnotation {
  const lines = [`<b>${html(truncate(`${summary.emoji} ${summary.title}`, MAX_TITLE))}</b>`];
  if (summary.text !== undefined) lines.push(html(truncate(summary.text, MAX_TEXT)));
  for (const fact of summary.facts.slice(0, MAX_FIELDS)) {
    lines.push(`<b>${html(truncate(fact.name, MAX_TAG))}:</b> ${html(truncate(fact.value, MAX_FIELD))}`);
  }
  if (summary.facts.length > MAX_FIELDS) lines.push(`…and ${summary.facts.length - MAX_FIELDS} more fields`);
  for (const section of summary.sections) lines.push(sectionHtml(section));
  const next = summary.recommendation;
  if (next) lines.push(`<b>${html(next.label)}:</b> ${html(truncate(next.text, MAX_TEXT))}`);
  for (const link of summary.links) lines.push(`<a href="${html(link.url)}">${html(link.title)}</a>`);
  lines.push(`Event ${html(event.event_id)} · user ${html(truncate(oneLine(event.user_id), MAX_TAG))}`);
  const resolved = incident?.status === 'resolved';
  const annotation: GrafanaAnnotation = {
    time: eventTimeMs(event),
    tags: annotationTags(event, resolved ? [...(options.tags ?? []), RESOLVED_TAG] : (options.tags ?? [])),
    text: lines.join('<br>\n'),
  };
  if (resolved && incident.occurrences > 0) {
    // A region over the incident: from its first sighting to this resolution.
    const first = Date.parse(incident.firstSeenAt);
    if (first < annotation.time) {
      annotation.timeEnd = annotation.time;
      annotation.time = first;
    }
  }
  if (options.dashboardUid !== undefined) annotation.dashboardUID = options.dashboardUid;
  if (options.panelId !== undefined) annotation.panelId = options.panelId;
  return annotation;
}

function sectionHtml(section: SummarySection): string {
  const shown = section.items.slice(0, MAX_ITEMS);
  const items = shown.map(
    (item, i) => `${section.ordered ? `${i + 1}.` : '•'} ${html(truncate(item, MAX_ITEM))}`,
  );
  if (section.items.length > shown.length) items.push(`…and ${section.items.length - shown.length} more`);
  return [`<b>${html(section.heading)}</b>`, ...items].join('<br>\n');
}

/**
 * The Loki entry for an event: labels `event_type`, `severity` and `user_id` (plus the static
 * ones), the event's own time in nanoseconds, and a JSON line holding the event. The line and
 * timestamp depend on the event only, so a retried push is a duplicate Loki drops.
 */
export function formatLokiEntry(
  event: EmpathyEvent,
  staticLabels: Record<string, string> = {},
  incident?: IncidentContext,
): LokiEntry {
  return lokiEntryOf(event, readEvent(event, incident), staticLabels, incident);
}

function lokiEntryOf(
  event: EmpathyEvent,
  summary: EventSummary,
  staticLabels: Record<string, string>,
  incident: IncidentContext | undefined,
): LokiEntry {
  const labels = {
    ...staticLabels,
    event_type: event.event_type,
    severity: event.severity ?? 'unknown',
    user_id: truncate(oneLine(String(event.user_id)), MAX_LABEL_VALUE) || 'unknown',
  };
  const record: Record<string, unknown> = {
    // A resolution is good news whatever the condition's severity was.
    level: event.severity === undefined || incident?.status === 'resolved' ? 'info' : LEVELS[event.severity],
    msg: truncate(summary.title, MAX_TITLE),
    event_id: event.event_id,
    event_type: event.event_type,
    timestamp: event.timestamp,
    user_id: cleanText(String(event.user_id)),
    empathy_level: event.empathy_level,
  };
  if (event.severity !== undefined) record.severity = event.severity;
  if (event.classification !== undefined) record.classification = event.classification;
  if (incident !== undefined) {
    // Fields, not labels: an incident key is one stream per incident (Loki's cardinality limit),
    // and `| json` reads them as incident_key, incident_status, incident_occurrences.
    const about: Record<string, unknown> = {
      key: cleanText(incident.key),
      status: incident.status,
      occurrences: incident.occurrences,
    };
    // With nothing counted (state lost), core's firstSeenAt is only "now": left out.
    if (incident.occurrences > 0) about.first_seen_at = incident.firstSeenAt;
    record.incident = about;
  }
  record.data = boundedData(event.data, LINE_DATA);
  record.metadata = boundedData(event.metadata, LINE_DATA);
  // Cleaned before it is serialised: inside JSON a control character hides behind an escape.
  let line = JSON.stringify(record);
  if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
    record.data = { truncated: 'the event data was too large for one log line' };
    record.metadata = { framework_version: event.metadata.framework_version };
    line = JSON.stringify(record);
  }
  return { labels, timestamp: `${eventTimeMs(event)}000000`, line };
}

/**
 * Applies Grafana's limits to an annotation, such as one the `format` option returned: `time`
 * must be epoch ms; text cleaned by the one text policy and cut to {@link MAX_ANNOTATION_TEXT};
 * at most 25 tags of at most 100 characters, one line each, no repeats. Pure; throws when it
 * cannot be sent.
 */
export function fitAnnotation(annotation: GrafanaAnnotation): GrafanaAnnotation {
  if (annotation === null || typeof annotation !== 'object') throw new Error('annotation must be an object');
  if (typeof annotation.time !== 'number' || !Number.isFinite(annotation.time)) {
    throw new Error('annotation.time must be a time in epoch milliseconds');
  }
  if (
    annotation.timeEnd !== undefined &&
    (typeof annotation.timeEnd !== 'number' ||
      !Number.isFinite(annotation.timeEnd) ||
      annotation.timeEnd < annotation.time)
  ) {
    throw new Error('annotation.timeEnd must be a time in epoch milliseconds, not before annotation.time');
  }
  if (annotation.dashboardUID !== undefined && typeof annotation.dashboardUID !== 'string') {
    throw new Error('annotation.dashboardUID must be a string');
  }
  if (annotation.panelId !== undefined && !Number.isInteger(annotation.panelId)) {
    throw new Error('annotation.panelId must be an integer');
  }
  const tags: string[] = [];
  for (const tag of Array.isArray(annotation.tags) ? annotation.tags : []) {
    const one = truncate(oneLine(String(tag)), MAX_TAG);
    if (one !== '' && !tags.includes(one)) tags.push(one);
    if (tags.length === MAX_TAGS) break;
  }
  const text = truncate(cleanText(String(annotation.text ?? '')), MAX_ANNOTATION_TEXT);
  return { ...annotation, tags, text };
}

/**
 * Applies Loki's rules to a log line, such as one the `format` option returned: label names
 * Loki accepts (letters, digits and `_`, not starting with `__`) with one-line values of at most
 * 1024 characters; a nanosecond timestamp; the line cleaned by the one text policy (inside its
 * JSON too) and cut to {@link MAX_LINE_BYTES}. Pure; throws when it cannot be sent.
 */
export function fitLokiEntry(entry: LokiEntry): LokiEntry {
  if (entry === null || typeof entry !== 'object') throw new Error('loki must be an object');
  if (typeof entry.timestamp !== 'string' || !/^\d{1,19}$/.test(entry.timestamp)) {
    throw new Error('loki.timestamp must be Unix epoch nanoseconds as a decimal string');
  }
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(entry.labels ?? {})) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) {
      throw new Error(`loki.labels has an invalid label name '${truncate(oneLine(name), 60)}'`);
    }
    const one = truncate(oneLine(String(value)), MAX_LABEL_VALUE);
    if (one !== '') labels[name] = one;
  }
  if (Object.keys(labels).length === 0) throw new Error('loki.labels must hold at least one label');
  let line = cleanLine(String(entry.line ?? ''));
  let chars = line.length;
  while (Buffer.byteLength(line) > MAX_LINE_BYTES) {
    chars = Math.floor((chars * MAX_LINE_BYTES) / Buffer.byteLength(line)) - 1;
    line = truncate(line, chars);
  }
  return { ...entry, labels, line };
}

/** A JSON line cleaned inside (where a control character hides behind an escape), else as text. */
function cleanLine(line: string): string {
  const trimmed = line.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.stringify(boundedData(JSON.parse(trimmed)));
    } catch {
      // Not JSON: clean it as text.
    }
  }
  return cleanText(line);
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

/** `2026-12-03T14:02:09.120Z` as `2026-12-03 14:02 UTC` (what core's `Seen` fact shows). */
function utcMinute(iso: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(iso)
    ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`
    : truncate(oneLine(iso), 40);
}

function eventTimeMs(event: EmpathyEvent): number {
  const ms = Date.parse(event.timestamp);
  return Number.isNaN(ms) ? Date.now() : ms;
}

/** Escapes text for Grafana's HTML annotation text; line breaks become `<br>`. */
function html(text: string): string {
  return cleanText(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/\n/g, '<br>');
}
